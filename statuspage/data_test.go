package statuspage

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/results"
	"github.com/vantageprobe/vantage/results/sqlite"
)

// TestRollupCacheIncremental runs the cache against a real SQLite store:
// refreshed step by step while results arrive (some late, within the lag),
// across an hour and a day boundary, it holds exactly what one fresh read
// at the end holds, and what the store's own day rollups say.
func TestRollupCacheIncremental(t *testing.T) {
	ctx := t.Context()
	store, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(t.TempDir(), "results.db"), PruneInterval: -1, FlushInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	keys := []seriesKey{{"api", "eu"}, {"api", "us"}, {"web", "eu"}}
	write := func(from, to time.Time) {
		var recs []results.Record
		for t := from; t.Before(to); t = t.Add(30 * time.Second) {
			for i, k := range keys {
				n := int(t.Unix()/30) + i
				recs = append(recs, results.Record{ID: results.NewID(), Check: k.check, Region: k.region, Kind: "http",
					Started: t, Duration: time.Duration(20+n%200) * time.Millisecond, OK: n%23 != 0, Degraded: n%31 == 0})
			}
		}
		if err := store.Write(ctx, recs...); err != nil {
			t.Fatal(err)
		}
		if err := store.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Date(2026, 3, 12, 12, 0, 0, 0, time.UTC)
	now := time.Date(2026, 3, 14, 22, 10, 0, 0, time.UTC)
	write(start, now)
	inc := rollupCache{src: store, workers: 2, historyTTL: time.Hour, lag: 3 * time.Minute}
	if err := inc.refresh(ctx, now, keys); err != nil {
		t.Fatal(err)
	}
	// Results keep coming, one refresh every 100 seconds for 3 hours:
	// across 23:00, midnight and 01:00; each batch also brings a result
	// 2 minutes late.
	for step := 0; step < 108; step++ {
		next := now.Add(100 * time.Second)
		write(now, next)
		write(next.Add(-2*time.Minute).Add(15*time.Second), next.Add(-2*time.Minute).Add(16*time.Second))
		now = next
		if err := inc.refresh(ctx, now, keys); err != nil {
			t.Fatal(err)
		}
	}
	fresh := rollupCache{src: store, workers: 1, historyTTL: time.Hour, lag: 3 * time.Minute}
	if err := fresh.refresh(ctx, now, keys); err != nil {
		t.Fatal(err)
	}
	today := results.Day.BucketStart(now)
	bounds := localDays(now, time.UTC)
	for _, k := range keys {
		a, b := inc.series[k], fresh.series[k]
		for i := range historyDays {
			if ca, cb := a.localDay(&bounds, i, now), b.localDay(&bounds, i, now); ca != cb {
				t.Errorf("%v day %d: incremental %+v, fresh %+v", k, i, ca, cb)
			}
		}
		for h := range chartHours {
			at := now.Truncate(time.Hour).Add(time.Duration(h-chartHours+1) * time.Hour)
			if ha, hb := a.hour(at), b.hour(at); ha != hb {
				t.Errorf("%v hour %s: incremental %+v, fresh %+v", k, at.Format("15:04"), ha.counts, hb.counts)
			}
		}
		// Completed days equal the store's day rollups.
		rs, err := store.Rollups(ctx, results.RollupQuery{Check: k.check, Region: k.region, Res: results.Day, Since: start, Until: today})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			i := historyDays - 1 - int(today.Sub(r.Start)/(24*time.Hour))
			if c := a.localDay(&bounds, i, now); c.total != r.Total || c.failed != r.Failed || c.degraded != r.Degraded || c.total == 0 {
				t.Errorf("%v %s: cache %+v, store %d/%d/%d", k, r.Start.Format(time.DateOnly), c, r.Total, r.Failed, r.Degraded)
			}
		}
		// Today, from minutes, equals the store's day rollup of today.
		rs, _ = store.Rollups(ctx, results.RollupQuery{Check: k.check, Region: k.region, Res: results.Day, Since: today, Until: today.Add(24 * time.Hour)})
		if c := a.localDay(&bounds, historyDays-1, now); len(rs) != 1 || c.total != rs[0].Total || c.failed != rs[0].Failed {
			t.Errorf("%v today: cache %+v, store %+v", k, c, rs)
		}
	}
	// Series no longer asked for are dropped; a new one is read whole.
	if err := inc.refresh(ctx, now, keys[:1]); err != nil || len(inc.series) != 1 {
		t.Errorf("after dropping series: %d kept, %v", len(inc.series), err)
	}
}

// TestRollupCacheErrors: a failing series keeps its data and the error
// names it.
func TestRollupCacheErrors(t *testing.T) {
	c := rollupCache{src: failingReader{}, workers: 2, historyTTL: time.Hour, lag: time.Minute}
	err := c.refresh(t.Context(), time.Now(), []seriesKey{{"a", "eu"}, {"b", "eu"}, {"c", "eu"}, {"d", "eu"}, {"e", "eu"}})
	if err == nil || !containsAll(err.Error(), "read day rollups of", "disk on fire", "and 2 more") {
		t.Errorf("err = %v", err)
	}
}

type failingReader struct{}

func (failingReader) Rollups(context.Context, results.RollupQuery) ([]results.Rollup, error) {
	return nil, errors.New("disk on fire")
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// localDay is what the page counts for day i of bounds: the probes from
// its midnight to the next, or to now.
func (s *series) localDay(bounds *[historyDays + 1]time.Time, i int, now time.Time) counts {
	return s.upTo(earlier(bounds[i+1], now)).minus(s.upTo(bounds[i])).clamped()
}
