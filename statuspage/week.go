package statuspage

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vantageprobe/vantage/results"
)

// weekHours is the span of the component page's second chart, in hourly
// points.
const weekHours = 7 * 24

// weekCache keeps the hourly p50 and p95 of the last 7 days of the
// components whose page was asked for. Seven days of minute rollups are
// too many to read for every component when the page starts (about 10,000
// rows per region), so a series is read on first use, then only its new
// minutes, at most once per rendering of the component's page. An hour
// keeps its two quantiles once complete, not its histogram.
type weekCache struct {
	src    results.RollupReader
	lag    time.Duration
	mu     sync.Mutex
	series map[seriesKey]*weekSeries
}

// weekSeries is one line pair of the chart: one region, or every region
// of a check merged (region "").
type weekSeries struct {
	used time.Time // guarded by the cache's mu

	mu     sync.Mutex
	q      [weekHours + 1]hourQ // completed hours, a ring
	cur    hourSlot             // the hour minutes are being folded into
	sealed time.Time
	open   []results.Rollup
	readAt time.Time
}

// hourQ is a completed hour's quantiles.
type hourQ struct {
	start    time.Time
	p50, p95 time.Duration
}

// quantiles returns the p50 and p95 of each of the 168 hours up to now's
// (oldest first; 0 = no data) of check in regions, merged when k.region is
// "".
func (w *weekCache) quantiles(ctx context.Context, k seriesKey, regions []string, now time.Time) (p50, p95 []time.Duration, err error) {
	ws := w.get(k, now)
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if err := ws.update(ctx, w.src, k.check, regions, now, w.lag); err != nil {
		return nil, nil, err
	}
	p50, p95 = make([]time.Duration, weekHours), make([]time.Duration, weekHours)
	last := now.Truncate(time.Hour)
	for i := range weekHours {
		p50[i], p95[i] = ws.at(last.Add(time.Duration(i-weekHours+1) * time.Hour))
	}
	return p50, p95, nil
}

// get returns the series of k, dropping series unused for 7 days (a
// region or check no longer shown).
func (w *weekCache) get(k seriesKey, now time.Time) *weekSeries {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.series == nil {
		w.series = map[seriesKey]*weekSeries{}
	}
	for key, ws := range w.series {
		if now.Sub(ws.used) > weekHours*time.Hour {
			delete(w.series, key)
		}
	}
	ws := w.series[k]
	if ws == nil {
		ws = &weekSeries{}
		w.series[k] = ws
	}
	ws.used = later(ws.used, now)
	return ws
}

// update reads the rollups since sealed (the whole 7 days the first time:
// hours, and the minutes of the last) and folds those older than lag.
func (ws *weekSeries) update(ctx context.Context, src results.RollupReader, check string, regions []string, now time.Time, lag time.Duration) error {
	if !now.After(ws.readAt) {
		return nil
	}
	from := later(ws.sealed, now.Truncate(time.Hour).Add(-(weekHours-1)*time.Hour))
	until := results.Minute.BucketStart(now).Add(time.Minute)
	seal := later(ws.sealed, results.Minute.BucketStart(now).Add(-lag))
	var rs []results.Rollup
	for _, r := range regions {
		part, err := readRollups(ctx, src, seriesKey{check: check, region: r}, from, until, seal, nil)
		if err != nil {
			return err
		}
		rs = append(rs, part...)
	}
	if len(regions) > 1 {
		slices.SortStableFunc(rs, func(a, b results.Rollup) int { return a.Start.Compare(b.Start) })
	}
	ws.open = ws.open[:0]
	for _, r := range rs {
		if !r.Start.Before(seal) {
			ws.open = append(ws.open, r)
			continue
		}
		if h := r.Start.Truncate(time.Hour); !ws.cur.start.Equal(h) {
			ws.complete()
			ws.cur = hourSlot{start: h}
		}
		ws.cur.add(r)
	}
	ws.sealed, ws.readAt = seal, now
	return nil
}

// complete keeps the quantiles of the current hour: every minute of it
// has been folded.
func (ws *weekSeries) complete() {
	if ws.cur.start.IsZero() {
		return
	}
	ws.q[weekIndex(ws.cur.start)] = hourQ{start: ws.cur.start, p50: ws.cur.hist.Quantile(0.5), p95: ws.cur.hist.Quantile(0.95)}
}

func weekIndex(h time.Time) int { return int(h.Unix()/3600) % (weekHours + 1) }

// at returns the quantiles of the hour starting at h.
func (ws *weekSeries) at(h time.Time) (p50, p95 time.Duration) {
	var sl hourSlot
	if ws.cur.start.Equal(h) {
		sl = ws.cur
	} else if q := ws.q[weekIndex(h)]; q.start.Equal(h) {
		return q.p50, q.p95 // a completed hour has no open minutes
	}
	for _, r := range ws.open {
		if !r.Start.Before(h) && r.Start.Before(h.Add(time.Hour)) {
			sl.add(r)
		}
	}
	return sl.hist.Quantile(0.5), sl.hist.Quantile(0.95)
}

// weekChart draws the component's last 7 days: p50 and p95 of each region
// (of all regions merged when regions are not shown or there is one).
func (p *Page) weekChart(ctx context.Context, c *component, now time.Time) chartView {
	type line struct {
		key     seriesKey
		regions []string
		class   string
	}
	var lines []line
	if p.cfg.Show.regions() && len(c.regions) > 1 {
		for i, r := range c.regions {
			lines = append(lines, line{seriesKey{c.name, r}, []string{r}, c.lines[i]})
		}
	} else if len(c.regions) > 0 {
		lines = []line{{seriesKey{c.name, ""}, c.regions, "l0"}}
	}
	series := make([]chartSeries, 0, len(lines))
	for _, l := range lines {
		p50, p95, err := p.week.quantiles(ctx, l.key, l.regions, now)
		if err != nil {
			p.log.Warn("status page week chart not read", "check", c.name, "err", err)
			return chartView{Empty: true, Span: weekSpan, Label: "Response time, last 7 days: not available"}
		}
		series = append(series, chartSeries{name: l.key.region, class: l.class, q: [2][]time.Duration{p50, p95}, p50: true, p95: true})
	}
	cv := buildChart(series, weekSpan)
	if !cv.Empty {
		cv.Label = weekLabel(series)
	}
	return cv
}

// weekLabel describes the 7-day chart in words: per line, the range of
// its hourly p50 and the highest hourly p95.
func weekLabel(series []chartSeries) string {
	var parts []string
	for _, s := range series {
		lo, hi, top := time.Duration(0), time.Duration(0), time.Duration(0)
		for h, v := range s.q[0] {
			if v > 0 && (lo == 0 || v < lo) {
				lo = v
			}
			hi, top = max(hi, v), max(top, s.q[1][h])
		}
		if hi == 0 {
			continue
		}
		part := "p50 " + msText(lo)
		if msText(hi) != msText(lo) {
			part += " to " + msText(hi)
		}
		part += ", p95 up to " + msText(top)
		if s.name != "" {
			part = s.name + " " + part
		}
		parts = append(parts, part)
	}
	return "Response time, last 7 days, hourly: " + strings.Join(parts, "; ")
}
