package server

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/vantageprobe/vantage/probes"
	"github.com/vantageprobe/vantage/results"
)

// latestEntry is the newest result of one check × region, with its detail
// decoded once, when it is recorded, not at every scrape.
type latestEntry struct {
	rec    results.Record
	detail probes.ReportDetail
}

// latestCache holds the newest result of every check × region in memory,
// for /metrics.
type latestCache struct {
	mu sync.RWMutex
	m  map[[2]string]latestEntry
}

func (c *latestCache) put(rec results.Record) {
	e := latestEntry{rec: rec}
	if len(rec.Detail) > 0 {
		_ = json.Unmarshal(rec.Detail, &e.detail) // written by FromResult; a damaged blob just has no detail
	}
	e.rec.Detail, e.rec.Screenshot = nil, nil
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[[2]string]latestEntry{}
	}
	k := [2]string{rec.Check, rec.Region}
	if cur, ok := c.m[k]; !ok || !rec.Started.Before(cur.rec.Started) {
		c.m[k] = e
	}
}

func (c *latestCache) get(check, region string) (latestEntry, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.m[[2]string{check, region}]
	return e, ok
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

// refresh recomputes the uptime of every configured check.
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

// metrics are the server's own series, registered on one registry.
type metrics struct {
	probes   *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer, s *Server) *metrics {
	m := newVecs()
	reg.MustRegister(m.probes, m.duration, &probeCollector{s: s},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// newVecs makes the per-check counter and histogram.
func newVecs() *metrics {
	return &metrics{
		probes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vantage_probes_total", Help: "Probe results recorded, by check, region and result (success or failure).",
		}, []string{"check", "region", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "vantage_probe_duration_seconds", Help: "Duration of every recorded probe.",
			Buckets:                        []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
			NativeHistogramBucketFactor:    1.1,
			NativeHistogramMaxBucketNumber: 100,
		}, []string{"check", "region"}),
	}
}

// observe counts a recorded result.
func (m *metrics) observe(rec results.Record) {
	result := "success"
	if !rec.OK {
		result = "failure"
	}
	m.probes.WithLabelValues(rec.Check, rec.Region, result).Inc()
	m.duration.WithLabelValues(rec.Check, rec.Region).Observe(rec.Duration.Seconds())
}

// forget drops the series of checks that are no longer configured.
func (m *metrics) forget(removed []string) {
	for _, c := range removed {
		m.probes.DeletePartialMatch(prometheus.Labels{"check": c})
		m.duration.DeletePartialMatch(prometheus.Labels{"check": c})
	}
}

// Descriptions of the per-result series, with blackbox_exporter's names.
var (
	labels        = []string{"check", "region", "type"}
	descSuccess   = prometheus.NewDesc("probe_success", "Whether the probe succeeded.", labels, nil)
	descDuration  = prometheus.NewDesc("probe_duration_seconds", "How long the probe took.", labels, nil)
	descPhase     = prometheus.NewDesc("probe_http_duration_seconds", "Duration of the probe's phases.", append(labels, "phase"), nil)
	descStatus    = prometheus.NewDesc("probe_http_status_code", "HTTP status code of the final response.", labels, nil)
	descLength    = prometheus.NewDesc("probe_http_content_length", "Length of the HTTP content (-1 when unknown).", labels, nil)
	descRedirects = prometheus.NewDesc("probe_http_redirects", "Number of redirects followed.", labels, nil)
	descSSL       = prometheus.NewDesc("probe_http_ssl", "Whether TLS was used for the final request.", labels, nil)
	descVersion   = prometheus.NewDesc("probe_http_version", "HTTP version of the response.", labels, nil)
	descExpiry    = prometheus.NewDesc("probe_ssl_earliest_cert_expiry", "Earliest expiry in the certificate chain, unix seconds.", labels, nil)
	descLastChain = prometheus.NewDesc("probe_ssl_last_chain_expiry_timestamp_seconds", "Expiry of the last certificate chain, unix seconds.", labels, nil)
	descTLSInfo   = prometheus.NewDesc("probe_tls_version_info", "The negotiated TLS version.", append(labels, "version"), nil)
	descDNSTime   = prometheus.NewDesc("probe_dns_lookup_time_seconds", "Time of the DNS query.", labels, nil)
	descDNSAnswer = prometheus.NewDesc("probe_dns_answer_rrs", "Number of records in the answer section.", labels, nil)
	descVital     = prometheus.NewDesc("probe_browser_web_vital_seconds", "Web Vitals of the page.", append(labels, "vital"), nil)
	descCLS       = prometheus.NewDesc("probe_browser_cls", "Cumulative Layout Shift of the page.", labels, nil)
	descState     = prometheus.NewDesc("vantage_check_state", "The check's state across its regions (1 for the current one).", []string{"check", "state"}, nil)
	descLastSeen  = prometheus.NewDesc("vantage_agent_last_seen_timestamp_seconds", "When the region's agent last talked to the server.", []string{"region"}, nil)
	descSpool     = prometheus.NewDesc("vantage_agent_spool_depth", "Results the region's agent holds in its spool.", []string{"region"}, nil)
	descUptime    = prometheus.NewDesc("vantage_check_uptime_ratio", "Share of passed probes over the window, all regions (recomputed every minute).", []string{"check", "window"}, nil)
	descSched     = prometheus.NewDesc("vantage_scheduler_lag_max_seconds", "Largest delay between a planned and an actual probe start.", nil, nil)
	descOverruns  = prometheus.NewDesc("vantage_scheduler_overruns_total", "Probe runs skipped because the previous one still ran or no slot was free.", nil, nil)
	states        = []string{StateUp, StateDegraded, StateDown, StateUnknown}
)

// probeCollector turns the newest result of every configured check ×
// region into series at scrape time, so a removed check or region has none.
type probeCollector struct{ s *Server }

func (c *probeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descSuccess, descDuration, descPhase, descStatus, descLength, descRedirects, descSSL,
		descVersion, descExpiry, descLastChain, descTLSInfo, descDNSTime, descDNSAnswer, descVital, descCLS, descState,
		descLastSeen, descSpool, descSched, descOverruns, descUptime} {
		ch <- d
	}
}

func (c *probeCollector) Collect(ch chan<- prometheus.Metric) {
	cs := c.s.checks.Load()
	now := time.Now()
	for _, chk := range cs.cfg.Checks {
		var latest []results.Record
		for _, region := range chk.Regions {
			e, ok := c.s.latest.get(chk.Name, region)
			if !ok {
				continue
			}
			latest = append(latest, e.rec)
			collectResult(ch, e)
		}
		st := checkState(chk, latest, now)
		for _, s := range states {
			ch <- prometheus.MustNewConstMetric(descState, prometheus.GaugeValue, b2f(s == st), chk.Name, s)
		}
	}
	c.s.uptimes.mu.RLock()
	for _, chk := range cs.cfg.Checks {
		for w, v := range c.s.uptimes.m[chk.Name] {
			ch <- prometheus.MustNewConstMetric(descUptime, prometheus.GaugeValue, v, chk.Name, w)
		}
	}
	c.s.uptimes.mu.RUnlock()
	for _, reg := range cs.cfg.Regions {
		if st, ok := c.s.agents.get(reg.Name); ok {
			ch <- prometheus.MustNewConstMetric(descLastSeen, prometheus.GaugeValue, float64(st.LastSeen.UnixMilli())/1000, reg.Name)
			ch <- prometheus.MustNewConstMetric(descSpool, prometheus.GaugeValue, float64(st.SpoolDepth), reg.Name)
		}
	}
	sst := c.s.sched.Stats()
	ch <- prometheus.MustNewConstMetric(descSched, prometheus.GaugeValue, sst.MaxLag.Seconds())
	ch <- prometheus.MustNewConstMetric(descOverruns, prometheus.CounterValue, float64(sst.Overruns))
}

func collectResult(ch chan<- prometheus.Metric, e latestEntry) {
	r, lv := e.rec, []string{e.rec.Check, e.rec.Region, string(e.rec.Kind)}
	gauge := func(d *prometheus.Desc, v float64, extra ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, append(lv, extra...)...)
	}
	gauge(descSuccess, b2f(r.OK))
	gauge(descDuration, r.Duration.Seconds())
	if r.Kind == probes.KindHTTP {
		r.Phases.Each(func(name string, d time.Duration) { gauge(descPhase, d.Seconds(), name) })
		gauge(descStatus, float64(r.StatusCode))
		gauge(descSSL, b2f(e.detail.TLS != nil))
		if h := e.detail.HTTP; h != nil {
			gauge(descLength, float64(h.ContentLength))
			gauge(descRedirects, float64(h.Redirects))
			gauge(descVersion, httpVersion(h.Version))
		}
	}
	if t := e.detail.TLS; t != nil && !t.EarliestChainExpiry.IsZero() {
		gauge(descExpiry, float64(t.EarliestChainExpiry.Unix()))
		gauge(descLastChain, float64(t.LastChainExpiry.Unix()))
		gauge(descTLSInfo, 1, strings.TrimPrefix(t.Version, "TLS "))
	}
	if d := e.detail.DNS; d != nil {
		gauge(descDNSTime, r.Phases.Processing.Seconds())
		gauge(descDNSAnswer, float64(len(d.Answers)))
	}
	if b := e.detail.Browser; b != nil {
		for _, v := range []struct {
			name string
			s    float64
		}{{"lcp", b.LCP}, {"fcp", b.FCP}, {"ttfb", b.TTFB}} {
			gauge(descVital, v.s, v.name)
		}
		gauge(descCLS, b.CLS)
	}
}

// httpVersion turns "HTTP/1.1" into 1.1 as blackbox_exporter does.
func httpVersion(proto string) float64 {
	switch proto {
	case "HTTP/1.0":
		return 1.0
	case "HTTP/1.1":
		return 1.1
	case "HTTP/2.0":
		return 2
	case "HTTP/3.0":
		return 3
	}
	return 0
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
