package statuspage

import (
	"context"
	"fmt"
	"time"

	"github.com/vantageprobe/vantage/results"
)

// catchUp compares the day rollups just read with the minutes folded into
// the same UTC days (today and yesterday). A day rollup with more probes
// means results arrived after their minutes were folded (an agent's spool
// replayed late): that day's minutes are folded again, so that the chart,
// the hourly uptime and the heads include them.
func (c *rollupCache) catchUp(ctx context.Context, k seriesKey, s *series, today time.Time, todayDay counts, bounds []time.Time, ringStart time.Time) error {
	for i := 0; i < len(s.folds); i++ {
		f := s.folds[i]
		dayC := todayDay
		if f.start.Before(today) {
			j := int(f.start.Sub(s.daysFrom) / day)
			if j < 0 || j >= historyDays {
				continue
			}
			dayC = s.days[j]
		}
		if !f.full || !dayC.exceeds(f.c.plus(s.openIn(f.start, f.start.Add(day)))) {
			continue
		}
		if err := c.refold(ctx, k, s, f.start, bounds, ringStart); err != nil {
			return err
		}
	}
	return nil
}

// refold reads the sealed minutes of the UTC day d again and replaces its
// fold, its hourly slots and the heads in it.
func (c *rollupCache) refold(ctx context.Context, k seriesKey, s *series, d time.Time, bounds []time.Time, ringStart time.Time) error {
	end := earlier(d.Add(day), s.sealed)
	rs, err := c.src.Rollups(ctx, results.RollupQuery{Check: k.check, Region: k.region, Res: results.Minute, Since: d, Until: end})
	if err != nil {
		return fmt.Errorf("read minute rollups of %s/%s: %w", k.check, k.region, err)
	}
	*s.foldOf(d) = dayFold{start: d, full: true}
	for h := later(d, ringStart); h.Before(end); h = h.Add(time.Hour) {
		s.hours[hourIndex(h)] = hourSlot{start: h}
	}
	var in []time.Time
	for _, b := range bounds {
		if b.After(d) && b.Before(d.Add(day)) {
			in = append(in, b)
		}
	}
	s.fold(rs, in, d, end, ringStart) // every minute of rs is before end: none is kept open
	return nil
}
