package statuspage

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/vantageprobe/vantage/results"
)

// snapshot is everything the public endpoints show at one moment, built
// through visibility from one read of the Source. Responses are rendered
// from it on first use and kept with it.
type snapshot struct {
	built      time.Time
	gen        uint64
	layout     layoutView
	index      indexView
	components map[string]*component
	incidents  []pubIncident
	incViews   map[string]incidentView
	maint      []pubMaintenance
	banner     indicator
	anyKnown   bool

	mu       sync.Mutex
	rendered map[string]*rendering
}

// component is one public check in a snapshot.
type component struct {
	name    string
	group   string
	status  compStatus
	view    componentView
	days    []dayInfo              // oldest first; the component page's table is made from them
	uptime  map[string]uptimeValue // badge windows: 24h, 7d, 30d, 90d
	latency time.Duration          // p50 of the last 24 h, all regions; 0 = no data
	regions []string               // its regions, for the 7-day chart
	lines   []string               // their line classes
}

type uptimeValue struct {
	ratio         float64
	anyDown, data bool
}

// build reads the Source and computes a snapshot. Rollups come from the
// page's cache, refreshed first when older than the TTL or invalidated.
func (p *Page) build(ctx context.Context, now time.Time, gen uint64) (*snapshot, error) {
	states, err := p.src.States(ctx, p.vis.order)
	if err != nil {
		return nil, fmt.Errorf("read check states: %w", err)
	}
	keys := p.seriesKeys(states)
	if stale := p.stale.Swap(false); stale || p.refreshDue(now, keys) {
		err := p.cache.refresh(ctx, now, keys)
		p.cacheAt = now
		if err != nil { // stale bars beat no page: log and go on
			p.log.Warn("status page rollups not refreshed", "err", err)
		}
	}
	bounds := localDays(now, p.loc)
	from := bounds[0]
	ev, err := p.src.Events(ctx, from, now.Add(upcomingHorizon))
	if err != nil {
		return nil, fmt.Errorf("read incidents and maintenance: %w", err)
	}
	s := &snapshot{built: now, gen: gen, components: map[string]*component{}, rendered: map[string]*rendering{},
		incViews: map[string]incidentView{}}
	s.incidents = publicIncidents(p.vis, ev.Incidents, from, now)
	s.maint = publicMaintenance(p.vis, ev.Maintenance, from, now.Add(upcomingHorizon))
	s.layout = p.layoutView(now)
	for _, in := range s.incidents {
		s.incViews[in.id] = p.incidentView(in)
	}
	regionClass := lineClasses(states, p.vis.order)
	for _, g := range p.cfg.Groups {
		for _, name := range p.vis.checks(g.Checks) {
			if s.components[name] != nil {
				continue
			}
			st, known := states[name]
			c := p.component(s, name, st, known, now, &bounds, regionClass)
			c.group = g.Name
			s.components[name] = c
		}
	}
	s.index = p.indexView(s, now)
	return s, nil
}

// seriesKeys are the check × region series of the public checks.
func (p *Page) seriesKeys(states map[string]CheckState) []seriesKey {
	var keys []seriesKey
	seen := make(map[seriesKey]bool)
	for _, name := range p.vis.order {
		for _, r := range states[name].Regions {
			if k := (seriesKey{name, r.Region}); !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	return keys
}

// refreshDue reports whether the rollup cache is older than the TTL or
// holds other series than keys.
func (p *Page) refreshDue(now time.Time, keys []seriesKey) bool {
	if p.cache.series == nil || now.Sub(p.cacheAt) >= p.ttl || now.Before(p.cacheAt) || len(keys) != len(p.cache.series) {
		return true
	}
	for _, k := range keys {
		if p.cache.series[k] == nil {
			return true
		}
	}
	return false
}

// lineClasses gives each region a chart colour, the same on every
// component: l0 … l5 by the region's place among all regions.
func lineClasses(states map[string]CheckState, checks []string) map[string]string {
	var regions []string
	for _, name := range checks {
		for _, r := range states[name].Regions {
			if !slices.Contains(regions, r.Region) {
				regions = append(regions, r.Region)
			}
		}
	}
	slices.Sort(regions)
	out := make(map[string]string, len(regions))
	for i, r := range regions {
		out[r] = fmt.Sprintf("l%d", i%6)
	}
	return out
}

// component computes one public check's status, days, uptime and chart.
func (p *Page) component(s *snapshot, name string, st CheckState, known bool, now time.Time, bounds *[historyDays + 1]time.Time,
	regionClass map[string]string) *component {
	active := false
	for _, m := range s.maint {
		if m.status(now) == maintInProgress && slices.Contains(m.checks, name) {
			active = true
		}
	}
	c := &component{name: name, status: componentStatus(st, known, active), uptime: map[string]uptimeValue{}}
	ser := make([]*series, len(st.Regions)) // nil: not read yet
	for i, r := range st.Regions {
		ser[i] = p.cache.series[seriesKey{name, r.Region}]
	}
	days := p.days(s, name, st.Quorum, ser, now, bounds)
	c.view = componentView{
		Name: name, Href: p.href("/components/" + pathEscape(name)),
		Status: c.status.word(), Class: c.status.class(),
	}
	c.view.Bars = buildBars(days)
	c.view.Uptime, c.view.BarsText = uptimeTexts(days)
	c.days = days
	for _, w := range []struct {
		key  string
		days int
	}{{"7d", 7}, {"30d", 30}, {"90d", 90}} {
		ups := make([]dayUptime, 0, w.days)
		for _, d := range days[len(days)-w.days:] {
			ups = append(ups, d.uptime)
		}
		r, down, ok := uptimeRatio(ups)
		c.uptime[w.key] = uptimeValue{r, down, ok}
	}
	p.hours(c, st, ser, now, regionClass)
	return c
}

// days computes the 90 days of a component, oldest first: calendar days in
// the page's time zone, bounds their midnights.
func (p *Page) days(s *snapshot, name string, quorum int, ser []*series, now time.Time, bounds *[historyDays + 1]time.Time) []dayInfo {
	out := make([]dayInfo, historyDays)
	per := make([]counts, len(ser))
	// ups[j][i] is series j's probes up to the start of day i (the last
	// one: up to now).
	var ends, utcDays [historyDays + 1]time.Time
	for i, b := range bounds {
		ends[i] = earlier(b, now)
		utcDays[i] = results.Day.BucketStart(ends[i])
	}
	ups := make([][historyDays + 1]counts, len(ser))
	for j, sr := range ser {
		if sr == nil {
			continue
		}
		for i, x := range ends {
			ups[j][i] = sr.upToIn(x, utcDays[i])
		}
	}
	var incidents []pubIncident
	for _, in := range s.incidents {
		if in.affects(name) {
			incidents = append(incidents, in)
		}
	}
	var maint []pubMaintenance
	for _, m := range s.maint {
		if slices.Contains(m.checks, name) {
			maint = append(maint, m)
		}
	}
	for i := range out {
		start, end := bounds[i], earlier(bounds[i+1], now)
		for j := range ser {
			per[j] = ups[j][i+1].minus(ups[j][i]).clamped()
		}
		u := estimateDay(per, quorum, end.Sub(start).Minutes())
		if u.measured > 0 && len(maint) > 0 {
			u.maintenance = maintenanceMinutes(maint, name, start, end)
		}
		d := dayInfo{start: start, uptime: u}
		for _, in := range incidents {
			if in.overlaps(start, end) {
				d.incidents = append(d.incidents, linkView{Text: in.Title, Href: p.href("/incidents/" + in.id)})
			}
		}
		out[i] = d
	}
	return out
}

// hours fills in the chart, the per-region rows, the 24-hour uptime and
// the latency of a component from the hourly aggregates of its series.
func (p *Page) hours(c *component, st CheckState, ser []*series, now time.Time, regionClass map[string]string) {
	last := now.Truncate(time.Hour)
	showRT, showRegions := p.cfg.Show.responseTimes(), p.cfg.Show.regions()
	var all results.Histogram
	var mergedHours [chartHours]results.Histogram
	var regions []chartSeries
	per := make([]counts, 0, len(ser))
	for i, r := range st.Regions {
		c.regions, c.lines = append(c.regions, r.Region), append(c.lines, regionClass[r.Region])
		hours := make([]results.Histogram, chartHours)
		var day counts
		var hist results.Histogram
		if ser[i] != nil {
			for h := range chartHours {
				sl := ser[i].hour(last.Add(time.Duration(h-chartHours+1) * time.Hour))
				hours[h] = sl.hist
				mergedHours[h].Merge(sl.hist)
				hist.Merge(sl.hist)
				day.total, day.failed, day.degraded = day.total+sl.total, day.failed+sl.failed, day.degraded+sl.degraded
			}
		}
		all.Merge(hist)
		per = append(per, day)
		if !showRegions {
			continue
		}
		word, class := regionWord(r.State)
		rv := regionView{Name: r.Region, Status: word, Class: class, Line: regionClass[r.Region], Error: p.vis.errorText(r.Error)}
		if showRT {
			cs := chartSeries{name: r.Region, class: rv.Line}
			cs.quantiles(hours)
			regions = append(regions, cs)
			if hist.Count() > 0 {
				rv.P50, rv.P95 = msText(hist.Quantile(0.5)), msText(hist.Quantile(0.95))
			}
		}
		c.view.Regions = append(c.view.Regions, rv)
	}
	if showRT {
		// The component's page draws p50 and p95 of every region; the
		// index, to stay small, the p50 and p95 of all regions (each
		// region's are in the text beside it).
		merged := chartSeries{class: "l0", p50: true, p95: true}
		merged.quantiles(mergedHours[:])
		detail, index := []chartSeries{merged}, []chartSeries{merged}
		if len(regions) > 1 {
			detail = nil
			for _, cs := range regions {
				cs.p50, cs.p95 = true, true
				detail = append(detail, cs)
			}
		}
		c.view.Chart, c.view.DetailChart = buildChart(index, daySpan), buildChart(detail, daySpan)
		c.view.Chart.Label = chartLabel(c.view.Chart, all)
		c.view.DetailChart.Label = chartLabel(c.view.DetailChart, all)
		c.latency = all.Quantile(0.5)
	}
	r, down, ok := uptimeRatio([]dayUptime{estimateDay(per, st.Quorum, chartHours*60)})
	c.uptime["24h"] = uptimeValue{r, down, ok}
}

// chartLabel describes the chart in words.
func chartLabel(cv chartView, all results.Histogram) string {
	if cv.Empty {
		return cv.Label
	}
	// Per-region values are in the text next to the chart.
	s := "Response time, 24 h"
	if all.Count() > 0 {
		s += ": p50 " + msText(all.Quantile(0.5)) + ", p95 " + msText(all.Quantile(0.95))
	}
	return s
}

// uptimeTexts are the 90-day percentage and the bars' accessible summary.
func uptimeTexts(days []dayInfo) (pct, summary string) {
	ups := make([]dayUptime, len(days))
	var bad []string
	for i, d := range days {
		ups[i] = d.uptime
		if !d.plain() {
			bad = append(bad, dayLabel(d))
		}
	}
	r, down, ok := uptimeRatio(ups)
	if !ok {
		return "No data", "Uptime, last 90 days: no data."
	}
	pct = percent(r, down, false)
	summary = "90 days: " + pct + " uptime"
	switch {
	case len(bad) == 0:
		summary += ", no downtime or incidents."
	case len(bad) <= 2:
		for _, b := range bad {
			summary += "; " + b
		}
	default:
		summary += fmt.Sprintf("; %d days with downtime, incidents or maintenance", len(bad))
	}
	return pct, summary
}

// dayView is one row of a component's daily table.
func (p *Page) dayView(d dayInfo) dayView {
	v := dayView{Date: timeView{ISO: d.start.Format(time.DateOnly), Text: dateText(d.start)}, Class: barClass(d.uptime),
		Incidents: d.incidents}
	u := d.uptime
	if u.measured <= 0 {
		v.Uptime, v.Downtime = "No data", "–"
		return v
	}
	v.Uptime = percent(1-u.down()/u.measured, u.down() > 0, false)
	v.Downtime = "none"
	if u.down() > 0 {
		v.Downtime = minutesText(u.down())
	}
	switch {
	case u.maintenance > 0:
		v.Note = "Maintenance"
	case u.degraded > 0:
		v.Note = "Degraded performance"
	}
	return v
}
