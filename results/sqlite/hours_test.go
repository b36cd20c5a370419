package sqlite

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/results"
)

// TestHoursAfterUpgrade: a database with results from before hour rollups
// (schema 3) gets them from the next hour on; the hours before are summed
// from the minute rollups when read, the same as if they had been kept.
func TestHoursAfterUpgrade(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vantage.db")
	db := schemaAt(t, path, 3)
	if _, err := db.Exec(`INSERT INTO rollup_minute VALUES ('old', 'eu', 0, 1, 0, 0, 1, 1, 1, zeroblob(192))`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s := openStore(t, Options{Path: path, PruneInterval: -1})
	next := time.Now().UTC().Truncate(time.Hour).Add(time.Hour)
	if !s.hoursSince.Equal(next) && !s.hoursSince.Equal(next.Add(-time.Hour)) { // the hour may turn meanwhile
		t.Fatalf("hours since %v, want the next hour %v", s.hoursSince, next)
	}

	// Records across hoursSince: those before it have no hour rollups of
	// their own (as written before the upgrade).
	cut := s.hoursSince
	var recs []results.Record
	for i := range 300 {
		recs = append(recs, rec(i, "web", []string{"eu", "us"}[i%2], cut.Add(-150*time.Minute+time.Duration(i)*time.Minute)))
	}
	if err := s.Write(t.Context(), recs...); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.wdb.Exec(`DELETE FROM rollup_hour WHERE bucket_start < ?`, cut.Unix()); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name         string
		region       string
		since, until time.Time
	}{
		{"across", "", cut.Add(-3 * time.Hour), cut.Add(3 * time.Hour)},
		{"across, one region", "us", cut.Add(-150 * time.Minute), cut.Add(150 * time.Minute)},
		{"before only, unaligned", "eu", cut.Add(-130 * time.Minute), cut.Add(-30 * time.Minute)},
		{"unbounded", "", time.Time{}, time.Time{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Rollups(t.Context(), results.RollupQuery{Check: "web", Region: tt.region, Res: results.Hour, Since: tt.since, Until: tt.until})
			if err != nil {
				t.Fatal(err)
			}
			var want []results.Rollup
			for _, r := range recs {
				h := results.Hour.BucketStart(r.Started)
				if tt.region != "" && r.Region != tt.region || !tt.since.IsZero() && h.Before(tt.since) || !tt.until.IsZero() && !h.Before(tt.until) {
					continue
				}
				if n := len(want); n > 0 && want[n-1].Start.Equal(h) {
					want[n-1].Add(r)
					continue
				}
				w := results.Rollup{Check: "web", Region: tt.region, Start: h, Res: results.Hour}
				w.Add(r)
				want = append(want, w)
			}
			if len(got) != len(want) {
				t.Fatalf("%d hours, want %d: %+v", len(got), len(want), got)
			}
			for i := range want {
				g, w := got[i], want[i]
				if !g.Start.Equal(w.Start) || g.Res != results.Hour || g.Region != w.Region || g.Total != w.Total || g.Failed != w.Failed ||
					g.DurationSum != w.DurationSum || g.DurationMin != w.DurationMin || g.DurationMax != w.DurationMax || g.Hist != w.Hist {
					t.Errorf("hour %d: got %+v\nwant %+v", i, g, w)
				}
			}
		})
	}
}

// TestNewDatabaseHasAllHours: a database created with hour rollups reads
// them all from the table.
func TestNewDatabaseHasAllHours(t *testing.T) {
	s := openStore(t, Options{})
	if !s.hoursSince.IsZero() {
		t.Errorf("hours since %v, want none (every hour has its rollup)", s.hoursSince)
	}
}
