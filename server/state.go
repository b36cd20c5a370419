package server

import (
	"time"

	"github.com/vantageprobe/vantage/config"
	"github.com/vantageprobe/vantage/results"
)

// Check states.
const (
	StateUp       = "up"
	StateDegraded = "degraded"
	StateDown     = "down"
	StateUnknown  = "unknown"
)

// fresh reports whether rec is recent enough to speak for the check: a
// result older than two intervals plus the timeout means probes stopped.
func fresh(c config.Check, rec results.Record, now time.Time) bool {
	return now.Sub(rec.Started) <= 2*c.Interval+c.Timeout
}

// recordState is the state one result shows.
func recordState(rec results.Record) string {
	switch {
	case !rec.OK:
		return StateDown
	case rec.Degraded:
		return StateDegraded
	}
	return StateUp
}

// checkState combines the latest result of each region: unknown without
// fresh data, down when a majority of the fresh regions fail, degraded when
// some (but not a majority) fail or any is degraded, else up.
func checkState(c config.Check, latest []results.Record, now time.Time) string {
	var n, down, degraded int
	for _, rec := range latest {
		if !fresh(c, rec, now) {
			continue
		}
		n++
		switch recordState(rec) {
		case StateDown:
			down++
		case StateDegraded:
			degraded++
		}
	}
	switch {
	case n == 0:
		return StateUnknown
	case down*2 > n || (down > 0 && n == 1):
		return StateDown
	case down > 0 || degraded > 0:
		return StateDegraded
	}
	return StateUp
}
