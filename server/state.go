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

// fresh reports whether rec is recent enough to speak for the check: with
// nothing for three intervals, the region (its agent) counts as offline.
func fresh(c config.Check, rec results.Record, now time.Time) bool {
	return now.Sub(rec.Started) <= 3*c.Interval
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

// checkState combines the latest result of each of the check's regions:
// unknown without fresh data; down when at least quorum regions fail;
// degraded when some fail (fewer than quorum) or one is degraded; else up.
// A region without a fresh result is offline and does not count as failing.
func checkState(c config.Check, latest []results.Record, now time.Time) string {
	var n, down, degraded int
	for _, rec := range latest {
		if !c.InRegion(rec.Region) || !fresh(c, rec, now) {
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
	case down >= c.Quorum:
		return StateDown
	case down > 0 || degraded > 0:
		return StateDegraded
	}
	return StateUp
}
