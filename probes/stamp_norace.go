//go:build linux && !race

package probes

func raceAcquire(uintptr) {}
