package server

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"

	"github.com/vantageprobe/vantage/config"
	"github.com/vantageprobe/vantage/probes"
	"github.com/vantageprobe/vantage/results"
)

// durationBuckets are the classic buckets of vantage_probe_duration_seconds.
var durationBuckets = [...]float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// series is everything /metrics shows about one check × region: the
// newest result (its detail decoded once, when it is recorded, not at
// every scrape) and the counts since start-up.
type series struct {
	rec       results.Record
	detail    probes.ReportDetail
	hasResult bool
	// labels are the escaped `check="…",region="…"` pairs, and typed the
	// same with `,type="…"`, built once for the text exposition.
	labels, typed string
	ok, fail      uint64
	buckets       [len(durationBuckets)]uint64 // not cumulative
	sum           float64
	native        nativeHist // the same durations, for the protobuf exposition
	created       time.Time  // when the series began counting
}

// seriesTable holds the series of every check × region seen.
type seriesTable struct {
	mu sync.RWMutex
	m  map[[2]string]*series
}

// entry returns the series of check × region, creating it; mu is held.
func (t *seriesTable) entry(check, region string) *series {
	k := [2]string{check, region}
	if e, ok := t.m[k]; ok {
		return e
	}
	if t.m == nil {
		t.m = map[[2]string]*series{}
	}
	e := &series{labels: `check="` + escapeLabel(check) + `",region="` + escapeLabel(region) + `"`, created: time.Now()}
	e.typed = e.labels
	t.m[k] = e
	return e
}

// put makes rec the newest result of its check × region unless a newer one
// is there; counted also adds it to the counters and the histogram. known
// is rec's detail when the caller has it typed (nil: decoded from
// rec.Detail).
func (t *seriesTable) put(rec results.Record, known *probes.ReportDetail, counted bool) {
	var detail probes.ReportDetail
	switch {
	case known != nil:
		detail = *known
	case len(rec.Detail) > 0:
		_ = json.Unmarshal(rec.Detail, &detail) // written by FromResult; a damaged blob just has no detail
	}
	rec.Detail, rec.Screenshot = nil, nil
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.entry(rec.Check, rec.Region)
	if !e.hasResult || !rec.Started.Before(e.rec.Started) {
		if !e.hasResult || e.rec.Kind != rec.Kind {
			e.typed = e.labels + `,type="` + escapeLabel(string(rec.Kind)) + `"`
		}
		e.rec, e.detail, e.hasResult = rec, detail, true
	}
	if counted {
		e.count(rec.OK, rec.Duration.Seconds())
	}
}

// count adds one result of d seconds to the counters and histograms.
func (e *series) count(ok bool, d float64) {
	if ok {
		e.ok++
	} else {
		e.fail++
	}
	e.sum += d
	for i, le := range durationBuckets {
		if d <= le {
			e.buckets[i]++
			break
		}
	}
	e.native.observe(d)
}

// get returns a copy of the newest result of check × region.
func (t *seriesTable) get(check, region string) (series, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	e, ok := t.m[[2]string{check, region}]
	if !ok || !e.hasResult {
		return series{}, false
	}
	return *e, true
}

// retain drops the series of every check × region cfg no longer probes
// and returns them.
func (t *seriesTable) retain(cfg *config.Config) [][2]string {
	keep := map[[2]string]bool{}
	for _, c := range cfg.Checks {
		for _, r := range c.Regions {
			keep[[2]string{c.Name, r}] = true
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var gone [][2]string
	for k := range t.m {
		if !keep[k] {
			gone = append(gone, k)
			delete(t.m, k)
		}
	}
	return gone
}

// escapeLabel escapes a label value for the text exposition format.
func escapeLabel(v string) string {
	if !strings.ContainsAny(v, "\\\"\n") {
		return v
	}
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(v)
}

// uptimeWindows are the windows of vantage_check_uptime_ratio.
var uptimeWindows = []struct {
	name string
	d    time.Duration
}{{"24h", 24 * time.Hour}, {"7d", 7 * 24 * time.Hour}, {"30d", 30 * 24 * time.Hour}}

// uptimeCache holds every check's uptime per window, recomputed from
// rollups in the background rather than at every scrape.
type uptimeCache struct {
	mu sync.RWMutex
	m  map[string]map[string]float64 // check → window → ratio
}

// refreshUptimes recomputes the uptime of every configured check.
func (s *Server) refreshUptimes(ctx context.Context) error {
	now := time.Now()
	fresh := map[string]map[string]float64{}
	for _, c := range s.checks.Load().cfg.Checks {
		for _, w := range uptimeWindows {
			agg, err := results.Window(ctx, s.store, c.Name, "", now.Add(-w.d), now.Add(time.Minute))
			if err != nil {
				return err
			}
			if up, ok := results.Uptime([]results.Rollup{agg}); ok {
				if fresh[c.Name] == nil {
					fresh[c.Name] = map[string]float64{}
				}
				fresh[c.Name][w.name] = up
			}
		}
	}
	s.uptimes.mu.Lock()
	s.uptimes.m = fresh
	s.uptimes.mu.Unlock()
	return nil
}

// uptimeLoop refreshes the uptimes every interval until ctx ends.
func (s *Server) uptimeLoop(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := s.refreshUptimes(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("uptime metrics not refreshed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// metrics are the server's series on two registries: core holds the few
// process-wide series (Go, process, store, scheduler, agents), checks the
// per-check ones. The text exposition writes the per-check series itself
// (see exposition.go); the protobuf one, which carries native histograms,
// gathers both registries. Both read the per-check series from the series
// table, native histograms included (nativehist.go).
type metrics struct {
	core, checks *prometheus.Registry
	// alerts holds the alert engine's series; a reload builds a new engine
	// and with it a new registry.
	alerts atomic.Pointer[prometheus.Registry]
}

func newMetrics(core *prometheus.Registry, s *Server) *metrics {
	m := &metrics{core: core, checks: prometheus.NewRegistry()}
	core.MustRegister(&serverCollector{s: s},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.checks.MustRegister(&checkCollector{s: s})
	return m
}

// alertRegistry returns a fresh registry for a new alert engine's series,
// replacing the previous engine's.
func (m *metrics) alertRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	m.alerts.Store(reg)
	return reg
}

// gatherAlerts gathers the alert engine's series (none before it starts).
func (m *metrics) gatherAlerts() ([]*dto.MetricFamily, error) {
	if reg := m.alerts.Load(); reg != nil {
		return reg.Gather()
	}
	return nil, nil
}

// descDuration is vantage_probe_duration_seconds{check,region}.
var descDuration = prometheus.NewDesc("vantage_probe_duration_seconds", "Duration of every recorded probe.", []string{"check", "region"}, nil)

// Process-wide series of the server.
var (
	descLastSeen     = prometheus.NewDesc("vantage_agent_last_seen_timestamp_seconds", "When the region's agent last talked to the server.", []string{"region"}, nil)
	descSpool        = prometheus.NewDesc("vantage_agent_spool_depth", "Results the region's agent holds in its spool.", []string{"region"}, nil)
	descSched        = prometheus.NewDesc("vantage_scheduler_lag_max_seconds", "Largest delay between a planned and an actual probe start.", nil, nil)
	descOverruns     = prometheus.NewDesc("vantage_scheduler_overruns_total", "Probe runs skipped because the previous one still ran or no slot was free.", nil, nil)
	descSchedErrors  = prometheus.NewDesc("vantage_scheduler_errors_total", "Probe runs that could not run (the prober failed, as when Chromium crashed) or whose result could not be recorded; no result is stored for them.", nil, nil)
	descRateLimited  = prometheus.NewDesc("vantage_http_requests_limited_total", "Requests to the public listener refused with 429 by server.rate_limit.", nil, nil)
	descTraced       = prometheus.NewDesc("vantage_trace_records_total", "Results queued for span export, by exporter (otlp, zipkin).", []string{"exporter"}, nil)
	descTraceDrop    = prometheus.NewDesc("vantage_trace_records_dropped_total", "Results not exported because the exporter's queue was full.", []string{"exporter"}, nil)
	descSLOObjective = prometheus.NewDesc("vantage_slo_objective_ratio", "The check's SLO objective as a ratio (0.999 for 99.9%).", []string{"check"}, nil)
	descSLOSLI       = prometheus.NewDesc("vantage_slo_sli_ratio", "Good events over all events in the SLO window.", []string{"check"}, nil)
	descSLOBudget    = prometheus.NewDesc("vantage_slo_error_budget_remaining_ratio", "Error budget left in the SLO window: 1 untouched, 0 spent, negative when overspent.", []string{"check"}, nil)
	descSLOBurn      = prometheus.NewDesc("vantage_slo_burn_rate", "Error ratio over the window divided by the error budget (1 spends the budget exactly in the SLO window).", []string{"check", "window"}, nil)
	descTraceFail    = prometheus.NewDesc("vantage_trace_spans_failed_total", "Spans the collector did not accept.", []string{"exporter"}, nil)
)

// serverCollector reports the scheduler and the agents at scrape time.
type serverCollector struct{ s *Server }

func (c *serverCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descLastSeen, descSpool, descSched, descOverruns, descSchedErrors, descRateLimited, descTraced, descTraceDrop, descTraceFail,
		descSLOObjective, descSLOSLI, descSLOBudget, descSLOBurn} {
		ch <- d
	}
}

func (c *serverCollector) Collect(ch chan<- prometheus.Metric) {
	for _, reg := range c.s.checks.Load().cfg.Regions {
		if st, ok := c.s.agents.get(reg.Name); ok {
			ch <- prometheus.MustNewConstMetric(descLastSeen, prometheus.GaugeValue, float64(st.LastSeen.UnixMilli())/1000, reg.Name)
			ch <- prometheus.MustNewConstMetric(descSpool, prometheus.GaugeValue, float64(st.SpoolDepth), reg.Name)
		}
	}
	sst := c.s.sched.Stats()
	ch <- prometheus.MustNewConstMetric(descSched, prometheus.GaugeValue, sst.MaxLag.Seconds())
	ch <- prometheus.MustNewConstMetric(descOverruns, prometheus.CounterValue, float64(sst.Overruns))
	ch <- prometheus.MustNewConstMetric(descSchedErrors, prometheus.CounterValue, float64(sst.Errors))
	ch <- prometheus.MustNewConstMetric(descRateLimited, prometheus.CounterValue, float64(c.s.limits.limited.Load()))
	for check, st := range c.s.slos.all() {
		ch <- prometheus.MustNewConstMetric(descSLOObjective, prometheus.GaugeValue, st.Spec.Objective.Fraction(), check)
		ch <- prometheus.MustNewConstMetric(descSLOSLI, prometheus.GaugeValue, st.SLI, check)
		ch <- prometheus.MustNewConstMetric(descSLOBudget, prometheus.GaugeValue, st.BudgetRemaining, check)
		for w, ws := range st.Windows {
			ch <- prometheus.MustNewConstMetric(descSLOBurn, prometheus.GaugeValue, ws.BurnRate, check, w)
		}
	}
	for name, st := range c.s.tracer.Load().Stats() {
		ch <- prometheus.MustNewConstMetric(descTraced, prometheus.CounterValue, float64(st.Queued), name)
		ch <- prometheus.MustNewConstMetric(descTraceDrop, prometheus.CounterValue, float64(st.Dropped), name)
		ch <- prometheus.MustNewConstMetric(descTraceFail, prometheus.CounterValue, float64(st.FailedSpans), name)
	}
}

// checkCollector turns the series table into the per-check families for
// the protobuf exposition; it iterates the configured checks, so a removed
// check or region has no series.
type checkCollector struct{ s *Server }

func (c *checkCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, f := range resultFamilies {
		ch <- f.desc
	}
	for _, f := range checkFamilies {
		ch <- f.desc
	}
	ch <- descProbes
	ch <- descDuration
}

func (c *checkCollector) Collect(ch chan<- prometheus.Metric) {
	cs := c.s.checks.Load()
	view := c.s.view(time.Now())
	t := &c.s.series
	t.mu.RLock()
	defer t.mu.RUnlock()
	for _, chk := range cs.cfg.Checks {
		for _, region := range chk.Regions {
			e, ok := t.m[[2]string{chk.Name, region}]
			if !ok {
				continue
			}
			if e.hasResult {
				lv := []string{chk.Name, region, string(e.rec.Kind)}
				for _, f := range resultFamilies {
					f.values(e, func(extra string, v float64) {
						ch <- prometheus.MustNewConstMetric(f.desc, f.valueType(), v, appendExtra(lv, f.extra, extra)...)
					})
				}
			}
			ch <- prometheus.MustNewConstMetric(descProbes, prometheus.CounterValue, float64(e.ok), chk.Name, region, "success")
			ch <- prometheus.MustNewConstMetric(descProbes, prometheus.CounterValue, float64(e.fail), chk.Name, region, "failure")
			ch <- durationMetricOf(descDuration, e, chk.Name, region)
		}
		for _, f := range checkFamilies {
			f.values(view, chk.Name, func(extra string, v float64) {
				ch <- prometheus.MustNewConstMetric(f.desc, f.valueType(), v, chk.Name, extra)
			})
		}
	}
}

func appendExtra(lv []string, name, value string) []string {
	if name == "" {
		return lv
	}
	return append(lv[:len(lv):len(lv)], value)
}

// checkView is what the per-check families read: the state of every
// check and the uptimes, computed once per scrape.
type checkView struct {
	state   map[string]string
	uptimes map[string]map[string]float64
}

// view computes the state of every configured check now.
func (s *Server) view(now time.Time) checkView {
	cs := s.checks.Load()
	v := checkView{state: make(map[string]string, len(cs.cfg.Checks))}
	var latest []results.Record
	for _, chk := range cs.cfg.Checks {
		latest = latest[:0]
		for _, region := range chk.Regions {
			if e, ok := s.series.get(chk.Name, region); ok {
				latest = append(latest, e.rec)
			}
		}
		v.state[chk.Name] = checkState(chk, latest, now)
	}
	s.uptimes.mu.RLock()
	v.uptimes = s.uptimes.m // replaced whole, never mutated
	s.uptimes.mu.RUnlock()
	return v
}
