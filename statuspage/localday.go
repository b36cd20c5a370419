package statuspage

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/vantageprobe/vantage/results"
)

// The bars are calendar days in the page's time zone, but day rollups are
// UTC days. A local day [b0, b1) is counted exactly as
//
//	the UTC days from b0's to b1's  −  head(b0)  +  head(b1)
//
// where head(b) is the part of b's UTC day before b. A head comes from
// minute rollups: of the shorter side of b (at most 12 hours; the other
// side is the day rollup minus it), read once and again only when the day
// rollup of its UTC day changes (late results), or from the minutes the
// cache folds anyway, when b passes while the page runs. In UTC every
// local midnight is a UTC midnight and no head is read.

// localDays returns the local midnights of the 90 days, oldest first, and
// the next one (after now). A day across a DST change is 23 or 25 hours.
func localDays(now time.Time, loc *time.Location) [historyDays + 1]time.Time {
	y, m, d := now.In(loc).Date()
	var out [historyDays + 1]time.Time
	for i := range out {
		out[i] = time.Date(y, m, d+i-(historyDays-1), 0, 0, 0, 0, loc)
	}
	return out
}

// halfDay bounds the minutes read for one head.
const halfDay = 12 * time.Hour

// head is the part of a local midnight's UTC day before it.
type head struct {
	at time.Time
	c  counts
	// day is the UTC day's rollup when c was read or checked against it:
	// c is read again when the day rollup changes.
	day     counts
	checked bool // false: taken from the fold, not yet checked
}

// headAt returns the head of local midnight b.
func (s *series) headAt(b time.Time) (head, bool) {
	i, ok := slices.BinarySearchFunc(s.heads, b, func(h head, t time.Time) int { return h.at.Compare(t) })
	if !ok {
		return head{}, false
	}
	return s.heads[i], true
}

// setHead adds or replaces a head.
func (s *series) setHead(h head) {
	i, ok := slices.BinarySearchFunc(s.heads, h.at, func(h head, t time.Time) int { return h.at.Compare(t) })
	if ok {
		s.heads[i] = h
		return
	}
	s.heads = slices.Insert(s.heads, i, h)
}

// readHeads brings the heads of the local midnights in completed UTC days
// up to the day rollups just read: one unchanged since it was read is
// kept, one taken from a whole day's fold is accepted (catchUp made the
// fold agree with the day rollup), any other is read. Heads in today stay
// as the fold made them; heads of midnights no longer shown are dropped.
func (c *rollupCache) readHeads(ctx context.Context, k seriesKey, s *series, today time.Time, bounds []time.Time) error {
	keep := make([]head, 0, len(bounds))
	var failed error
	for _, b := range bounds {
		d := results.Day.BucketStart(b)
		if b.Equal(d) {
			continue
		}
		h, ok := s.headAt(b)
		j := int(d.Sub(s.daysFrom) / day)
		if !d.Before(today) || j < 0 || j >= historyDays {
			if ok {
				keep = append(keep, h)
			}
			continue
		}
		dayC := s.days[j]
		_, full := s.fullFold(d)
		switch {
		case ok && h.checked && h.day == dayC:
		case ok && !h.checked && full:
			h.day, h.checked = dayC, true
		case failed == nil:
			v, err := c.readHead(ctx, k, b, d, dayC)
			if err != nil {
				failed = err
				s.daysAt = time.Time{} // read again on the next refresh
				if !ok {
					continue
				}
				break
			}
			h, ok = head{at: b, c: v, day: dayC, checked: true}, true
		}
		if ok {
			keep = append(keep, h)
		}
	}
	s.heads = keep
	return failed
}

// readHead reads the part of UTC day d before local midnight b, from the
// shorter side of b. Once the minute rollups are gone (storage.retention.raw)
// it reads nothing: the local day then counts as the UTC day it overlaps
// most.
func (c *rollupCache) readHead(ctx context.Context, k seriesKey, b, d time.Time, dayC counts) (counts, error) {
	if dayC.total == 0 {
		return counts{}, nil
	}
	if b.Sub(d) <= halfDay {
		w, err := results.Window(ctx, c.src, k.check, k.region, d, b)
		if err != nil {
			return counts{}, fmt.Errorf("read head of %s/%s at %s: %w", k.check, k.region, b.UTC().Format(time.RFC3339), err)
		}
		return countsOf(w), nil
	}
	w, err := results.Window(ctx, c.src, k.check, k.region, b, d.Add(day))
	if err != nil {
		return counts{}, fmt.Errorf("read head of %s/%s at %s: %w", k.check, k.region, b.UTC().Format(time.RFC3339), err)
	}
	return dayC.minus(countsOf(w)).clamped(), nil
}

// upTo returns the probes from daysFrom up to x (x at most the last
// refresh, or any later time for everything read): the completed UTC days
// before x's, and the part of x's UTC day before x: its head, or for the
// current day the folded and open minutes before x.
func (s *series) upTo(x time.Time) counts { return s.upToIn(x, results.Day.BucketStart(x)) }

// upToIn is upTo with x's UTC day d.
func (s *series) upToIn(x, d time.Time) counts {
	if s.daysTo.IsZero() || d.Before(s.daysFrom) {
		return counts{}
	}
	if d.Before(s.daysTo) {
		c := s.cum[int(d.Sub(s.daysFrom)/day)]
		if x.After(d) {
			h, _ := s.headAt(x)
			c = c.plus(h.c)
		}
		return c
	}
	c := s.cum[historyDays]
	// Days completed since the day rollups were last read (a failed
	// read): their folded minutes.
	for dd := later(s.daysTo, d.Add(-2*day)); dd.Before(d); dd = dd.Add(day) {
		f, _ := s.fullFold(dd)
		c = c.plus(f).plus(s.openIn(dd, dd.Add(day)))
	}
	if !x.After(d) {
		return c
	}
	if h, ok := s.headAt(x); ok {
		return c.plus(h.c)
	}
	f, _ := s.fullFold(d)
	return c.plus(f).plus(s.openIn(d, x))
}
