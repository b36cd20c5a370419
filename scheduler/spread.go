package scheduler

import (
	"hash/fnv"
	"time"
)

// offset returns the job's deterministic phase within its interval: a hash
// of check and region, so that many checks with one interval spread evenly
// and a restart keeps every check on the same slots.
func offset(check, region string, interval time.Duration) time.Duration {
	h := fnv.New64a()
	h.Write([]byte(check))
	h.Write([]byte{0})
	h.Write([]byte(region))
	return time.Duration(h.Sum64() % uint64(interval))
}

// slotAtOrBefore returns the latest slot ≤ t: slots are the instants
// k·interval + off after the Unix epoch.
func slotAtOrBefore(t time.Time, interval, off time.Duration) time.Duration {
	n := t.UnixNano() - int64(off)
	k := n / int64(interval)
	if n < 0 && n%int64(interval) != 0 {
		k--
	}
	return time.Duration(k*int64(interval)) + off
}

// nextSlot returns the first slot strictly after t.
func nextSlot(t time.Time, interval, off time.Duration) time.Time {
	return time.Unix(0, int64(slotAtOrBefore(t, interval, off)+interval))
}

// plannedSlot returns the slot a run starting at t belongs to.
func plannedSlot(t time.Time, interval, off time.Duration) time.Time {
	return time.Unix(0, int64(slotAtOrBefore(t, interval, off)))
}

// Slot returns the planned start of the run of check × region (every
// interval) that a run starting at t belongs to: the latest slot ≤ t.
// t minus Slot is the run's scheduling lag; `vantage bench` computes it
// from the stored results' start times.
func Slot(check, region string, interval time.Duration, t time.Time) time.Time {
	return plannedSlot(t, interval, offset(check, region, interval))
}
