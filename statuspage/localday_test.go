package statuspage

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/results"
	"github.com/vantageprobe/vantage/results/sqlite"
)

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestLocalDays: the 90 days end with the local day of now; a day across
// a DST change is 23 or 25 hours; a half-hour zone's midnights are at :30
// UTC.
func TestLocalDays(t *testing.T) {
	tests := []struct {
		zone     string
		now      time.Time
		today    time.Time // bounds[89], UTC
		lengths  map[int]time.Duration
		firstDay string
	}{
		{"UTC", time.Date(2026, 10, 26, 10, 0, 0, 0, time.UTC), time.Date(2026, 10, 26, 0, 0, 0, 0, time.UTC),
			map[int]time.Duration{88: 24 * time.Hour}, "2026-07-29"},
		{"Europe/Berlin", time.Date(2026, 10, 26, 10, 0, 0, 0, time.UTC), time.Date(2026, 10, 25, 23, 0, 0, 0, time.UTC),
			map[int]time.Duration{87: 24 * time.Hour, 88: 25 * time.Hour, 89: 24 * time.Hour}, "2026-07-29"},
		{"Europe/Berlin", time.Date(2026, 3, 30, 10, 0, 0, 0, time.UTC), time.Date(2026, 3, 29, 22, 0, 0, 0, time.UTC),
			map[int]time.Duration{88: 23 * time.Hour}, "2025-12-31"},
		{"Europe/Berlin", time.Date(2026, 10, 25, 23, 30, 0, 0, time.UTC), time.Date(2026, 10, 25, 23, 0, 0, 0, time.UTC),
			map[int]time.Duration{88: 25 * time.Hour}, "2026-07-29"}, // 00:30 on the 26th in Berlin
		{"Asia/Kolkata", time.Date(2026, 3, 15, 12, 30, 0, 0, time.UTC), time.Date(2026, 3, 14, 18, 30, 0, 0, time.UTC),
			map[int]time.Duration{88: 24 * time.Hour}, "2025-12-16"},
		{"America/Los_Angeles", time.Date(2026, 3, 15, 3, 0, 0, 0, time.UTC), time.Date(2026, 3, 14, 7, 0, 0, 0, time.UTC),
			map[int]time.Duration{83: 23 * time.Hour}, "2025-12-15"}, // 8 March: PST → PDT
	}
	for _, tt := range tests {
		t.Run(tt.zone+"/"+tt.now.Format(time.RFC3339), func(t *testing.T) {
			b := localDays(tt.now, mustZone(t, tt.zone))
			if !b[89].Equal(tt.today) || b[89].After(tt.now) || !b[90].After(tt.now) {
				t.Errorf("today starts %s, next %s; want %s", b[89].UTC(), b[90].UTC(), tt.today)
			}
			for i, want := range tt.lengths {
				if got := b[i+1].Sub(b[i]); got != want {
					t.Errorf("day %d (%s) is %s long, want %s", i, b[i].Format(time.DateOnly), got, want)
				}
			}
			if got := b[0].Format(time.DateOnly); got != tt.firstDay {
				t.Errorf("first day %s, want %s", got, tt.firstDay)
			}
			for i := range historyDays {
				if h, m, s := b[i].Clock(); h != 0 || m != 0 || s != 0 {
					t.Errorf("day %d starts at %s local", i, b[i])
				}
			}
		})
	}
}

// zoneFixture is one series in a real SQLite store, probed every minute,
// with the records kept to count local days by brute force.
type zoneFixture struct {
	t     *testing.T
	store *sqlite.Store
	recs  []results.Record
}

func newZoneFixture(t *testing.T) *zoneFixture {
	store, err := sqlite.Open(t.Context(), sqlite.Options{Path: filepath.Join(t.TempDir(), "results.db"), PruneInterval: -1,
		FlushInterval: time.Millisecond, RawRetention: 400 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return &zoneFixture{t: t, store: store}
}

// failing marks the minutes that fail: 23:30–23:40 UTC on 23 October (in
// Berlin the 24th), 18:20–18:25 and 18:40–18:45 UTC on 22 October (in
// Kolkata the 22nd and the 23rd), an hour and a quarter on the 25-hour
// 25 October and a minute every 97.
func failing(t time.Time) bool {
	in := func(from, to time.Time) bool { return !t.Before(from) && t.Before(to) }
	utc := func(d, h, m int) time.Time { return time.Date(2026, 10, d, h, m, 0, 0, time.UTC) }
	return in(utc(23, 23, 30), utc(23, 23, 40)) || in(utc(22, 18, 20), utc(22, 18, 25)) || in(utc(22, 18, 40), utc(22, 18, 45)) ||
		in(utc(25, 12, 0), utc(25, 13, 15)) || t.Unix()/60%97 == 0
}

// write probes [from, to) once a minute; the store's rollups are flushed.
func (z *zoneFixture) write(from, to time.Time) {
	var recs []results.Record
	for t := from; t.Before(to); t = t.Add(time.Minute) {
		if t.Unix()/60%89 == 0 { // a gap now and then
			continue
		}
		recs = append(recs, z.record(t, !failing(t)))
	}
	z.add(recs...)
}

func (z *zoneFixture) record(t time.Time, ok bool) results.Record {
	return results.Record{ID: results.NewID(), Check: "api", Region: "eu", Kind: "http", Started: t,
		Duration: time.Duration(20+t.Unix()/60%50) * time.Millisecond, OK: ok, Degraded: ok && t.Unix()/60%31 == 0}
}

func (z *zoneFixture) add(recs ...results.Record) {
	ctx := z.t.Context()
	if err := z.store.Write(ctx, recs...); err != nil {
		z.t.Fatal(err)
	}
	if err := z.store.Flush(ctx); err != nil {
		z.t.Fatal(err)
	}
	z.recs = append(z.recs, recs...)
}

// truth counts the records in [from, to).
func (z *zoneFixture) truth(from, to time.Time) counts {
	var c counts
	for _, r := range z.recs {
		if !r.Started.Before(from) && r.Started.Before(to) {
			c.total++
			if !r.OK {
				c.failed++
			} else if r.Degraded {
				c.degraded++
			}
		}
	}
	return c
}

// check compares every local day and the chart's hours of s with the records.
func (z *zoneFixture) check(s *series, loc *time.Location, now time.Time, what string) {
	z.t.Helper()
	bounds := localDays(now, loc)
	for i := range historyDays {
		want := z.truth(bounds[i], earlier(bounds[i+1], now))
		if got := s.localDay(&bounds, i, now); got != want {
			z.t.Errorf("%s: %s (%s from %s): cache %+v, records %+v", what, bounds[i].Format(time.DateOnly), loc,
				bounds[i].UTC().Format("02 15:04"), got, want)
		}
	}
	last := now.Truncate(time.Hour)
	for h := range chartHours {
		at := last.Add(time.Duration(h-chartHours+1) * time.Hour)
		if got, want := s.hour(at).counts, z.truth(at, earlier(at.Add(time.Hour), now.Add(time.Minute))); got != want {
			z.t.Errorf("%s: hour %s: cache %+v, records %+v", what, at.Format("02 15:04"), got, want)
		}
	}
}

// TestLocalDayCounts: in UTC, Europe/Berlin (across the 25-hour 25 October
// 2026), Asia/Kolkata (+05:30), America/Los_Angeles and Asia/Kathmandu
// (+05:45) the cache counts every local day exactly as the records do:
// read fresh, then refreshed every few minutes for 30 hours across local
// and UTC midnights; and a failure at 23:30 UTC is on the next day in
// Berlin and on the same in UTC.
func TestLocalDayCounts(t *testing.T) {
	for _, zone := range []string{"UTC", "Europe/Berlin", "Asia/Kolkata", "America/Los_Angeles", "Asia/Kathmandu"} {
		t.Run(zone, func(t *testing.T) {
			loc := mustZone(t, zone)
			z := newZoneFixture(t)
			now := time.Date(2026, 10, 26, 9, 17, 20, 0, time.UTC)
			z.write(time.Date(2026, 10, 19, 0, 0, 0, 0, time.UTC), now)
			c := rollupCache{src: z.store, loc: loc, workers: 1, historyTTL: time.Hour, lag: 3 * time.Minute}
			k := seriesKey{"api", "eu"}
			if err := c.refresh(t.Context(), now, []seriesKey{k}); err != nil {
				t.Fatal(err)
			}
			z.check(c.series[k], loc, now, "fresh")
			for range 30 * 60 / 7 {
				next := now.Add(7 * time.Minute)
				z.write(results.Minute.BucketStart(now).Add(time.Minute), results.Minute.BucketStart(next).Add(time.Minute))
				now = next
				if err := c.refresh(t.Context(), now, []seriesKey{k}); err != nil {
					t.Fatal(err)
				}
			}
			z.check(c.series[k], loc, now, "incremental")

			bounds := localDays(now, loc)
			i := int(time.Date(2026, 10, 23, 0, 0, 0, 0, loc).Sub(bounds[0]).Hours()+12) / 24 // local 23 October
			if !bounds[i].Equal(time.Date(2026, 10, 23, 0, 0, 0, 0, loc)) {
				t.Fatalf("day %d is %s", i, bounds[i])
			}
			f23, f24 := c.series[k].localDay(&bounds, i, now).failed, c.series[k].localDay(&bounds, i+1, now).failed
			switch zone {
			case "Europe/Berlin": // 23:30 UTC is 01:30 on the 24th
				if f24 < 10 || f23 >= f24 {
					t.Errorf("23 Oct: %d failed, 24 Oct: %d: the failure at 23:30 UTC is not on the 24th", f23, f24)
				}
			case "UTC":
				if f23 < 10 || f24 >= f23 {
					t.Errorf("23 Oct: %d failed, 24 Oct: %d: the failure at 23:30 UTC is not on the 23rd", f23, f24)
				}
			}
		})
	}
}

// TestLocalDayLateResults: results that arrive after their minutes were
// folded (an agent's spool replayed) are on the right local day and in
// the right hour of the chart once HistoryTTL has passed: for a completed
// day (its heads read again) and for today (its minutes folded again).
func TestLocalDayLateResults(t *testing.T) {
	loc := mustZone(t, "Europe/Berlin")
	z := newZoneFixture(t)
	now := time.Date(2026, 10, 26, 9, 17, 0, 0, time.UTC)
	z.write(time.Date(2026, 10, 19, 0, 0, 0, 0, time.UTC), now)
	c := rollupCache{src: z.store, loc: loc, workers: 1, historyTTL: time.Hour, lag: 3 * time.Minute}
	k := seriesKey{"api", "eu"}
	refresh := func() {
		t.Helper()
		if err := c.refresh(t.Context(), now, []seriesKey{k}); err != nil {
			t.Fatal(err)
		}
	}
	refresh()
	for range 4 { // the cache has folded the last minutes
		next := now.Add(5 * time.Minute)
		z.write(now, next)
		now = next
		refresh()
	}
	z.check(c.series[k], loc, now, "before")
	// Late: failures at 21:50 UTC on 21 October (Berlin: 23:50 on the
	// 21st, in the head of the 22nd's midnight: the head must be read
	// again), at 23:50 UTC (Berlin: the 22nd) and at 06:10 UTC today, in
	// minutes folded into the chart long ago.
	z.add(z.record(time.Date(2026, 10, 21, 21, 50, 30, 0, time.UTC), false), z.record(time.Date(2026, 10, 21, 23, 50, 30, 0, time.UTC), false),
		z.record(time.Date(2026, 10, 26, 6, 10, 30, 0, time.UTC), false))
	now = now.Add(time.Minute)
	refresh()
	bounds := localDays(now, loc)
	if !bounds[85].Equal(time.Date(2026, 10, 22, 0, 0, 0, 0, loc)) {
		t.Fatalf("day 85 is %s", bounds[85])
	}
	for _, i := range []int{84, 85} {
		if got, want := c.series[k].localDay(&bounds, i, now), z.truth(bounds[i], bounds[i+1]); got == want {
			t.Errorf("%s: late results counted before HistoryTTL passed: the test shows nothing", bounds[i].Format(time.DateOnly))
		}
	}
	now = now.Add(time.Hour)
	z.write(now.Add(-time.Hour), now)
	refresh()
	z.check(c.series[k], loc, now, "after HistoryTTL")
}

// TestLocalDayPrunedMinutes: once the minute rollups of a day are gone
// (storage.retention.raw), its heads come from hour rollups: exact in a
// zone whose midnight is on the hour, and in one off the hour (Kolkata,
// +5:30) the local day counts from the hour after each midnight. Once the
// hours are gone too (storage.retention.hourly), a local day counts as the
// UTC day it overlaps most. Days with minutes stay exact.
func TestLocalDayPrunedMinutes(t *testing.T) {
	z := newZoneFixture(t)
	now := time.Date(2026, 10, 26, 9, 17, 0, 0, time.UTC)
	z.write(time.Date(2026, 10, 19, 0, 0, 0, 0, time.UTC), now)
	cutoff := time.Date(2026, 10, 22, 0, 0, 0, 0, time.UTC)
	utcDay := func(days int) func(b0, b1 time.Time) (time.Time, time.Time) {
		return func(b0, _ time.Time) (time.Time, time.Time) {
			d := time.Date(b0.Year(), b0.Month(), b0.Day()+days, 0, 0, 0, 0, time.UTC)
			return d, d.Add(day)
		}
	}
	exact := func(b0, b1 time.Time) (time.Time, time.Time) { return b0, b1 }
	nextHour := func(b0, b1 time.Time) (time.Time, time.Time) {
		return b0.Truncate(time.Hour).Add(time.Hour), b1.Truncate(time.Hour).Add(time.Hour)
	}
	for _, tt := range []struct {
		zone  string
		hours bool                                          // hour rollups pruned too
		span  func(b0, b1 time.Time) (time.Time, time.Time) // what a pruned local day counts
	}{
		{"Europe/Berlin", false, exact},
		{"Asia/Kolkata", false, nextHour},
		{"Pacific/Auckland", false, exact},
		{"Europe/Berlin", true, utcDay(0)},
		{"Asia/Kolkata", true, utcDay(0)},
		{"Pacific/Auckland", true, utcDay(-1)},
	} {
		t.Run(fmt.Sprintf("%s/hours pruned %v", tt.zone, tt.hours), func(t *testing.T) {
			loc := mustZone(t, tt.zone)
			c := rollupCache{src: prunedMinutes{z.store, cutoff, tt.hours}, loc: loc, workers: 1, historyTTL: time.Hour, lag: 3 * time.Minute}
			k := seriesKey{"api", "eu"}
			if err := c.refresh(t.Context(), now, []seriesKey{k}); err != nil {
				t.Fatal(err)
			}
			bounds := localDays(now, loc)
			for i := range historyDays {
				got := c.series[k].localDay(&bounds, i, now)
				switch {
				case bounds[i].Before(cutoff.Add(-day)): // both heads pruned
					from, to := tt.span(bounds[i], bounds[i+1])
					if want := z.truth(from, to); got != want {
						t.Errorf("%s: %+v, want %s – %s: %+v", bounds[i].Format(time.DateOnly), got, from.Format(time.RFC3339), to.Format(time.RFC3339), want)
					}
				case !bounds[i].Before(cutoff.Add(day)):
					if want := z.truth(bounds[i], earlier(bounds[i+1], now)); got != want {
						t.Errorf("%s: %+v, want %+v", bounds[i].Format(time.DateOnly), got, want)
					}
				}
			}
		})
	}
}

// prunedMinutes is a store whose minute rollups before cutoff are gone,
// and with hours its hour rollups too.
type prunedMinutes struct {
	results.RollupReader
	cutoff time.Time
	hours  bool
}

func (p prunedMinutes) Rollups(ctx context.Context, q results.RollupQuery) ([]results.Rollup, error) {
	if q.Res == results.Minute || p.hours && q.Res == results.Hour {
		q.Since = later(q.Since, p.cutoff)
		if !q.Since.Before(q.Until) {
			return nil, nil
		}
	}
	return p.RollupReader.Rollups(ctx, q)
}

// BenchmarkLocalDayFirstRead: the first read of one series (30 days of
// results a minute apart) from a real SQLite store, by time zone: in UTC
// no head is read; elsewhere one per local midnight with data, of the
// shorter side (Berlin 1–2 hours, Kolkata 5.5, Los Angeles 7–8), from hour
// rollups and, off the hour, 30 minutes. Multiply by the public series for
// a page's first load.
func BenchmarkLocalDayFirstRead(b *testing.B) {
	ctx := b.Context()
	store, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(b.TempDir(), "results.db"), PruneInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	now := time.Date(2026, 10, 26, 9, 17, 0, 0, time.UTC)
	var recs []results.Record
	for t := now.Add(-30 * 24 * time.Hour); t.Before(now); t = t.Add(time.Minute) {
		recs = append(recs, results.Record{ID: results.NewID(), Check: "api", Region: "eu", Kind: "http", Started: t,
			Duration: time.Duration(20+t.Unix()/60%50) * time.Millisecond, OK: t.Unix()/60%97 != 0})
		if len(recs) == 10000 {
			if err := store.Write(ctx, recs...); err != nil {
				b.Fatal(err)
			}
			recs = recs[:0]
		}
	}
	if err := store.Write(ctx, recs...); err != nil {
		b.Fatal(err)
	}
	if err := store.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	for _, zone := range []string{"UTC", "Europe/Berlin", "Asia/Kolkata", "America/Los_Angeles"} {
		b.Run(zone, func(b *testing.B) {
			loc := mustZone(b, zone)
			for b.Loop() {
				c := rollupCache{src: store, loc: loc, workers: 1, historyTTL: time.Hour, lag: 3 * time.Minute}
				if err := c.refresh(ctx, now, []seriesKey{{"api", "eu"}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestLocalDayHeadsRetried: when reading a head fails, the refresh says
// so, and the next one (well within HistoryTTL) reads the days and heads
// again: the local days are then exact.
func TestLocalDayHeadsRetried(t *testing.T) {
	loc := mustZone(t, "Europe/Berlin")
	z := newZoneFixture(t)
	now := time.Date(2026, 10, 26, 9, 17, 0, 0, time.UTC)
	z.write(time.Date(2026, 10, 19, 0, 0, 0, 0, time.UTC), now)
	src := &flakyHeads{RollupReader: z.store, fail: true}
	c := rollupCache{src: src, loc: loc, workers: 1, historyTTL: time.Hour, lag: 3 * time.Minute}
	k := seriesKey{"api", "eu"}
	if err := c.refresh(t.Context(), now, []seriesKey{k}); err == nil || !containsAll(err.Error(), "read head of api/eu", "disk on fire") {
		t.Fatalf("err = %v", err)
	}
	src.fail = false
	now = now.Add(30 * time.Second)
	if err := c.refresh(t.Context(), now, []seriesKey{k}); err != nil {
		t.Fatal(err)
	}
	z.check(c.series[k], loc, now, "retried")
}

// flakyHeads fails reads of minute or hour rollups of less than 12 hours
// that end before today: the heads' reads.
type flakyHeads struct {
	results.RollupReader
	fail bool
}

func (f *flakyHeads) Rollups(ctx context.Context, q results.RollupQuery) ([]results.Rollup, error) {
	if f.fail && (q.Res == results.Minute || q.Res == results.Hour) && q.Until.Sub(q.Since) < 12*time.Hour && q.Until.Before(time.Date(2026, 10, 26, 0, 0, 0, 0, time.UTC)) {
		return nil, errors.New("disk on fire")
	}
	return f.RollupReader.Rollups(ctx, q)
}
