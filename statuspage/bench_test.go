package statuspage_test

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/results"
	"github.com/vantageprobe/vantage/results/sqlite"
	"github.com/vantageprobe/vantage/statuspage"
)

// The goal: 200 public checks, 3 regions, 90 days of history.
const (
	benchChecks = 200
	benchGroups = 10
)

var benchRegions = []string{"ap", "eu", "us"}

// synthRollups is a hand-written RollupReader that computes the rollups
// of a check probed once a minute from every region, as a store would
// return them: deterministic latencies, a few outages on a few days.
type synthRollups struct {
	now time.Time
	// realistic marks about 15 % of days with some downtime (a few of
	// them major outages), as a run with random failures has (about 13 %
	// of days); the default is about 3 bad days per check.
	realistic bool
}

func seed(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

func (s synthRollups) Rollups(_ context.Context, q results.RollupQuery) ([]results.Rollup, error) {
	step := time.Duration(q.Res)
	h := seed(q.Check + "/" + q.Region)
	t := q.Since.Truncate(step)
	if t.Before(q.Since) {
		t = t.Add(step)
	}
	out := make([]results.Rollup, 0, int(q.Until.Sub(t)/step)+1)
	for ; t.Before(q.Until) && !t.After(s.now); t = t.Add(step) {
		r := results.Rollup{Check: q.Check, Region: q.Region, Start: t, Res: q.Res}
		k := uint64(t.Unix() / int64(step/time.Second))
		lat := time.Duration(40+h%160+(k*7+h)%40) * time.Millisecond
		if q.Res == results.Day {
			r.Total = 1440
			if (h+k)%97 == 0 { // now and then a bad day (about 3 per check in 90 days)
				r.Failed = int64(5 + (h+k)%90)
			}
			if s.realistic { // the same days in every region of a check
				switch x := (seed(q.Check)>>7 + k*2654435761) % 100; {
				case x < 10: // a few failed probes
					r.Failed = int64(1 + x%4)
				case x < 14: // a partial outage
					r.Failed = int64(6 + x*3)
				case x < 15: // a major outage
					r.Failed = int64(90 + x*7)
				}
			}
		} else {
			r.Total = 1
			if (h+k)%997 == 0 {
				r.Failed = 1
			}
			r.Hist.Observe(lat)
		}
		r.DurationSum, r.DurationMin, r.DurationMax = lat*time.Duration(r.Total), lat, lat
		out = append(out, r)
	}
	return out, nil
}

// benchSource is 200 public checks in 10 groups, 3 regions each, with
// incidents and maintenance, over rollups rr.
func benchSource(now time.Time, rr results.RollupReader) (*fakeSource, statuspage.Config) {
	cfg := statuspage.Config{Title: "Bench Status", URL: "https://status.example.com"}
	src := &fakeSource{RollupReader: rr, states: map[string]statuspage.CheckState{}}
	for g := range benchGroups {
		grp := statuspage.Group{Name: fmt.Sprintf("Group %d", g+1)}
		for c := range benchChecks / benchGroups {
			name := fmt.Sprintf("service-%02d-%02d", g, c)
			grp.Checks = append(grp.Checks, name)
			st := up(benchRegions...)
			if (g+c)%41 == 0 {
				st.State, st.Regions[1].State = statuspage.StateDegraded, statuspage.StateDown
			}
			src.states[name] = st
		}
		cfg.Groups = append(cfg.Groups, grp)
	}
	for i := range 23 {
		at := now.Add(-time.Duration(i*90+1) * time.Hour)
		in := statuspage.Incident{Title: fmt.Sprintf("Incident %d: elevated errors", i), Status: statuspage.Resolved, Impact: statuspage.ImpactMinor,
			Checks:  []string{cfg.Groups[i%benchGroups].Checks[i%7]},
			Updates: []statuspage.Update{{At: at, Status: statuspage.Investigating, Body: "Looking."}, {At: at.Add(40 * time.Minute), Status: statuspage.Resolved, Body: "Fixed."}}}
		if i < 3 {
			in.Status, in.Updates = statuspage.Identified, in.Updates[:1]
		}
		src.events.Incidents = append(src.events.Incidents, in)
	}
	src.events.Maintenance = []statuspage.Maintenance{
		{Name: "Network upgrade", Checks: cfg.Groups[0].Checks[:3], Start: now.Add(time.Hour), End: now.Add(3 * time.Hour)},
		{Name: "Database failover test", Checks: cfg.Groups[1].Checks[:2], Start: now.Add(-time.Hour), End: now.Add(time.Hour)},
	}
	return src, cfg
}

// benchPage is the page on the synthetic source, its rollups read once.
func benchPage(b testing.TB) (*statuspage.Page, http.Handler) {
	return benchPageOf(b, false)
}

// benchPageOf is benchPage, with realistic marks about one day in five.
func benchPageOf(b testing.TB, realistic bool) (*statuspage.Page, http.Handler) {
	now := time.Now().UTC()
	src, cfg := benchSource(now, synthRollups{now: now, realistic: realistic})
	p, err := statuspage.New(cfg, src, statuspage.Options{TTL: time.Hour, Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	if err := p.Refresh(b.Context()); err != nil {
		b.Fatal(err)
	}
	return p, p.Handler()
}

// serveIndex requests / from h in process and returns the recorder.
func serveIndex(b testing.TB, h http.Handler, gzip bool) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	if gzip {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		b.Fatalf("GET / = %d", w.Code)
	}
	return w
}

// percentiles reports p50 and p99 of ds in milliseconds.
func percentiles(b *testing.B, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	at := func(q float64) float64 {
		return float64(ds[min(len(ds)-1, int(q*float64(len(ds))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

// BenchmarkPageWarm: GET / served from the rendered page (the state between
// changes), identity and gzip; reports the HTML size.
func BenchmarkPageWarm(b *testing.B) {
	for _, gz := range []bool{false, true} {
		b.Run("gzip="+strconv.FormatBool(gz), func(b *testing.B) {
			_, h := benchPage(b)
			w := serveIndex(b, h, gz)
			ds := make([]time.Duration, 0, 1<<16)
			for b.Loop() {
				start := time.Now()
				serveIndex(b, h, gz)
				ds = append(ds, time.Since(start))
			}
			percentiles(b, ds)
			b.ReportMetric(float64(w.Body.Len())/1024, "body-KiB")
		})
	}
}

// BenchmarkPageComponent: GET /components/{check} of the benchmark page
// (3 regions). "first" is a component's first visit: its 7 days read
// (3 × 10,080 minute rollups from the synthetic reader; on SQLite add
// about 50 ms per region) and its page rendered; "warm" the rendered page;
// "rebuild" after Invalidate (the snapshot rebuilt, the 7 days up to date).
func BenchmarkPageComponent(b *testing.B) {
	const path = "/components/service-00-00"
	serve := func(b *testing.B, h http.Handler) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if w.Code != http.StatusOK {
			b.Fatalf("GET %s = %d", path, w.Code)
		}
	}
	for _, mode := range []string{"first", "warm", "rebuild"} {
		b.Run(mode, func(b *testing.B) {
			p, h := benchPage(b)
			serve(b, h)
			var ds []time.Duration
			for b.Loop() {
				switch mode {
				case "first":
					b.StopTimer()
					p, h = benchPage(b)
					b.StartTimer()
				case "rebuild":
					p.Invalidate()
				}
				start := time.Now()
				serve(b, h)
				ds = append(ds, time.Since(start))
			}
			percentiles(b, ds)
		})
	}
}

// BenchmarkPageLoopback: GET / with gzip over real loopback connections
// (keep-alive, 16 concurrent clients in the same process, so they share
// the CPUs with the server); reports requests per second.
func BenchmarkPageLoopback(b *testing.B) {
	_, h := benchPage(b)
	srv := httptest.NewServer(h)
	b.Cleanup(srv.Close)
	tr := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
	b.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr}
	b.SetParallelism(8) // × GOMAXPROCS clients
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
			req.Header.Set("Accept-Encoding", "gzip")
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("GET / = %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkPageRebuild: GET / after Invalidate, the cost a state change
// puts on the next visitor: states and events read again, every component
// recomputed from the cached rollups, the HTML rendered and gzipped.
func BenchmarkPageRebuild(b *testing.B) {
	p, h := benchPage(b)
	var ds []time.Duration
	for b.Loop() {
		p.Invalidate()
		start := time.Now()
		serveIndex(b, h, true)
		ds = append(ds, time.Since(start))
	}
	percentiles(b, ds)
}

// BenchmarkPageFirstLoad: a new page's first GET /, reading 90 days of day
// rollups and 24 hours of minute rollups of 600 series from the synthetic
// reader (no storage cost; see BenchmarkPageSQLite for that).
func BenchmarkPageFirstLoad(b *testing.B) {
	now := time.Now().UTC()
	src, cfg := benchSource(now, synthRollups{now: now})
	var ds []time.Duration
	for b.Loop() {
		p, err := statuspage.New(cfg, src, statuspage.Options{Now: func() time.Time { return now }})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		serveIndex(b, p.Handler(), true)
		ds = append(ds, time.Since(start))
	}
	percentiles(b, ds)
}

// BenchmarkPageSQLite runs the page on a real SQLite results store:
// VANTAGE_BENCH_CHECKS checks (default 20; the fixture of 200 takes
// minutes to write) × 3 regions, one result every VANTAGE_BENCH_STEP
// (default 1m) for 24 hours and four a day for VANTAGE_BENCH_DAYS (default
// 89) days before; VANTAGE_BENCH_PUBLIC of them on the page (default all).
// It also logs one check's 30-day SLO evaluation on that store. "first" is a new page's first GET / (every
// series read whole); "refresh" a GET / once the TTL has passed (the new
// minutes of every series read); "rebuild" a GET / after Invalidate.
func BenchmarkPageSQLite(b *testing.B) {
	checks, step, days := 20, time.Minute, 89
	if v, err := strconv.Atoi(os.Getenv("VANTAGE_BENCH_CHECKS")); err == nil && v > 0 {
		checks = v
	}
	if v, err := time.ParseDuration(os.Getenv("VANTAGE_BENCH_STEP")); err == nil && v > 0 {
		step = v
	}
	if v, err := strconv.Atoi(os.Getenv("VANTAGE_BENCH_DAYS")); err == nil && v > 0 {
		days = v
	}
	public := checks
	if v, err := strconv.Atoi(os.Getenv("VANTAGE_BENCH_PUBLIC")); err == nil && v > 0 && v < checks {
		public = v
	}
	ctx := b.Context()
	store, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(b.TempDir(), "results.db"), PruneInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	now := time.Now().UTC().Truncate(time.Minute)
	src, cfg := benchSource(now, store)
	var names []string
	for _, g := range cfg.Groups {
		names = append(names, g.Checks...)
	}
	for i := len(names); i < checks; i++ { // beyond the 200 of the fixture: private checks
		names = append(names, fmt.Sprintf("private-%04d", i))
	}
	names = names[:checks]
	cfg.Groups = []statuspage.Group{{Name: "All", Checks: names[:public]}}
	built := time.Now()
	var recs []results.Record
	flush := func() {
		if err := store.Write(ctx, recs...); err != nil {
			b.Fatal(err)
		}
		recs = recs[:0]
	}
	for _, c := range names {
		for _, r := range benchRegions {
			h := seed(c + "/" + r)
			add := func(t time.Time) {
				k := uint64(t.Unix() / 60)
				recs = append(recs, results.Record{ID: results.NewID(), Check: c, Region: r, Kind: "http", Started: t,
					Duration: time.Duration(40+h%160+(k*7+h)%40) * time.Millisecond, OK: (h+k)%997 != 0})
				if len(recs) == 10000 {
					flush()
				}
			}
			for d := days; d >= 1; d-- {
				for q := range 4 {
					add(now.Add(-24*time.Hour).Truncate(24*time.Hour).AddDate(0, 0, -d+1).Add(time.Duration(q) * 6 * time.Hour))
				}
			}
			for t := now.Add(-24 * time.Hour); !t.After(now); t = t.Add(step) {
				add(t)
			}
		}
	}
	flush()
	if err := store.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	b.Logf("fixture: %d checks × %d regions, %d days, %d on the page, written in %v", checks, len(benchRegions), days+1, public, time.Since(built).Round(time.Millisecond))
	// The SLO of one check over 30 days from the same store (what `vantage
	// slo` and the alert engine's burn rates read per check).
	for _, sli := range []results.SLIKind{results.SLIAvailability, results.SLILatency} {
		spec := results.SLOSpec{Objective: mustObjective(b, "99.9"), SLI: sli}
		if sli == results.SLILatency {
			spec.Threshold = 150 * time.Millisecond
		}
		start := time.Now()
		if _, err := results.EvaluateSLO(ctx, store, names[0], spec, nil, now); err != nil {
			b.Fatal(err)
		}
		b.Logf("SLO %s of one check, 3 regions, 30 days: %v", sli, time.Since(start).Round(time.Millisecond))
	}
	clk := newClock(now)
	for _, mode := range []string{"first", "refresh", "rebuild"} {
		b.Run(mode, func(b *testing.B) {
			p, err := statuspage.New(cfg, src, statuspage.Options{Now: clk.Now})
			if err != nil {
				b.Fatal(err)
			}
			h := p.Handler()
			if mode != "first" {
				serveIndex(b, h, true)
			}
			var ds []time.Duration
			cpu0 := cpuTime()
			for b.Loop() {
				switch mode {
				case "first":
					b.StopTimer()
					p, _ = statuspage.New(cfg, src, statuspage.Options{Now: clk.Now})
					h = p.Handler()
					b.StartTimer()
				case "refresh":
					clk.advance(statuspage.DefaultTTL)
				case "rebuild":
					p.Invalidate()
				}
				start := time.Now()
				serveIndex(b, h, true)
				ds = append(ds, time.Since(start))
			}
			// CPU of the whole process (the page and the store's reads):
			// unlike the latencies, not skewed by other load on the machine.
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(len(ds)), "cpu-ms/op")
			percentiles(b, ds)
		})
	}
}

func mustObjective(b *testing.B, s string) results.Objective {
	o, err := results.ParseObjective(s)
	if err != nil {
		b.Fatal(err)
	}
	return o
}

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestPageSize: the page (200 checks, 3 regions, 90 days) stays
// within 300 KB of HTML with about 3 marked days per component ("sparse").
//
// "realistic" marks about one day in six (most with a few failed probes,
// some partial and a few major outages), as a run with random failures has
// (about 13 %): every marked day has its own tooltip (date, uptime,
// downtime, incidents), about 60 bytes unless another day reads alike, so
// that page is bounded at 450 KB (about 30 KB gzipped).
func TestPageSize(t *testing.T) {
	for _, realistic := range []bool{false, true} {
		name, limit := "sparse", 300*1000
		if realistic {
			name, limit = "realistic", 450*1000
		}
		t.Run(name, func(t *testing.T) {
			_, h := benchPageOf(t, realistic)
			w := serveIndex(t, h, false)
			if d := os.Getenv("STATUSPAGE_DUMP"); d != "" {
				os.WriteFile(filepath.Join(d, name+".html"), w.Body.Bytes(), 0o644)
			}
			if n := w.Body.Len(); n > limit {
				t.Errorf("GET / is %d bytes, want ≤ %d KB", n, limit/1000)
			} else {
				t.Logf("GET / is %d bytes (%.0f KB)", n, float64(n)/1000)
			}
			if z := serveIndex(t, h, true); z.Header().Get("Content-Encoding") != "gzip" {
				t.Error("not gzipped")
			} else {
				t.Logf("gzipped: %d bytes", z.Body.Len())
			}
		})
	}
}
