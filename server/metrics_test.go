package server_test

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"os"
	"os/exec"
	"slices"
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

// TestMetricsTextMatchesProtobuf: the text exposition, written directly,
// and the protobuf one, gathered by client_golang, carry the same series
// with the same values (the protobuf one adds the native histogram).
func TestMetricsTextMatchesProtobuf(t *testing.T) {
	ok, bad := targets(t)
	e := start(t, fmt.Sprintf("  - {name: good, http: {url: %q}}\n  - {name: broken, http: {url: %q}}\n  - {name: raw-tcp, tcp: {address: %q}}\n",
		ok, bad, strings.TrimPrefix(ok[:strings.LastIndex(ok, "/")], "http://")))
	waitFor(t, "results of every check", func() bool {
		fams, _ := scrape(t, e)
		return len(fams["probe_success"].GetMetric()) == 3
	})
	for attempt := 0; ; attempt++ {
		text1 := flatten(t, fetch(t, e.base+"/metrics", "text/plain"))
		proto := flatten(t, fetch(t, e.base+"/metrics", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"))
		text2 := flatten(t, fetch(t, e.base+"/metrics", "text/plain"))
		if !maps.Equal(text1, text2) { // a probe landed in between
			if attempt == 20 {
				t.Fatal("the exposition never held still for three scrapes")
			}
			continue
		}
		if !maps.Equal(text1, proto) {
			for k, v := range text1 {
				if pv, ok := proto[k]; !ok || pv != v {
					t.Errorf("text %s = %v, protobuf %v (present %v)", k, v, pv, ok)
				}
			}
			for k, v := range proto {
				if _, ok := text1[k]; !ok {
					t.Errorf("protobuf only: %s = %v", k, v)
				}
			}
			t.FailNow()
		}
		if v, ok := text1[`probe_success{check="raw-tcp",region="local",type="tcp"}`]; !ok || v != 1 {
			t.Fatalf("probe_success of the tcp check %v %v in %v", v, ok, slices.Collect(maps.Keys(text1)))
		}
		return
	}
}

// fetch GETs url asking for the given format and parses the answer.
func fetch(t *testing.T, url, accept string) map[string]*dto.MetricFamily {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	req.Header.Set("Accept", accept)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	dec := expfmt.NewDecoder(resp.Body, expfmt.ResponseFormat(resp.Header))
	fams := map[string]*dto.MetricFamily{}
	for {
		var mf dto.MetricFamily
		if err := dec.Decode(&mf); err == io.EOF {
			return fams
		} else if err != nil {
			t.Fatalf("decode %s: %v", resp.Header.Get("Content-Type"), err)
		}
		fams[mf.GetName()] = &mf
	}
}

// flatten maps each series of Vantage's own and blackbox families (not the
// Go and process ones, which change between scrapes) to its value; a
// histogram becomes its classic buckets, sum and count.
func flatten(t *testing.T, fams map[string]*dto.MetricFamily) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for name, f := range fams {
		if !strings.HasPrefix(name, "probe_") && !strings.HasPrefix(name, "vantage_check") && !strings.HasPrefix(name, "vantage_probe") {
			continue
		}
		for _, m := range f.Metric {
			var lv []string
			for _, l := range m.Label {
				lv = append(lv, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			slices.Sort(lv)
			key := name + "{" + strings.Join(lv, ",") + "}"
			switch {
			case m.Gauge != nil:
				out[key] = m.Gauge.GetValue()
			case m.Counter != nil:
				out[key] = m.Counter.GetValue()
			case m.Histogram != nil:
				for _, b := range m.Histogram.Bucket {
					if math.IsInf(b.GetUpperBound(), 1) {
						continue // the text format writes it, protobuf implies it: it is the count
					}
					out[fmt.Sprintf("%s le=%g", key, b.GetUpperBound())] = float64(b.GetCumulativeCount())
				}
				out[key+" sum"], out[key+" count"] = m.Histogram.GetSampleSum(), float64(m.Histogram.GetSampleCount())
			default:
				t.Fatalf("%s: unexpected type %v", key, f.GetType())
			}
		}
	}
	return out
}
