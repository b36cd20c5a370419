package server

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/vantageprobe/vantage/alerts"
	"github.com/vantageprobe/vantage/config"
)

// exportedNames is every metric family name Vantage's server can export.
func exportedNames(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	descs := make(chan *prometheus.Desc, 256)
	go func() {
		(&checkCollector{}).Describe(descs)
		(&serverCollector{}).Describe(descs)
		close(descs)
	}()
	nameRE := regexp.MustCompile(`fqName: "([^"]+)"`)
	for d := range descs {
		names[nameRE.FindStringSubmatch(d.String())[1]] = true
	}
	// The alert engine's series, from an engine with one notifier.
	cfg, err := config.Parse("d.yaml", []byte("checks: [{name: c, http: {url: \"http://127.0.0.1:1/\"}}]\n"+
		"notifiers: [{name: n, webhook: {url: \"http://127.0.0.1:1/\"}}]\nalerts: [{name: r, all: true, notify: [n]}]\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	notifiers, err := cfg.BuildNotifiers(nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := alerts.OpenStore(t.Context(), t.TempDir()+"/a.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	reg := prometheus.NewRegistry()
	if _, err := alerts.New(t.Context(), alerts.Options{Rules: cfg.Alerts, Notifiers: notifiers, Store: st, Registerer: reg}); err != nil {
		t.Fatal(err)
	}
	e := &series{created: time.Now()}
	e.count(true, 1)
	reg.MustRegister(oneMetric{durationMetricOf(descDuration, e, "c", "r")},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		names[f.GetName()] = true
	}
	return names
}

// TestDashboardUsesExportedMetrics: every metric a PromQL expression of
// dashboards/vantage.json names is one Vantage exports (a histogram's
// _bucket, _sum and _count included).
func TestDashboardUsesExportedMetrics(t *testing.T) {
	raw, err := os.ReadFile("../dashboards/vantage.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
		Templating struct{ List []struct{ Query any } }
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("dashboards/vantage.json: %v", err)
	}
	exported := exportedNames(t)
	metricRE := regexp.MustCompile(`\b(probe_[a-z_]+|vantage_[a-z_]+|go_[a-z_]+|process_[a-z_]+)\b`)
	var exprs []string
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	for _, v := range dash.Templating.List {
		if q, ok := v.Query.(string); ok {
			exprs = append(exprs, q)
		}
	}
	used := 0
	for _, e := range exprs {
		for _, name := range metricRE.FindAllString(e, -1) {
			base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_sum"), "_count")
			if !exported[name] && !exported[base] {
				t.Errorf("the dashboard uses %s, which Vantage does not export (in %q)", name, e)
			}
			used++
		}
	}
	if used < 15 {
		t.Fatalf("only %d metric references found in %d expressions: the parser is broken", used, len(exprs))
	}
}

// oneMetric collects one metric.
type oneMetric struct{ m prometheus.Metric }

func (o oneMetric) Describe(ch chan<- *prometheus.Desc) { ch <- o.m.Desc() }
func (o oneMetric) Collect(ch chan<- prometheus.Metric) { ch <- o.m }
