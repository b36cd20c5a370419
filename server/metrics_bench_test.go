package server

import (
	"cmp"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/config"
	"github.com/vantageprobe/vantage/results"
)

// benchServer is a server (not running) of n HTTP checks c00000 … every
// hour, with the top-level keys top.
func benchServer(b *testing.B, n int, top string) *Server {
	b.Helper()
	var src strings.Builder
	fmt.Fprintf(&src, "storage: {path: %q}\n%sdefaults: {interval: 1h, timeout: 5s}\nchecks:\n", filepath.Join(b.TempDir(), "r.db"), top)
	for i := range n {
		fmt.Fprintf(&src, "  - {name: c%05d, http: {url: \"http://127.0.0.1:1/%d\"}}\n", i, i)
	}
	cfg, err := config.Parse("bench.yaml", []byte(src.String()), nil)
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(b.Context(), Options{Config: cfg})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.close(b.Context()) })
	return s
}

// BenchmarkMetricsScrape renders /metrics with 10,000 HTTP checks, each
// with a latest result (about 130,000 series).
func BenchmarkMetricsScrape(b *testing.B) {
	const n = 10000
	s := benchServer(b, n, "")
	now := time.Now().UTC()
	for i := range n {
		rec := results.Record{ID: results.NewID(), Check: fmt.Sprintf("c%05d", i), Region: LocalRegion, Kind: "http", Started: now,
			Duration: 50 * time.Millisecond, OK: true, StatusCode: 200, Detail: []byte(`{"http":{"status_code":200,"version":"HTTP/1.1","content_length":3,"redirects":0}}`)}
		s.observe(rec, nil)
	}
	h := s.Handler()
	for _, enc := range []string{"", "gzip"} {
		b.Run("encoding="+cmp.Or(enc, "identity"), func(b *testing.B) {
			b.ReportAllocs()
			var size int
			for b.Loop() {
				w := &countingWriter{header: http.Header{}}
				req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
				req.Header.Set("Accept-Encoding", enc)
				h.ServeHTTP(w, req)
				if w.code != 0 && w.code != http.StatusOK {
					b.Fatal(w.code)
				}
				size = w.n
			}
			b.ReportMetric(float64(size)/(1<<20), "MiB/scrape")
		})
	}
}

// countingWriter is a ResponseWriter that counts and drops the body, as a
// socket would take it, so the benchmark measures rendering, not a
// growing in-memory buffer.
type countingWriter struct {
	header http.Header
	code   int
	n      int
}

func (w *countingWriter) Header() http.Header  { return w.header }
func (w *countingWriter) WriteHeader(code int) { w.code = code }
func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	return len(p), nil
}

// BenchmarkOverview renders the overview (GET /) of 1,000 HTTP checks,
// each with a stored latest result.
func BenchmarkOverview(b *testing.B) {
	const n = 1000
	h := benchLatest(b, n)
	b.ReportAllocs()
	var size int
	for b.Loop() {
		size = benchGet(b, h, "/")
	}
	if size < n*100 {
		b.Fatalf("overview of %d bytes for %d checks", size, n)
	}
	b.ReportMetric(float64(size)/1024, "KiB/page")
}

// BenchmarkAPIChecks answers GET /api/v1/checks for 1,000 HTTP checks,
// each with a stored latest result.
func BenchmarkAPIChecks(b *testing.B) {
	const n = 1000
	h := benchLatest(b, n)
	b.ReportAllocs()
	var size int
	for b.Loop() {
		size = benchGet(b, h, "/api/v1/checks")
	}
	if size < n*500 {
		b.Fatalf("answer of %d bytes for %d checks", size, n)
	}
	b.ReportMetric(float64(size)/1024, "KiB/answer")
}

// benchLatest is the handler of a server of n HTTP checks, each with one
// stored result (every tenth failing), the JSON API public.
func benchLatest(b *testing.B, n int) http.Handler {
	b.Helper()
	s := benchServer(b, n, "server: {public_api: true, rate_limit: {disabled: true}}\n")
	now := time.Now().UTC()
	recs := make([]results.Record, n)
	for i := range recs {
		recs[i] = results.Record{ID: results.NewID(), Check: fmt.Sprintf("c%05d", i), Region: LocalRegion, Kind: "http", Target: fmt.Sprintf("http://127.0.0.1:1/%d", i),
			Started: now, Duration: 50 * time.Millisecond, OK: i%10 != 0, StatusCode: 200, ErrorClass: "status", Error: "unexpected status 500",
			Detail: []byte(`{"http":{"status_code":200,"version":"HTTP/1.1","content_length":3,"redirects":0}}`)}
		if recs[i].OK {
			recs[i].ErrorClass, recs[i].Error = "", ""
		}
	}
	if err := s.Store().Write(b.Context(), recs...); err != nil {
		b.Fatal(err)
	}
	if err := s.Store().Flush(b.Context()); err != nil {
		b.Fatal(err)
	}
	return s.Handler()
}

// benchGet serves GET path and returns the size of the answer.
func benchGet(b *testing.B, h http.Handler, path string) int {
	w := &countingWriter{header: http.Header{}}
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
	if w.code != 0 && w.code != http.StatusOK {
		b.Fatalf("GET %s: %d", path, w.code)
	}
	return w.n
}
