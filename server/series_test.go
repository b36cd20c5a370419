package server

import (
	"cmp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/config"
	"github.com/vantageprobe/vantage/results"
)

// TestSeriesRetain: a reload that removes a check, or a region of a check,
// drops exactly those series.
func TestSeriesRetain(t *testing.T) {
	var tab seriesTable
	now := time.Now()
	for _, k := range [][2]string{{"api", "local"}, {"api", "eu"}, {"web", "local"}, {"gone", "local"}} {
		tab.put(results.Record{Check: k[0], Region: k[1], Kind: "http", Started: now, OK: true, Duration: time.Second}, nil, true)
	}
	cfg := &config.Config{Checks: []config.Check{{Name: "api", Regions: []string{"local"}}, {Name: "web", Regions: []string{"local", "us"}}}}
	gone := tab.retain(cfg)
	slices.SortFunc(gone, func(a, b [2]string) int { return cmp.Or(strings.Compare(a[0], b[0]), strings.Compare(a[1], b[1])) })
	if want := [][2]string{{"api", "eu"}, {"gone", "local"}}; !slices.Equal(gone, want) {
		t.Fatalf("dropped %v, want %v", gone, want)
	}
	if _, ok := tab.get("api", "local"); !ok {
		t.Fatal("a configured series was dropped")
	}
	if _, ok := tab.get("api", "eu"); ok {
		t.Fatal("the removed region's series is still there")
	}
}

// TestSeriesPut: an older result does not replace a newer one but is
// still counted, and a duration lands in its bucket.
func TestSeriesPut(t *testing.T) {
	var tab seriesTable
	now := time.Now()
	tab.put(results.Record{Check: "a", Region: "local", Kind: "http", Started: now, OK: true, Duration: 30 * time.Millisecond}, nil, true)
	tab.put(results.Record{Check: "a", Region: "local", Kind: "http", Started: now.Add(-time.Second), OK: false, Duration: 3 * time.Second}, nil, true)
	tab.put(results.Record{Check: "a", Region: "local", Kind: "http", Started: now.Add(-time.Hour), OK: false}, nil, false) // loaded at start-up
	e, _ := tab.get("a", "local")
	if !e.rec.OK || e.ok != 1 || e.fail != 1 {
		t.Fatalf("latest ok=%v, counts %d/%d: want the newer (ok) result and 1/1", e.rec.OK, e.ok, e.fail)
	}
	if e.buckets[3] != 1 || e.buckets[9] != 1 || e.sum != 3.03 {
		t.Fatalf("buckets %v sum %v", e.buckets, e.sum)
	}
	if e.typed != `check="a",region="local",type="http"` {
		t.Fatalf("labels %s", e.typed)
	}
}

// TestTLSVersionLabel: probe_tls_version_info's version reads "TLS 1.3",
// as blackbox_exporter writes it, so existing dashboards match.
func TestTLSVersionLabel(t *testing.T) {
	var tab seriesTable
	tab.put(results.Record{Check: "a", Region: "local", Kind: "tls", Started: time.Now(),
		Detail: []byte(`{"tls":{"version":"TLS 1.3"}}`)}, nil, true)
	e, _ := tab.get("a", "local")
	for _, f := range resultFamilies {
		if f.name != "probe_tls_version_info" {
			continue
		}
		var got []string
		f.values(&e, func(extra string, _ float64) { got = append(got, extra) })
		if !slices.Equal(got, []string{"TLS 1.3"}) {
			t.Fatalf("version labels %q", got)
		}
		return
	}
	t.Fatal("no probe_tls_version_info family")
}
