package storetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/results"
)

var (
	checks  = []string{"api", "web"}
	regions = []string{"ap", "eu", "us"}
)

// randomRecords returns n records of checks × regions spread over days
// days from start, in random order, from a seeded source.
func randomRecords(rng *rand.Rand, n, days int, start time.Time) []results.Record {
	recs := make([]results.Record, n)
	span := int64(days) * int64(24*time.Hour)
	for i := range recs {
		d := time.Duration(rng.ExpFloat64() * float64(80*time.Millisecond))
		if rng.IntN(50) == 0 {
			d = time.Duration(rng.Int64N(int64(120 * time.Second))) // beyond the last bound sometimes
		}
		r := simple(fmt.Sprintf("r-%05d", i), checks[rng.IntN(len(checks))], regions[rng.IntN(len(regions))],
			start.Add(time.Duration(rng.Int64N(span))), d)
		r.OK = rng.IntN(10) != 0
		r.Degraded = rng.IntN(8) == 0
		recs[i] = r
	}
	return recs
}

// bruteForce computes the rollups of check (region "" = all) at res over
// recs with since ≤ bucket start < until, oldest first, without
// results.Rollup's methods.
func bruteForce(recs []results.Record, check, region string, res results.Resolution, since, until time.Time) []results.Rollup {
	buckets := map[time.Time]*results.Rollup{}
	for _, r := range recs {
		start := r.Started.UTC().Truncate(time.Duration(res))
		if r.Check != check || (region != "" && r.Region != region) || start.Before(since) || !start.Before(until) {
			continue
		}
		b := buckets[start]
		if b == nil {
			b = &results.Rollup{Check: check, Region: region, Start: start, Res: res, DurationMin: r.Duration}
			buckets[start] = b
		}
		b.Total++
		switch {
		case !r.OK:
			b.Failed++
		case r.Degraded: // degraded counts passed probes only
			b.Degraded++
		}
		b.DurationSum += r.Duration
		b.DurationMin = min(b.DurationMin, r.Duration)
		b.DurationMax = max(b.DurationMax, r.Duration)
		b.Hist.Observe(r.Duration)
	}
	out := make([]results.Rollup, 0, len(buckets))
	for _, b := range buckets {
		out = append(out, *b)
	}
	slices.SortFunc(out, func(a, b results.Rollup) int { return a.Start.Compare(b.Start) })
	return out
}

// compareRollups reports every difference between got and want.
func compareRollups(t *testing.T, what string, got, want []results.Rollup) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d buckets, want %d", what, len(got), len(want))
		return
	}
	for i := range want {
		g, w := got[i], want[i]
		if !g.Start.Equal(w.Start) || g.Check != w.Check || g.Region != w.Region || g.Res != w.Res {
			t.Errorf("%s[%d]: bucket %s/%q@%v res %v, want %s/%q@%v res %v", what, i,
				g.Check, g.Region, g.Start, time.Duration(g.Res), w.Check, w.Region, w.Start, time.Duration(w.Res))
			continue
		}
		g.Start = w.Start
		if g != w {
			t.Errorf("%s[%d] @%v:\n got %+v\nwant %+v", what, i, w.Start, g, w)
		}
	}
}

// writeInChunks writes recs in Write calls of random sizes, then flushes.
func writeInChunks(t *testing.T, s results.Store, rng *rand.Rand, recs []results.Record) {
	t.Helper()
	for len(recs) > 0 {
		n := min(len(recs), 1+rng.IntN(400))
		if err := s.Write(t.Context(), recs[:n]...); err != nil {
			t.Fatalf("Write: %v", err)
		}
		recs = recs[n:]
	}
	if err := s.Flush(t.Context()); err != nil {
		t.Fatalf("Flush: %v", err)
	}
}

func testRollupsBruteForce(t *testing.T, open Opener) {
	s := open(t)
	rng := rand.New(rand.NewPCG(1, 2))
	start := base().Add(-7 * time.Hour) // crosses day boundaries unaligned
	recs := randomRecords(rng, 4000, 4, start)
	writeInChunks(t, s, rng, recs)
	since, until := start.Add(-24*time.Hour), start.Add(6*24*time.Hour)
	for _, res := range []results.Resolution{results.Minute, results.Hour, results.Day} {
		for _, check := range checks {
			for _, region := range append([]string{""}, regions...) {
				q := results.RollupQuery{Check: check, Region: region, Res: res, Since: since, Until: until}
				got, err := s.Rollups(t.Context(), q)
				if err != nil {
					t.Fatalf("Rollups(%+v): %v", q, err)
				}
				what := fmt.Sprintf("%s/%q res %v", check, region, time.Duration(res))
				compareRollups(t, what, got, bruteForce(recs, check, region, res, since, until))
			}
		}
	}
	// No bounds: everything.
	got, err := s.Rollups(t.Context(), results.RollupQuery{Check: "web", Res: results.Day})
	if err != nil {
		t.Fatalf("Rollups without bounds: %v", err)
	}
	compareRollups(t, "web day unbounded", got, bruteForce(recs, "web", "", results.Day, since, until))
}

// testWindow: results.Window over days, hours and minutes equals the sum
// of the raw records whose minute is in the window.
func testWindow(t *testing.T, open Opener) {
	s := open(t)
	rng := rand.New(rand.NewPCG(5, 6))
	start := base()
	recs := randomRecords(rng, 3000, 4, start)
	writeInChunks(t, s, rng, recs)
	for _, w := range [][2]time.Duration{
		{0, 96 * time.Hour}, // whole days
		{90*time.Minute + 30*time.Second, 75 * time.Hour},            // partial hours and days at both ends
		{22 * time.Hour, 26*time.Hour + 30*time.Minute},              // across one midnight, no whole day
		{5*time.Hour + 10*time.Minute, 5*time.Hour + 50*time.Minute}, // inside an hour
		{3 * time.Hour, 3 * time.Hour},                               // empty
	} {
		since, until := start.Add(w[0]), start.Add(w[1])
		for _, region := range []string{"", "eu"} {
			got, err := results.Window(t.Context(), s, "api", region, since, until)
			if err != nil {
				t.Fatal(err)
			}
			var want results.Rollup
			for _, r := range bruteForce(recs, "api", region, results.Minute, since.Truncate(time.Minute), until.Truncate(time.Minute)) {
				want.Merge(r)
			}
			if got.Total != want.Total || got.Failed != want.Failed || got.Degraded != want.Degraded || got.DurationSum != want.DurationSum || got.Hist != want.Hist {
				t.Errorf("Window %v–%v region %q: total %d failed %d, want %d %d", w[0], w[1], region, got.Total, got.Failed, want.Total, want.Failed)
			}
		}
	}
}

func testRollupsWindow(t *testing.T, open Opener) {
	s := open(t)
	rng := rand.New(rand.NewPCG(3, 4))
	start := base()
	recs := randomRecords(rng, 1500, 2, start)
	writeInChunks(t, s, rng, recs)
	tests := []struct {
		name         string
		res          results.Resolution
		since, until time.Time
	}{
		{"minutes, unaligned since", results.Minute, start.Add(90*time.Minute + 30*time.Second), start.Add(3 * time.Hour)},
		{"minutes, aligned bounds", results.Minute, start.Add(time.Hour), start.Add(time.Hour + 10*time.Minute)},
		{"hours, unaligned bounds", results.Hour, start.Add(90*time.Minute + 30*time.Second), start.Add(5*time.Hour + 10*time.Minute)},
		{"hours, aligned bounds", results.Hour, start.Add(time.Hour), start.Add(4 * time.Hour)},
		{"days, since inside a day", results.Day, start.Add(time.Hour), start.Add(48 * time.Hour)},
		{"days, until exclusive", results.Day, start, start.Add(24 * time.Hour)},
		{"empty window", results.Minute, start.Add(time.Hour), start.Add(time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, region := range []string{"", "eu"} {
				q := results.RollupQuery{Check: "api", Region: region, Res: tt.res, Since: tt.since, Until: tt.until}
				got, err := s.Rollups(t.Context(), q)
				if err != nil {
					t.Fatalf("Rollups(%+v): %v", q, err)
				}
				compareRollups(t, fmt.Sprintf("region %q", region), got, bruteForce(recs, "api", region, tt.res, tt.since, tt.until))
			}
		})
	}
}

func testDuplicates(t *testing.T, open Opener) {
	s := open(t)
	t0 := base().Add(5 * time.Hour)
	r := simple("dup-1", "web", "eu", t0, 10*time.Millisecond)
	other := simple("dup-2", "web", "eu", t0.Add(time.Second), 20*time.Millisecond)
	write(t, s, r, r, other) // twice in one batch
	retried := r
	retried.OK, retried.Duration = false, time.Second
	write(t, s, retried, other) // and again later, with other content

	got, err := s.Results(t.Context(), results.Query{Check: "web"})
	if err != nil {
		t.Fatalf("Results: %v", err)
	}
	if !slices.Equal(ids(got), []string{"dup-2", "dup-1"}) {
		t.Fatalf("Results = %v, want [dup-2 dup-1]", ids(got))
	}
	if d := diffRecord(got[1], r); d != "" {
		t.Errorf("dup-1 is not the first write: %s", d)
	}
	for _, res := range []results.Resolution{results.Minute, results.Hour, results.Day} {
		rs, err := s.Rollups(t.Context(), results.RollupQuery{Check: "web", Res: res})
		if err != nil {
			t.Fatalf("Rollups: %v", err)
		}
		want := bruteForce([]results.Record{r, other}, "web", "", res, time.Time{}, t0.AddDate(1, 0, 0))
		compareRollups(t, fmt.Sprintf("rollups at %v", time.Duration(res)), rs, want)
	}

	// A large batch (a store may write it in several statements) with an
	// ID twice, far apart: the first is kept, and counted once.
	var big, unique []results.Record
	for i := range 150 {
		rec := simple(fmt.Sprintf("big-%03d", i), "api", "us", t0.Add(time.Duration(i)*time.Second), time.Duration(i+1)*time.Millisecond)
		big = append(big, rec)
		unique = append(unique, rec)
	}
	again := big[10]
	again.Duration = time.Hour
	big = append(big[:100], append([]results.Record{again}, big[100:]...)...)
	write(t, s, big...)
	got, err = s.Results(t.Context(), results.Query{Check: "api", Limit: 1000})
	if err != nil {
		t.Fatalf("Results: %v", err)
	}
	if len(got) != 150 {
		t.Fatalf("%d records of 151 with one ID twice, want 150", len(got))
	}
	rs, err := s.Rollups(t.Context(), results.RollupQuery{Check: "api", Res: results.Day})
	if err != nil {
		t.Fatal(err)
	}
	compareRollups(t, "rollups of the large batch", rs, bruteForce(unique, "api", "", results.Day, time.Time{}, t0.AddDate(1, 0, 0)))
}

func testWriteAfterClose(t *testing.T, open Opener) {
	s := open(t)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Write(t.Context(), simple("late", "web", "eu", base(), time.Millisecond)); err == nil {
		t.Error("Write after Close: no error")
	}
	_ = s.Close() // idempotent: must not panic or hang
}

func testCloseFlushes(t *testing.T, open Opener) {
	s := open(t)
	rng := rand.New(rand.NewPCG(5, 6))
	recs := randomRecords(rng, 700, 1, base())
	if err := s.Write(t.Context(), recs...); err != nil { // no Flush
		t.Fatalf("Write: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s = open(t)
	var n int64
	for _, check := range checks {
		rs, err := s.Rollups(t.Context(), results.RollupQuery{Check: check, Res: results.Day})
		if err != nil {
			t.Fatalf("Rollups after reopen: %v", err)
		}
		n += results.Sum(rs).Total
		got, err := s.Results(t.Context(), results.Query{Check: check})
		if err != nil {
			t.Fatalf("Results after reopen: %v", err)
		}
		want := bruteForce(recs, check, "", results.Day, time.Time{}, base().AddDate(0, 0, 2))
		if len(got) != int(results.Sum(want).Total) {
			t.Errorf("%s: %d records after reopen, want %d", check, len(got), results.Sum(want).Total)
		}
	}
	if n != int64(len(recs)) {
		t.Errorf("rollups after reopen count %d records, want %d", n, len(recs))
	}
	latest, err := s.Latest(t.Context())
	if err != nil || len(latest) != len(checks)*len(regions) {
		t.Errorf("Latest after reopen = %d records, %v; want %d", len(latest), err, len(checks)*len(regions))
	}
}

func testConcurrentReadWrite(t *testing.T, open Opener) {
	s := open(t)
	const writers, perWriter = 4, 300
	t0 := base().Add(2 * time.Hour)
	var wg, readers sync.WaitGroup
	stop := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				r := simple(fmt.Sprintf("c-%d-%d", w, i), "web", regions[w%len(regions)], t0.Add(time.Duration(i)*time.Second), time.Millisecond)
				if err := s.Write(t.Context(), r); err != nil {
					t.Errorf("Write: %v", err)
					return
				}
			}
		})
	}
	for range 3 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.Latest(t.Context()); err != nil {
					t.Errorf("Latest: %v", err)
				}
				if _, err := s.Results(t.Context(), results.Query{Check: "web", Limit: 50}); err != nil {
					t.Errorf("Results: %v", err)
				}
				if _, err := s.Rollups(t.Context(), results.RollupQuery{Check: "web", Res: results.Minute}); err != nil {
					t.Errorf("Rollups: %v", err)
				}
			}
		})
	}
	wg.Wait()
	if err := s.Flush(t.Context()); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	close(stop)
	readers.Wait()
	rs, err := s.Rollups(t.Context(), results.RollupQuery{Check: "web", Res: results.Day})
	if err != nil {
		t.Fatalf("Rollups: %v", err)
	}
	if n := results.Sum(rs).Total; n != writers*perWriter {
		t.Errorf("rollups count %d records, want %d", n, writers*perWriter)
	}
}

func testScreenshots(t *testing.T, open Opener) {
	s := open(t)
	t0 := base().Add(7 * time.Hour)
	png := []byte("\x89PNG\r\n\x1a\nfake image bytes")
	a := simple("shot-1", "journey", "eu", t0, time.Second)
	a.Screenshot = png
	b := simple("shot-2", "journey", "eu", t0.Add(time.Minute), time.Second)
	write(t, s, a, b)
	retried := a
	retried.Screenshot = []byte("other")
	write(t, s, retried) // a duplicate keeps the first screenshot

	got, err := s.Screenshot(t.Context(), "shot-1")
	if err != nil || string(got) != string(png) {
		t.Fatalf("Screenshot(shot-1) = %q, %v; want the stored PNG", got, err)
	}
	for _, id := range []string{"shot-2", "no-such-result"} {
		if _, err := s.Screenshot(t.Context(), id); !errors.Is(err, results.ErrNotFound) {
			t.Errorf("Screenshot(%s) error = %v, want ErrNotFound", id, err)
		}
	}
	recs, err := s.Results(t.Context(), results.Query{Check: "journey"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Screenshot != nil {
			t.Errorf("Results loads screenshot bytes of %s; they are read through Screenshot only", r.ID)
		}
	}
}
