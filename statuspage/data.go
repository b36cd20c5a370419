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
	// chart's 24 hours, and one more so that the UTC day so far is always
	// covered.
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

func (c counts) plus(o counts) counts {
	return counts{c.total + o.total, c.failed + o.failed, c.degraded + o.degraded}
}

func (c counts) minus(o counts) counts {
	return counts{c.total - o.total, c.failed - o.failed, c.degraded - o.degraded}
}

// exceeds reports whether c holds probes o does not: c was read before o
// from the same growing data, so o missed results that arrived late.
func (c counts) exceeds(o counts) bool {
	return c.total > o.total || c.failed > o.failed || c.degraded > o.degraded
}

// clamped is c with no negative count and no more failed or degraded
// probes than probes: a difference of counts read at different moments
// may be off by the results that arrived in between.
func (c counts) clamped() counts {
	c.total = max(0, c.total)
	c.failed = min(max(0, c.failed), c.total)
	c.degraded = min(max(0, c.degraded), c.total)
	return c
}

func countsOf(r results.Rollup) counts { return counts{r.Total, r.Failed, r.Degraded} }

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

// series is what the page keeps of one check × region:
//   - the completed UTC days of the last 90 (day rollups, read again every
//     HistoryTTL and at midnight UTC), with their prefix sums;
//   - heads: for each local midnight of the 90 days that is not a UTC
//     midnight, the counts from its UTC midnight up to it, so that a local
//     day is days plus and minus two heads (localday.go);
//   - the minutes folded as they complete: into hourly slots for the chart
//     and into per-UTC-day sums (folds), which give the heads of the new
//     local midnights without reading anything and show late results;
//   - the newest minutes (open: re-read on every refresh, since results
//     still arrive for them).
type series struct {
	days      [historyDays]counts // completed UTC days: days[i] is daysFrom + i days, up to daysTo
	cum       [historyDays + 1]counts
	daysFrom  time.Time
	daysTo    time.Time // UTC midnight of the day the days were read: the first day not in days
	daysAt    time.Time // when they were read
	heads     []head    // by time
	folds     []dayFold // the UTC days minutes were lately folded into, oldest first
	foldStart time.Time // the first minute ever folded
	hours     [hourSlots]hourSlot
	sealed    time.Time        // minutes before this are folded
	open      []results.Rollup // minutes from sealed on
	refreshed time.Time
}

// dayFold sums the folded minutes of one UTC day.
type dayFold struct {
	start time.Time
	c     counts
	full  bool // every minute of the day was folded (not only those since foldStart)
}

// rollupCache keeps every public series in memory, so that a rebuild of
// the page reads only the minutes that changed: about one short query per
// series, instead of 24 hours of minute rollups and 90 day rollups each.
type rollupCache struct {
	src        results.RollupReader
	loc        *time.Location // the page's time zone: its days are the bars
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
	bounds := localDays(now, c.location())
	work := make(chan seriesKey)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for range max(1, min(c.workers, len(keys))) {
		wg.Go(func() {
			for k := range work {
				if err := c.refreshOne(ctx, now, k, next[k], bounds[:historyDays]); err != nil {
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

func (c *rollupCache) location() *time.Location {
	if c.loc == nil {
		return time.UTC
	}
	return c.loc
}

// refreshOne updates one series: its completed days when they are for
// another day or older than historyTTL, then its minutes since sealed;
// with new days it also catches up with late results and rereads the
// heads whose UTC day changed. bounds are the local midnights of the 90
// days.
func (c *rollupCache) refreshOne(ctx context.Context, now time.Time, k seriesKey, s *series, bounds []time.Time) error {
	today := results.Day.BucketStart(now)
	ringStart := now.Truncate(time.Hour).Add(-(hourSlots - 1) * time.Hour)
	// The first read, or the first after more than a day without one
	// (refreshes follow visitors): fold anew from the ring's start.
	restart := s.sealed.Before(ringStart)
	var todayDay counts
	reread := !s.daysTo.Equal(today) || now.Sub(s.daysAt) >= c.historyTTL || now.Before(s.daysAt)
	if reread {
		// Today's rollup comes along, read before the minutes: what it
		// has and the minutes lack arrived late.
		from := today.Add(-historyDays * day)
		rs, err := c.src.Rollups(ctx, results.RollupQuery{Check: k.check, Region: k.region, Res: results.Day, Since: from, Until: today.Add(day)})
		if err != nil {
			return fmt.Errorf("read day rollups of %s/%s: %w", k.check, k.region, err)
		}
		var days [historyDays]counts
		for _, r := range rs {
			if r.Start.Equal(today) {
				todayDay = countsOf(r)
			} else if i := int(r.Start.Sub(from) / day); i >= 0 && i < len(days) {
				days[i].add(r)
			}
		}
		s.days, s.daysFrom, s.daysTo, s.daysAt = days, from, today, now
		for i, d := range s.days {
			s.cum[i+1] = s.cum[i].plus(d)
		}
	}
	from := later(s.sealed, ringStart)
	seal := later(s.sealed, results.Minute.BucketStart(now).Add(-c.lag))
	rs, err := readRollups(ctx, c.src, k, from, results.Minute.BucketStart(now).Add(time.Minute), seal, bounds)
	if err != nil {
		if reread {
			s.daysAt = time.Time{} // the heads were not brought up to the days: next time
		}
		return err
	}
	if restart {
		s.folds, s.foldStart = nil, from
	}
	s.open = s.open[:0]
	s.fold(rs, bounds, s.sealed, seal, ringStart)
	s.sealed, s.refreshed = seal, now
	if reread {
		if !restart { // what was just read has nothing late
			if err := c.catchUp(ctx, k, s, today, todayDay, bounds, ringStart); err != nil {
				s.daysAt = time.Time{}
				return err
			}
		}
		if err := c.readHeads(ctx, k, s, today, bounds); err != nil {
			return err
		}
	}
	for len(s.folds) > 0 && s.folds[0].start.Before(today.Add(-day)) {
		s.folds = s.folds[1:]
	}
	return nil
}

// fold adds the minutes of rs before seal to their UTC day and hourly
// slot, and keeps the others open. On the way it records the head of
// every local midnight in (prevSeal, seal]: the day's sum just before
// the first minute at or after it.
func (s *series) fold(rs []results.Rollup, bounds []time.Time, prevSeal, seal, ringStart time.Time) {
	i := 0
	for i < len(bounds) && !bounds[i].After(prevSeal) {
		i++
	}
	var f *dayFold // the fold of the UTC day [f.start, fEnd)
	var fEnd time.Time
	for _, r := range rs {
		if !r.Start.Before(seal) {
			s.open = append(s.open, r)
			continue
		}
		for ; i < len(bounds) && !bounds[i].After(r.Start); i++ {
			s.capture(bounds[i])
			f = nil // capture may have moved the folds
		}
		if f == nil || !r.Start.Before(fEnd) || r.Start.Before(f.start) {
			f = s.foldOf(results.Day.BucketStart(r.Start))
			fEnd = f.start.Add(day)
		}
		f.c.add(r)
		if !r.Start.Before(ringStart) {
			s.slot(r.Start.Truncate(time.Hour)).add(r)
		}
	}
	for ; i < len(bounds) && !bounds[i].After(seal); i++ {
		s.capture(bounds[i])
	}
}

// capture records the head of local midnight b from its UTC day's fold,
// when every minute of that day before b was folded.
func (s *series) capture(b time.Time) {
	d := results.Day.BucketStart(b)
	if b.Equal(d) {
		return
	}
	if f := s.foldOf(d); f.full {
		s.setHead(head{at: b, c: f.c})
	}
}

// foldOf returns the fold of the UTC day d, adding it when missing.
func (s *series) foldOf(d time.Time) *dayFold {
	for i := len(s.folds) - 1; i >= 0; i-- {
		if s.folds[i].start.Equal(d) {
			return &s.folds[i]
		}
	}
	f := dayFold{start: d, full: !d.Before(s.foldStart)}
	i := len(s.folds)
	for i > 0 && s.folds[i-1].start.After(d) {
		i--
	}
	s.folds = append(s.folds, dayFold{})
	copy(s.folds[i+1:], s.folds[i:])
	s.folds[i] = f
	return &s.folds[i]
}

// fullFold returns the fold of the UTC day d when it holds the whole day.
func (s *series) fullFold(d time.Time) (counts, bool) {
	for _, f := range s.folds {
		if f.start.Equal(d) {
			return f.c, f.full
		}
	}
	return counts{}, false
}

// openIn sums the open minutes in [from, to).
func (s *series) openIn(from, to time.Time) counts {
	var c counts
	for _, r := range s.open {
		if !r.Start.Before(from) && r.Start.Before(to) {
			c.add(r)
		}
	}
	return c
}

// slot returns the ring slot of the hour starting at h, emptied when it
// held an older hour.
func (s *series) slot(h time.Time) *hourSlot {
	sl := &s.hours[hourIndex(h)]
	if !sl.start.Equal(h) {
		*sl = hourSlot{start: h}
	}
	return sl
}

func hourIndex(h time.Time) int { return int(h.Unix()/3600) % hourSlots }

// hour returns the aggregate of the hour starting at h: its folded slot
// and the open minutes in it.
func (s *series) hour(h time.Time) hourSlot {
	out := hourSlot{start: h}
	if sl := s.hours[hourIndex(h)]; sl.start.Equal(h) {
		out = sl
	}
	for _, r := range s.open {
		if !r.Start.Before(h) && r.Start.Before(h.Add(time.Hour)) {
			out.add(r)
		}
	}
	return out
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

// readRollups reads the rollups of k over [from, until) for folding: the
// whole hours before seal from hour rollups (24 rows a day instead of
// 1,440), except an hour holding one of bounds (local midnights, sorted)
// off the hour, whose head needs its minutes; the rest from minute
// rollups. Oldest first.
func readRollups(ctx context.Context, src results.RollupReader, k seriesKey, from, until, seal time.Time, bounds []time.Time) ([]results.Rollup, error) {
	var qs []results.RollupQuery
	add := func(res results.Resolution, a, b time.Time) {
		if a.Before(b) {
			qs = append(qs, results.RollupQuery{Check: k.check, Region: k.region, Res: res, Since: a, Until: b})
		}
	}
	first := results.Hour.BucketStart(from)
	if first.Before(from) {
		first = first.Add(time.Hour)
	}
	last := results.Hour.BucketStart(seal)
	if until.Before(seal) {
		last = results.Hour.BucketStart(until)
	}
	if !first.Before(last) {
		add(results.Minute, from, until)
	} else {
		add(results.Minute, from, first)
		start := first
		for _, b := range bounds {
			h := results.Hour.BucketStart(b)
			if h.Equal(b) || h.Before(start) || !h.Before(last) {
				continue
			}
			add(results.Hour, start, h)
			add(results.Minute, h, h.Add(time.Hour))
			start = h.Add(time.Hour)
		}
		add(results.Hour, start, last)
		add(results.Minute, last, until)
	}
	var out []results.Rollup
	for _, q := range qs {
		rs, err := src.Rollups(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("read rollups of %s/%s: %w", k.check, k.region, err)
		}
		out = append(out, rs...)
	}
	return out, nil
}
