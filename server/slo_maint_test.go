package server

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/alerts"
	"github.com/vantageprobe/vantage/config"
	"github.com/vantageprobe/vantage/results"
	"github.com/vantageprobe/vantage/results/sqlite"
)

// TestEvaluateSLOExcludesGivenMaintenance: the windows passed in (the
// server passes the config's and the API's) leave their events out of an
// SLO that asks so, and only then.
func TestEvaluateSLOExcludesGivenMaintenance(t *testing.T) {
	store, err := sqlite.Open(t.Context(), sqlite.Options{Path: filepath.Join(t.TempDir(), "r.db"), PruneInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	now := time.Now().UTC().Truncate(time.Minute)
	var recs []results.Record
	for i := range 60 { // an hour a minute apart; the first 20 minutes fail
		recs = append(recs, results.Record{ID: results.NewID(), Check: "api", Region: "local", Kind: "http",
			Started: now.Add(-time.Duration(60-i) * time.Minute), Duration: time.Millisecond, OK: i >= 20})
	}
	if err := store.Write(t.Context(), recs...); err != nil {
		t.Fatal(err)
	}
	if err := store.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	objective, err := results.ParseObjective("99")
	if err != nil {
		t.Fatal(err)
	}
	chk := config.Check{Name: "api", SLO: &results.SLOSpec{Objective: objective, ExcludeMaintenance: true}}
	maint := []alerts.Maintenance{{Name: "upgrade", Checks: []string{"api"}, Start: now.Add(-61 * time.Minute), End: now.Add(-40 * time.Minute)}}
	for _, tt := range []struct {
		name        string
		maint       []alerts.Maintenance
		exclude     bool
		good, total int64
	}{
		{"window given", maint, true, 40, 40},
		{"no window", nil, true, 40, 60},
		{"not excluded", maint, false, 40, 60},
	} {
		chk.SLO.ExcludeMaintenance = tt.exclude
		st, err := EvaluateSLO(t.Context(), store, tt.maint, chk, now)
		if err != nil {
			t.Fatal(err)
		}
		if st.Good != tt.good || st.Total != tt.total {
			t.Errorf("%s: %d good of %d, want %d of %d", tt.name, st.Good, st.Total, tt.good, tt.total)
		}
	}
}
