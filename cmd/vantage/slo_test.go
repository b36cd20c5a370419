package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/results"
	"github.com/vantageprobe/vantage/results/sqlite"
)

// TestSLOCommand reads SLOs from a real results database: a table a
// person reads, JSON in the API's shape, and exit 1 when a budget is spent.
func TestSLOCommand(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "vantage.yaml")
	src := `storage: {path: results.db}
checks:
  - {name: api, http: {url: "http://127.0.0.1:1/"}, slo: {objective: 99.9, window: 30d}}
  - {name: web, http: {url: "http://127.0.0.1:1/"}, slo: {objective: 99, window: 7d, sli: latency, threshold: 200ms}}
  - {name: none, http: {url: "http://127.0.0.1:1/"}}
`
	if err := os.WriteFile(cfg, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	store, err := sqlite.Open(t.Context(), sqlite.Options{Path: filepath.Join(dir, "results.db")})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	var recs []results.Record
	for i := range 1000 {
		at := now.Add(-time.Duration(i) * time.Minute)
		recs = append(recs,
			results.Record{ID: results.NewID(), Check: "api", Region: "local", Kind: "http", Started: at, Duration: 50 * time.Millisecond, OK: i != 10},
			results.Record{ID: results.NewID(), Check: "web", Region: "local", Kind: "http", Started: at, Duration: time.Duration(100+i%3*100) * time.Millisecond, OK: true})
	}
	if err := store.Write(t.Context(), recs...); err != nil {
		t.Fatal(err)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := vantage(t, "slo", "-c", cfg)
	if code != exitFailed { // web: a third of its probes are slower than 200ms
		t.Fatalf("exit %d (want 1: web's budget is spent)\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"CHECK", "api", "99.9%", "30d", "availability 99.900%", "web", "latency ≤ 200ms 66.", "spent"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "none") {
		t.Errorf("a check without an slo is listed:\n%s", out)
	}
	code, out, _ = vantage(t, "slo", "-c", cfg, "--json")
	var doc struct {
		SLOs []struct {
			Check  string
			Good   int64
			Total  int64
			Budget float64 `json:"error_budget_remaining_ratio"`
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != exitFailed || len(doc.SLOs) != 2 {
		t.Fatalf("--json: %d %v\n%s", code, err, out)
	}
	if api := doc.SLOs[0]; api.Check != "api" || api.Total != 1000 || api.Good != 999 || api.Budget < -0.0001 || api.Budget > 0.0001 {
		t.Fatalf("api: %+v (one bad of 1000 at 99.9%%: budget exactly spent)", api)
	}
	if code, _, errOut := vantage(t, "slo", "-c", filepath.Join(dir, "missing.yaml")); code != exitUsage || errOut == "" {
		t.Fatalf("missing config: %d %q", code, errOut)
	}
	typo := filepath.Join(dir, "typo.db")
	if code, _, errOut := vantage(t, "slo", "-c", cfg, "--db", typo); code == exitOK || !strings.Contains(errOut, "typo.db") {
		t.Fatalf("missing database: %d %q", code, errOut)
	}
	if _, err := os.Stat(typo); err == nil {
		t.Error("vantage slo created the database it was pointed at")
	}
}
