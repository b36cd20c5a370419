//go:build linux && race

package probes

import "syscall"

// raceAcquire tells the race detector what a read of fd means: it follows
// the writes to the other end, as syscall.Read says (Recvmsg does not), so
// that what a peer did before writing is ordered before what the reader
// does after reading. A zero-byte read; race builds only.
func raceAcquire(fd uintptr) { _, _ = syscall.Read(int(fd), nil) }
