package server_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape fetches and parses /metrics.
func scrape(t *testing.T, e *env) (map[string]*dto.MetricFamily, []byte) {
	t.Helper()
	resp, err := http.Get(e.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams, body
}

// value returns the value of the series of name with exactly these labels.
func value(fams map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	f, ok := fams[name]
	if !ok {
		return 0, false
	}
	for _, m := range f.Metric {
		match := len(m.Label) == len(labels)
		for _, l := range m.Label {
			match = match && labels[l.GetName()] == l.GetValue()
		}
		if !match {
			continue
		}
		switch {
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		}
	}
	return 0, false
}

func TestMetrics(t *testing.T) {
	ok, bad := targets(t)
	e := start(t, fmt.Sprintf("  - {name: good, http: {url: %q}}\n  - {name: broken, http: {url: %q}}\n", ok, bad))
	waitFor(t, "results of both checks", func() bool {
		fams, _ := scrape(t, e)
		_, a := value(fams, "probe_success", map[string]string{"check": "good", "region": "local", "type": "http"})
		_, b := value(fams, "probe_success", map[string]string{"check": "broken", "region": "local", "type": "http"})
		return a && b
	})
	fams, body := scrape(t, e)
	want := []struct {
		name   string
		labels map[string]string
		v      float64
	}{
		{"probe_success", map[string]string{"check": "good", "region": "local", "type": "http"}, 1},
		{"probe_success", map[string]string{"check": "broken", "region": "local", "type": "http"}, 0},
		{"probe_http_status_code", map[string]string{"check": "broken", "region": "local", "type": "http"}, 500},
		{"probe_http_version", map[string]string{"check": "good", "region": "local", "type": "http"}, 1.1},
		{"probe_http_ssl", map[string]string{"check": "good", "region": "local", "type": "http"}, 0},
		{"vantage_check_state", map[string]string{"check": "good", "state": "up"}, 1},
		{"vantage_check_state", map[string]string{"check": "good", "state": "down"}, 0},
		{"vantage_check_state", map[string]string{"check": "broken", "state": "down"}, 1},
	}
	for _, w := range want {
		if v, found := value(fams, w.name, w.labels); !found || v != w.v {
			t.Errorf("%s%v = %v (found %v), want %v", w.name, w.labels, v, found, w.v)
		}
	}
	if v, found := value(fams, "probe_http_duration_seconds", map[string]string{"check": "good", "region": "local", "type": "http", "phase": "connect"}); !found || v <= 0 {
		t.Errorf("connect phase %v %v", v, found)
	}
	waitFor(t, "uptime series", func() bool {
		fams, _ := scrape(t, e)
		v, found := value(fams, "vantage_check_uptime_ratio", map[string]string{"check": "broken", "window": "24h"})
		g, foundGood := value(fams, "vantage_check_uptime_ratio", map[string]string{"check": "good", "window": "7d"})
		return found && foundGood && v == 0 && g == 1
	})
	fams, body = scrape(t, e)
	for _, name := range []string{"vantage_probes_total", "vantage_probe_duration_seconds", "go_goroutines", "process_resident_memory_bytes", "vantage_scheduler_lag_max_seconds"} {
		if _, ok := fams[name]; !ok {
			t.Errorf("%s missing from /metrics", name)
		}
	}
	lint(t, body)

	// A check removed by a reload leaves no series behind.
	writeConfig(t, e.cfgPath, fmt.Sprintf("  - {name: good, http: {url: %q}}\n", ok))
	if err := e.srv.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	_, body = scrape(t, e)
	if strings.Contains(string(body), `check="broken"`) {
		t.Fatalf("series of the removed check remain:\n%s", grepLines(string(body), `check="broken"`))
	}
}

// lint runs promtool check metrics on the exposition (Debian's prometheus
// package, which make test installs).
func lint(t *testing.T, body []byte) {
	t.Helper()
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool is missing (make test installs the prometheus package)")
		}
		t.Log("promtool not installed: lint skipped")
		return
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
