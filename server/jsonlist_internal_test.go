package server

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/probes"
)

// TestWriteJSONList: the streamed list is byte for byte what writeJSON
// writes for the same list, empty, of one and of several items, with
// text that JSON escapes.
func TestWriteJSONList(t *testing.T) {
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	items := []probes.Report{
		{Check: "api", Type: "http", Started: at, OK: true, Phases: map[string]float64{"connect": 0.001, "tls": 0.002}},
		{Check: "db", Type: "tcp", Started: at, Error: `refused <"x">` + "\n\u2028", ErrorClass: "conn_refused", Phases: map[string]float64{}},
		{Check: "x", Type: "dns"},
	}
	for _, n := range []int{0, 1, 3} {
		want := httptest.NewRecorder()
		writeJSON(want, 200, map[string]any{"results": items[:n]})
		got := httptest.NewRecorder()
		writeJSONList(got, "results", n, func(i int) any { return items[i] })
		if got.Body.String() != want.Body.String() {
			t.Errorf("%d items:\n%s\nwant\n%s", n, got.Body, want.Body)
		}
		if got.Code != 200 || got.Header().Get("Content-Type") != "application/json" || got.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("%d items: %d %v", n, got.Code, got.Header())
		}
	}
}
