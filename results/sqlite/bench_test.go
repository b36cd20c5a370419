package sqlite

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/probes"
	"github.com/vantageprobe/vantage/results"
)

// benchRecord is a realistic passing HTTP result with a random ID.
func benchRecord(check, region string, started time.Time, n int) results.Record {
	d := time.Duration(20+n%180) * time.Millisecond
	return results.Record{
		ID: results.NewID(), Check: check, Region: region, Kind: probes.KindHTTP,
		Target: "https://" + check + ".example.test/health", Started: started, Duration: d,
		OK: n%50 != 0, Degraded: n%17 == 0, StatusCode: 200, TraceID: "4bf92f3577b34da6a3ce929d0e0e4736",
		Phases: probes.Phases{Resolve: d / 10, Connect: d / 5, TLS: d / 4, Processing: d / 3, Transfer: d / 20},
	}
}

func openBenchStore(b *testing.B, o Options) *Store {
	b.Helper()
	o.Path, o.PruneInterval = filepath.Join(b.TempDir(), "bench.db"), -1
	s, err := Open(b.Context(), o)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkIngest measures records/s through Write+Flush, rollups and the
// latest table maintained: Write calls of 10,000 records from 100 checks ×
// 3 regions probing every 10 s, with the default BatchSize and a small one.
func BenchmarkIngest(b *testing.B) {
	for _, batchSize := range []int{DefaultBatchSize, 2000} {
		b.Run(fmt.Sprintf("tx=%d", batchSize), func(b *testing.B) { benchIngest(b, batchSize) })
	}
}

func benchIngest(b *testing.B, batchSize int) {
	s := openBenchStore(b, Options{BatchSize: batchSize})
	const batch, checks = 10000, 100
	regions := []string{"ap", "eu", "us"}
	start := time.Now().UTC().Add(-48 * time.Hour)
	n := 0
	for b.Loop() {
		recs := make([]results.Record, batch)
		for i := range recs {
			series := n % (checks * len(regions))
			started := start.Add(time.Duration(n/(checks*len(regions)))*10*time.Second + time.Duration(series)*time.Millisecond)
			recs[i] = benchRecord(fmt.Sprintf("check-%03d", series%checks), regions[series/checks], started, n)
			n++
		}
		if err := s.Write(b.Context(), recs...); err != nil {
			b.Fatal(err)
		}
		if err := s.Flush(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
	if st := s.Stats(); st.RecordsWritten != int64(n) || st.QueueFullWaits != 0 {
		b.Errorf("Stats = %+v, want %d records written without waiting", st, n)
	}
}

// BenchmarkUptime90Days measures the status page's 90 daily uptime values
// of one check (regions merged) from day rollups, over 30 days of
// 10-second results.
func BenchmarkUptime90Days(b *testing.B) {
	s := openBenchStore(b, Options{})
	today := time.Now().UTC().Truncate(24 * time.Hour)
	first := today.AddDate(0, 0, -30)
	const every = 10 * time.Second
	total := int(30 * 24 * time.Hour / every)
	built := time.Now()
	for i := 0; i < total; i += 10000 {
		recs := make([]results.Record, 0, 10000)
		for j := i; j < min(i+10000, total); j++ {
			recs = append(recs, benchRecord("web", "eu", first.Add(time.Duration(j)*every), j))
		}
		if err := s.Write(b.Context(), recs...); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Flush(b.Context()); err != nil {
		b.Fatal(err)
	}
	b.Logf("fixture: %d records in %v", total, time.Since(built).Round(time.Millisecond))

	since := today.AddDate(0, 0, -89)
	var known int
	for b.Loop() {
		rs, err := s.Rollups(b.Context(), results.RollupQuery{
			Check: "web", Res: results.Day, Since: since, Until: today.AddDate(0, 0, 1),
		})
		if err != nil {
			b.Fatal(err)
		}
		known = len(dailyUptime(rs, since))
	}
	if known != 30 {
		b.Errorf("%d days with data, want 30", known)
	}
}

// dailyUptime returns the uptime of each of 90 days from since (days
// without data are absent), as the status page computes it.
func dailyUptime(rs []results.Rollup, since time.Time) map[int]float64 {
	out := make(map[int]float64, 90)
	for _, r := range rs {
		day := int(r.Start.Sub(since) / (24 * time.Hour))
		if u, ok := results.Uptime([]results.Rollup{r}); ok && day >= 0 && day < 90 {
			out[day] = u
		}
	}
	return out
}

// BenchmarkLatest measures reading the newest record of 1,000 checks × 3
// regions, what the overview and /api/v1/checks read on every request.
func BenchmarkLatest(b *testing.B) {
	s := openBenchStore(b, Options{})
	regions := []string{"ap", "eu", "us"}
	start := time.Now().UTC().Add(-time.Hour)
	var recs []results.Record
	for n := range 2 * 3000 {
		series := n % 3000
		recs = append(recs, benchRecord(fmt.Sprintf("check-%04d", series/3), regions[series%3], start.Add(time.Duration(n)*time.Millisecond), n))
	}
	if err := s.Write(b.Context(), recs...); err != nil {
		b.Fatal(err)
	}
	if err := s.Flush(b.Context()); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		latest, err := s.Latest(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		if len(latest) != 3000 {
			b.Fatalf("%d latest records, want 3000", len(latest))
		}
	}
}
