package statuspage

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/vantageprobe/vantage/results"
)

const (
	// historyDays is the number of daily bars: today and the 89 before.
	historyDays = 90
	// chartHours is the span of the response-time chart, in hourly points.
	chartHours = 24
	// hourSlots is the ring of hourly aggregates kept per series: the
	// chart's 24 hours, and one more so that "today" is always covered.
	hourSlots = chartHours + 1
	day       = 24 * time.Hour
)

// seriesKey names one check × region.
type seriesKey struct{ check, region string }

// counts are probe counts.
type counts struct{ total, failed, degraded int64 }

func (c *counts) add(r results.Rollup) {
	c.total += r.Total
	c.failed += r.Failed
	c.degraded += r.Degraded
}

// hourSlot aggregates the minute rollups of one hour.
type hourSlot struct {
	start time.Time
	counts
	hist results.Histogram
}

func (h *hourSlot) add(r results.Rollup) {
	h.counts.add(r)
	h.hist.Merge(r.Hist)
}

// series is what the page keeps of one check × region: the completed days
// of the last 90 (from day rollups, reloaded now and then), the last hours
// (folded from minute rollups as they complete) and the newest minutes
// (re-read on every refresh, since results still arrive for them).
type series struct {
	days      [historyDays - 1]counts // completed days: days[i] is daysFrom + i days
	daysFrom  time.Time
	daysAt    time.Time // when days were read
	hours     [hourSlots]hourSlot
	sealed    time.Time        // minutes before this are in hours
	open      []results.Rollup // minutes from sealed on
	refreshed time.Time
}

// rollupCache keeps every public series in memory, so that a rebuild of
// the page reads only the minutes that changed: about one short query per
// series, instead of 24 hours of minute rollups and 90 day rollups each.
type rollupCache struct {
	src        results.RollupReader
	workers    int
	historyTTL time.Duration // completed days are reread this often
	lag        time.Duration // minutes this recent stay open (re-read)
	series     map[seriesKey]*series
}

// refresh brings every series of keys up to now and drops the others. It
// must not run concurrently with itself or with reads (the page's build
// lock serializes them). A series whose query fails keeps its old data;
// the errors are returned joined.
func (c *rollupCache) refresh(ctx context.Context, now time.Time, keys []seriesKey) error {
	next := make(map[seriesKey]*series, len(keys))
	for _, k := range keys {
		s := c.series[k]
		if s == nil {
			s = &series{}
		}
		next[k] = s
	}
	c.series = next
	work := make(chan seriesKey)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for range max(1, min(c.workers, len(keys))) {
		wg.Go(func() {
			for k := range work {
				if err := c.refreshOne(ctx, now, k, next[k]); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	for _, k := range keys {
		work <- k
	}
	close(work)
	wg.Wait()
	if len(errs) > 3 {
		errs = append(errs[:3], fmt.Errorf("and %d more", len(errs)-3))
	}
	return errors.Join(errs...)
}

// refreshOne updates one series: its completed days when they are for
// another day or older than historyTTL, its minutes since sealed.
func (c *rollupCache) refreshOne(ctx context.Context, now time.Time, k seriesKey, s *series) error {
	today := results.Day.BucketStart(now)
	if from := today.Add(-(historyDays - 1) * day); !s.daysFrom.Equal(from) || now.Sub(s.daysAt) >= c.historyTTL {
		rs, err := c.src.Rollups(ctx, results.RollupQuery{Check: k.check, Region: k.region, Res: results.Day, Since: from, Until: today})
		if err != nil {
			return fmt.Errorf("read day rollups of %s/%s: %w", k.check, k.region, err)
		}
		var days [historyDays - 1]counts
		for _, r := range rs {
			if i := int(r.Start.Sub(from) / day); i >= 0 && i < len(days) {
				days[i].add(r)
			}
		}
		s.days, s.daysFrom, s.daysAt = days, from, now
	}
	hour := now.Truncate(time.Hour)
	from := later(s.sealed, hour.Add(-(hourSlots-1)*time.Hour))
	rs, err := c.src.Rollups(ctx, results.RollupQuery{Check: k.check, Region: k.region, Res: results.Minute,
		Since: from, Until: results.Minute.BucketStart(now).Add(time.Minute)})
	if err != nil {
		return fmt.Errorf("read minute rollups of %s/%s: %w", k.check, k.region, err)
	}
	seal := later(s.sealed, results.Minute.BucketStart(now).Add(-c.lag))
	s.open = s.open[:0]
	for _, r := range rs {
		if r.Start.Before(seal) {
			s.slot(r.Start.Truncate(time.Hour)).add(r)
		} else {
			s.open = append(s.open, r)
		}
	}
	s.sealed, s.refreshed = seal, now
	return nil
}

// slot returns the ring slot of the hour starting at h, emptied when it
// held an older hour.
func (s *series) slot(h time.Time) *hourSlot {
	sl := &s.hours[int(h.Unix()/3600)%hourSlots]
	if !sl.start.Equal(h) {
		*sl = hourSlot{start: h}
	}
	return sl
}

// hour returns the aggregate of the hour starting at h: its folded slot
// and the open minutes in it.
func (s *series) hour(h time.Time) hourSlot {
	out := hourSlot{start: h}
	if sl := s.hours[int(h.Unix()/3600)%hourSlots]; sl.start.Equal(h) {
		out = sl
	}
	for _, r := range s.open {
		if !r.Start.Before(h) && r.Start.Before(h.Add(time.Hour)) {
			out.add(r)
		}
	}
	return out
}

// day returns the counts of day i of the 90 (0 = 89 days ago, 89 =
// today, which comes from the hours and open minutes since midnight).
func (s *series) day(i int, today time.Time) counts {
	if i < historyDays-1 {
		if !s.daysFrom.Equal(today.Add(-(historyDays - 1) * day)) {
			return counts{}
		}
		return s.days[i]
	}
	var c counts
	for _, sl := range s.hours {
		if !sl.start.Before(today) {
			c.total, c.failed, c.degraded = c.total+sl.total, c.failed+sl.failed, c.degraded+sl.degraded
		}
	}
	for _, r := range s.open {
		if !r.Start.Before(today) {
			c.add(r)
		}
	}
	return c
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
