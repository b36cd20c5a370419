package statuspage

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/results"
	"github.com/vantageprobe/vantage/results/sqlite"
)

// TestWeekCache runs the 7-day chart's cache against a real SQLite store:
// read whole on first use, then refreshed every 100 seconds for 3 hours
// while results arrive (some late, within the lag), it holds the hourly
// quantiles a fresh read holds, every region alone and merged; hours
// before the data are empty.
func TestWeekCache(t *testing.T) {
	ctx := t.Context()
	store, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(t.TempDir(), "results.db"), PruneInterval: -1, FlushInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	regions := []string{"eu", "us"}
	write := func(from, to time.Time) {
		var recs []results.Record
		for t := from; t.Before(to); t = t.Add(30 * time.Second) {
			for i, r := range regions {
				n := int(t.Unix()/30) + i
				recs = append(recs, results.Record{ID: results.NewID(), Check: "api", Region: r, Kind: "http",
					Started: t, Duration: time.Duration(20+n%200+100*i) * time.Millisecond, OK: true})
			}
		}
		if err := store.Write(ctx, recs...); err != nil {
			t.Fatal(err)
		}
		if err := store.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Date(2026, 3, 9, 12, 0, 0, 0, time.UTC) // 5 days and 10 hours of data
	now := time.Date(2026, 3, 14, 22, 10, 0, 0, time.UTC)
	write(start, now)
	inc := weekCache{src: store, lag: 3 * time.Minute}
	keys := []seriesKey{{"api", "eu"}, {"api", "us"}, {"api", ""}}
	regionsOf := func(k seriesKey) []string {
		if k.region == "" {
			return regions
		}
		return []string{k.region}
	}
	for step := 0; step < 108; step++ {
		for _, k := range keys {
			if _, _, err := inc.quantiles(ctx, k, regionsOf(k), now); err != nil {
				t.Fatal(err)
			}
		}
		next := now.Add(100 * time.Second)
		write(now, next)
		write(next.Add(-2*time.Minute).Add(15*time.Second), next.Add(-2*time.Minute).Add(16*time.Second))
		now = next
	}
	fresh := weekCache{src: store, lag: 3 * time.Minute}
	for _, k := range keys {
		a50, a95, err := inc.quantiles(ctx, k, regionsOf(k), now)
		if err != nil {
			t.Fatal(err)
		}
		b50, b95, err := fresh.quantiles(ctx, k, regionsOf(k), now)
		if err != nil {
			t.Fatal(err)
		}
		if len(a50) != weekHours {
			t.Fatalf("%d hours", len(a50))
		}
		last := now.Truncate(time.Hour)
		for h := range weekHours {
			at := last.Add(time.Duration(h-weekHours+1) * time.Hour)
			if a50[h] != b50[h] || a95[h] != b95[h] {
				t.Errorf("%v %s: incremental %v/%v, fresh %v/%v", k, at.Format("02 15:04"), a50[h], a95[h], b50[h], b95[h])
			}
			if has := a50[h] > 0; has != !at.Before(start) || a95[h] < a50[h] {
				t.Errorf("%v %s: p50 %v p95 %v (data from %s)", k, at.Format("02 15:04"), a50[h], a95[h], start.Format("02 15:04"))
			}
		}
	}
	// us is 100 ms slower than eu; merged lies between.
	eu, _, _ := fresh.quantiles(ctx, keys[0], regions[:1], now)
	us, _, _ := fresh.quantiles(ctx, keys[1], regions[1:], now)
	all, _, _ := fresh.quantiles(ctx, keys[2], regions, now)
	if h := weekHours - 30; !(eu[h] < all[h] && all[h] < us[h]) {
		t.Errorf("hour %d: eu %v, all %v, us %v", h, eu[h], all[h], us[h])
	}
	// Series not asked for in 7 days are dropped.
	inc.get(seriesKey{"api", "eu"}, now.Add(8*24*time.Hour))
	if len(inc.series) != 1 {
		t.Errorf("%d series kept", len(inc.series))
	}
}
