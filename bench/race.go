//go:build race

package bench

// raceBuild: this binary has the race detector, whose memory grows.
const raceBuild = true
