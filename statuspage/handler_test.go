package statuspage_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/statuspage"
)

// TestRoutes requests every route of the fixture page and checks status,
// content type, the security headers and what each must say.
func TestRoutes(t *testing.T) {
	f := newFixture(t, fixtureConfig(), fixtureSource(fixtureNow), statuspage.Options{})
	_, index := get(t, f.srv, "/")
	css := between2(index, `rel="stylesheet" href="`, `"`)
	tests := []struct {
		path, ctype string
		status      int
		want        []string
	}{
		{"/", "text/html", 200, []string{"<h1 id=\"status\">Partial outage</h1>", "Elevated API errors", "Checkout upgrade", "Database migration",
			"api-eu", "Partial outage", "Under maintenance", `class="bars"`, `class="rt"`, "p50", "Europe/Berlin", "99.96%"}},
		{"/history", "text/html", 200, []string{"Incident history", "DNS resolution failures", "Elevated API errors", "March 2026", "Web server patching"}},
		{"/incidents/dns-1", "text/html", 200, []string{"DNS resolution failures", "Names do not resolve.", "Fixed.", "Resolved", "Affects: web"}},
		{"/incidents/nope", "text/html", 404, []string{"Not found"}},
		{"/components/api-eu", "text/html", 200, []string{"<table>", "13 Mar 2026", "99.74%", "4 min", "Down", "(Europe/Berlin)",
			`viewBox="0 0 23 24"`, `viewBox="0 0 167 24"`, "24 h · top", "7 days · top", "last 7 days, hourly: eu p50"}},
		{"/components/" + privateCheck, "text/html", 404, []string{"Not found"}},
		{"/feed.atom", "application/atom+xml", 200, []string{"<feed", "DNS resolution failures"}},
		{"/feed.rss", "application/rss+xml", 200, []string{"<rss", "DNS resolution failures"}},
		{"/api/v2/summary.json", "application/json", 200, []string{`"indicator": "major"`, `"scheduled_maintenances"`}},
		{"/api/v2/status.json", "application/json", 200, []string{`"description": "Partial outage"`}},
		{"/api/v2/components.json", "application/json", 200, []string{`"api-eu"`}},
		{"/api/v2/incidents.json", "application/json", 200, []string{"DNS resolution failures", "Elevated API errors"}},
		{"/api/v2/incidents/unresolved.json", "application/json", 200, []string{"Elevated API errors"}},
		{"/api/v2/scheduled-maintenances.json", "application/json", 200, []string{"Web server patching", "Database migration"}},
		{"/api/v2/scheduled-maintenances/upcoming.json", "application/json", 200, []string{"Database migration"}},
		{"/api/v2/scheduled-maintenances/active.json", "application/json", 200, []string{"Checkout upgrade"}},
		{"/badge/api/status.svg", "image/svg+xml", 200, []string{"operational"}},
		{"/badge/api-eu/status.svg", "image/svg+xml", 200, []string{"partial outage"}},
		{"/badge/api/uptime.svg", "image/svg+xml", 200, []string{"uptime 30d", "99.92%"}},
		{"/badge/api/uptime.svg?window=24h", "image/svg+xml", 200, []string{"uptime 24h", "100%"}},
		{"/badge/api/uptime.svg?window=1y", "text/plain", 400, []string{"window must be"}},
		{"/badge/api/latency.svg", "image/svg+xml", 200, []string{"response time", " ms"}},
		{"/badge/api/shields.json", "application/json", 200, []string{`"schemaVersion":1`, `"message":"operational"`}},
		{"/badge/api/shields.json?type=uptime&window=7d", "application/json", 200, []string{`"label":"uptime 7d"`}},
		{"/badge/api/other.svg", "text/html", 404, []string{"Not found"}},
		{"/badge/" + privateCheck + "/status.svg", "text/html", 404, []string{"Not found"}},
		{css, "text/css", 200, []string{"prefers-color-scheme: dark"}},
		{"/static/status.0000.css", "text/html", 404, nil},
		{"/nope", "text/html", 404, nil},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, body := get(t, f.srv, tt.path)
			if resp.StatusCode != tt.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), tt.ctype) {
				t.Fatalf("GET %s = %d %s, want %d %s\n%s", tt.path, resp.StatusCode, resp.Header.Get("Content-Type"), tt.status, tt.ctype, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("GET %s: %q missing", tt.path, w)
				}
			}
			checkSecurityHeaders(t, tt.path, resp)
		})
	}
}

func between2(s, start, end string) string {
	_, rest, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, end)
	return v
}

func checkSecurityHeaders(t *testing.T, path string, resp *http.Response) {
	t.Helper()
	h := resp.Header
	csp := h.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "script-src") ||
		strings.Contains(csp, "unsafe-inline") {
		t.Errorf("%s: Content-Security-Policy %q", path, csp)
	}
	if strings.HasPrefix(h.Get("Content-Type"), "text/html") &&
		(!strings.Contains(csp, "style-src 'self'") || !strings.Contains(csp, "img-src 'self' data:")) {
		t.Errorf("%s: HTML Content-Security-Policy %q", path, csp)
	}
	if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" {
		t.Errorf("%s: X-Content-Type-Options %q, Referrer-Policy %q", path, h.Get("X-Content-Type-Options"), h.Get("Referrer-Policy"))
	}
}

// TestBanner derives the headline and the page indicator from component
// states, active maintenance and open incidents.
func TestBanner(t *testing.T) {
	down := withState(statuspage.StateDegraded, "eu", "us")
	down.Regions[1].State = statuspage.StateDown
	open := statuspage.Incident{Title: "Slow logins", Status: statuspage.Investigating, Impact: statuspage.ImpactCritical,
		Updates: []statuspage.Update{{At: fixtureNow.Add(-time.Minute), Status: statuspage.Investigating, Body: "Looking."}}}
	tests := []struct {
		name      string
		states    map[string]statuspage.CheckState
		events    statuspage.Events
		banner    string
		indicator string
		api       string // status of component a
	}{
		{"all up", map[string]statuspage.CheckState{"a": up("eu"), "b": up("eu")}, statuspage.Events{},
			"All systems operational", "none", "operational"},
		{"degraded latency", map[string]statuspage.CheckState{"a": withState(statuspage.StateDegraded, "eu"), "b": up("eu")}, statuspage.Events{},
			"Degraded performance", "minor", "degraded_performance"},
		{"a minority of regions down", map[string]statuspage.CheckState{"a": down, "b": up("eu")}, statuspage.Events{},
			"Partial outage", "major", "partial_outage"},
		{"down", map[string]statuspage.CheckState{"a": withState(statuspage.StateDown, "eu"), "b": up("eu")}, statuspage.Events{},
			"Major outage", "critical", "major_outage"},
		{"maintenance state", map[string]statuspage.CheckState{"a": withState(statuspage.StateMaintenance, "eu"), "b": up("eu")}, statuspage.Events{},
			"Under maintenance", "maintenance", "under_maintenance"},
		{"active maintenance window wins over down", map[string]statuspage.CheckState{"a": withState(statuspage.StateDown, "eu"), "b": up("eu")},
			statuspage.Events{Maintenance: []statuspage.Maintenance{{Name: "m", Checks: []string{"a"}, Start: fixtureNow.Add(-time.Hour), End: fixtureNow.Add(time.Hour)}}},
			"Under maintenance", "maintenance", "under_maintenance"},
		{"open critical incident", map[string]statuspage.CheckState{"a": up("eu"), "b": up("eu")}, statuspage.Events{Incidents: []statuspage.Incident{open}},
			"Major outage", "critical", "operational"},
		{"unknown is neutral", map[string]statuspage.CheckState{"a": withState(statuspage.StateUnknown, "eu"), "b": up("eu")}, statuspage.Events{},
			"All systems operational", "none", "operational"},
		{"no data at all", map[string]statuspage.CheckState{}, statuspage.Events{},
			"Status unknown: no recent data", "none", "operational"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &fakeSource{RollupReader: newMemRollups(), states: tt.states, events: tt.events}
			cfg := statuspage.Config{Groups: []statuspage.Group{{Name: "G", Checks: []string{"a", "b"}}}}
			f := newFixture(t, cfg, src, statuspage.Options{})
			_, body := get(t, f.srv, "/")
			if !strings.Contains(body, `<h1 id="status">`+tt.banner+`</h1>`) {
				t.Errorf("banner: want %q in\n%s", tt.banner, between2(body, `<main id="main">`, `</section>`))
			}
			var sum summary
			getJSON(t, f.srv, "/api/v2/summary.json", &sum)
			if sum.Status.Indicator != tt.indicator || sum.Components[1].Name != "a" || sum.Components[1].Status != tt.api {
				t.Errorf("summary: indicator %q, a %q %q; want %q, %q", sum.Status.Indicator, sum.Components[1].Name, sum.Components[1].Status, tt.indicator, tt.api)
			}
		})
	}
}

// TestCaching: the page is read once per TTL or Invalidate, answers
// If-None-Match and If-Modified-Since with 304 and gzips when asked.
func TestCaching(t *testing.T) {
	f := newFixture(t, fixtureConfig(), fixtureSource(fixtureNow), statuspage.Options{TTL: 30 * time.Second})
	resp, body := get(t, f.srv, "/")
	etag, lastMod := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	if etag == "" || lastMod == "" || resp.Header.Get("Cache-Control") == "" {
		t.Fatalf("validators: ETag %q Last-Modified %q Cache-Control %q", etag, lastMod, resp.Header.Get("Cache-Control"))
	}
	reads := f.src.stateReads.Load()
	for _, path := range []string{"/", "/history", "/feed.atom", "/badge/api/status.svg", "/api/v2/summary.json"} {
		get(t, f.srv, path)
	}
	if got := f.src.stateReads.Load(); got != reads {
		t.Errorf("within the TTL the source was read %d more times", got-reads)
	}

	if resp, _ := get(t, f.srv, "/", "If-None-Match", etag); resp.StatusCode != http.StatusNotModified || resp.Header.Get("ETag") != etag {
		t.Errorf("If-None-Match: %d, ETag %q", resp.StatusCode, resp.Header.Get("ETag"))
	}
	if resp, _ := get(t, f.srv, "/", "If-None-Match", `"other", W/`+etag); resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match with a list and a weak tag: %d", resp.StatusCode)
	}
	if resp, _ := get(t, f.srv, "/", "If-Modified-Since", lastMod); resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-Modified-Since: %d", resp.StatusCode)
	}
	if resp, _ := get(t, f.srv, "/", "If-None-Match", `"stale"`); resp.StatusCode != http.StatusOK {
		t.Errorf("a stale ETag: %d", resp.StatusCode)
	}

	// gzip: a smaller body that inflates to the same page, its own ETag.
	zresp, zbody := getRaw(t, f, "/", "gzip, deflate, br")
	if zresp.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(zresp.Header.Get("Vary"), "Accept-Encoding") || len(zbody) >= len(body)/3 {
		t.Fatalf("gzip: encoding %q vary %q, %d of %d bytes", zresp.Header.Get("Content-Encoding"), zresp.Header.Get("Vary"), len(zbody), len(body))
	}
	zr, err := gzip.NewReader(bytes.NewReader(zbody))
	if err != nil {
		t.Fatal(err)
	}
	if plain, _ := io.ReadAll(zr); string(plain) != body || zresp.Header.Get("ETag") == etag {
		t.Errorf("gzip body differs from the page, or shares its ETag %s", etag)
	}
	if resp, _ := getRaw(t, f, "/", "gzip;q=0"); resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("gzip;q=0 got Content-Encoding %q", resp.Header.Get("Content-Encoding"))
	}

	// Invalidate: the next request reads the source again and shows the
	// change, the minutes that changed the state included.
	apiBars := func(body string) string {
		i := strings.Index(body, `href="/components/api"`)
		j := strings.Index(body[i:], "</svg>")
		return body[i : i+j]
	}
	_, before := get(t, f.srv, "/")
	f.src.set(func(s *fakeSource) { s.states["api"] = withState(statuspage.StateDown, "eu", "us") })
	down := func(time.Time) bool { return true }
	for _, region := range []string{"eu", "us"} {
		// The newest minutes, which a refresh reads (older ones are late).
		now := f.clock.Now().Truncate(time.Minute)
		probeSeries(f.src.RollupReader.(*memRollups), "api", region, now.Add(-2*time.Minute), now, time.Second, down)
	}
	if _, body := get(t, f.srv, "/"); strings.Contains(body, "Major outage") {
		t.Fatal("a state change showed before Invalidate and within the TTL")
	}
	f.page.Invalidate()
	_, after := get(t, f.srv, "/")
	if !strings.Contains(after, `<h1 id="status">Major outage</h1>`) {
		t.Error("after Invalidate the page still shows the old state")
	}
	if b := apiBars(after); b == apiBars(before) || !strings.Contains(b, "15 Mar: ") || !strings.Contains(b, "2 min down") {
		t.Errorf("after Invalidate today's bar does not show the new downtime:\n%s", b)
	}
	if resp, _ := get(t, f.srv, "/", "If-None-Match", etag); resp.StatusCode != http.StatusOK {
		t.Errorf("the old ETag after a change: %d", resp.StatusCode)
	}

	// The TTL: without Invalidate the page is read again once it expires.
	reads = f.src.stateReads.Load()
	f.clock.advance(31 * time.Second)
	get(t, f.srv, "/")
	if f.src.stateReads.Load() != reads+1 {
		t.Errorf("after the TTL: %d reads, want 1", f.src.stateReads.Load()-reads)
	}

	// Refresh reads now, and the next visitor is served what it read.
	if err := f.page.Refresh(t.Context()); err != nil || f.src.stateReads.Load() != reads+2 {
		t.Fatalf("Refresh: %v, %d reads", err, f.src.stateReads.Load()-reads)
	}
	get(t, f.srv, "/")
	if f.src.stateReads.Load() != reads+2 {
		t.Error("the request after Refresh read the source again")
	}
}

// TestConcurrentRequests: visitors on every route while the page is
// invalidated and the clock moves; every answer is complete (run with -race).
func TestConcurrentRequests(t *testing.T) {
	f := newFixture(t, fixtureConfig(), fixtureSource(fixtureNow), statuspage.Options{})
	paths := []string{"/", "/history", "/feed.atom", "/api/v2/summary.json", "/badge/api/uptime.svg", "/components/api-eu"}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 25 {
				path := paths[(w+i)%len(paths)]
				resp, body := get(t, f.srv, path)
				if resp.StatusCode != http.StatusOK || len(body) == 0 {
					t.Errorf("GET %s: %d, %d bytes", path, resp.StatusCode, len(body))
				}
				if i%5 == 0 {
					f.page.Invalidate()
					f.clock.advance(7 * time.Second)
				}
			}
		})
	}
	wg.Wait()
}

// getRaw requests path with Accept-Encoding ae and returns the raw body.
func getRaw(t *testing.T, f *fixture, path, ae string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, f.srv.URL+path, nil)
	req.Header.Set("Accept-Encoding", ae)
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// TestSourceFailure: without any page the visitor gets 503; once a page
// exists, a failing source leaves it served (stale beats nothing).
func TestSourceFailure(t *testing.T) {
	src := fixtureSource(fixtureNow)
	src.fail = errSourceDown
	var logs syncBuffer
	f := newFixture(t, fixtureConfig(), src, statuspage.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	for range 3 { // failing again and again: logged once
		resp, body := get(t, f.srv, "/")
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "temporarily unavailable") || strings.Contains(body, "source down") {
			t.Fatalf("failing source, no page: %d\n%s", resp.StatusCode, body)
		}
		f.clock.advance(2 * time.Second)
	}
	if n := strings.Count(logs.String(), "status page source failed"); n != 1 || !strings.Contains(logs.String(), "source down") {
		t.Errorf("failure logged %d times:\n%s", n, logs.String())
	}
	src.set(func(s *fakeSource) { s.fail = nil })
	if resp, _ := get(t, f.srv, "/"); resp.StatusCode != http.StatusOK || !strings.Contains(logs.String(), "status page source recovered") {
		t.Fatalf("source back: %d\n%s", resp.StatusCode, logs.String())
	}
	src.set(func(s *fakeSource) { s.fail = errSourceDown })
	f.page.Invalidate()
	if resp, body := get(t, f.srv, "/"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Elevated API errors") {
		t.Fatalf("failing source with a page: %d", resp.StatusCode)
	}
}

// syncBuffer is a bytes.Buffer for a logger written from handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestHEADAndMethods: HEAD has the headers and no body; POST is refused.
func TestHEADAndMethods(t *testing.T) {
	f := newFixture(t, fixtureConfig(), fixtureSource(fixtureNow), statuspage.Options{})
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodHead, f.srv.URL+"/", nil)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(b) != 0 || resp.Header.Get("ETag") == "" || resp.ContentLength <= 0 {
		t.Errorf("HEAD /: %d, %d body bytes, ETag %q, length %d", resp.StatusCode, len(b), resp.Header.Get("ETag"), resp.ContentLength)
	}
	req, _ = http.NewRequestWithContext(t.Context(), http.MethodPost, f.srv.URL+"/history", strings.NewReader("x"))
	resp, err = http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /history: %d", resp.StatusCode)
	}
}

// TestPathPrefix: mounted under /status, every link carries the prefix.
func TestPathPrefix(t *testing.T) {
	src := fixtureSource(fixtureNow)
	p, err := statuspage.New(fixtureConfig(), src, statuspage.Options{PathPrefix: "/status", Now: newClock(fixtureNow).Now})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/status/", http.StripPrefix("/status", p.Handler()))
	srv := newServer(t, mux)
	_, body := get(t, srv, "/status/")
	for _, w := range []string{`href="/status/static/status.`, `href="/status/components/api"`, `href="/status/history"`, `href="/status/feed.atom"`} {
		if !strings.Contains(body, w) {
			t.Errorf("%s missing", w)
		}
	}
	if resp, _ := get(t, srv, "/status/static/"+between2(body, `/status/static/`, `"`)); resp.StatusCode != 200 {
		t.Errorf("stylesheet under the prefix: %d", resp.StatusCode)
	}
	for _, bad := range []string{"status", "/status/", "//evil.example", "/a?b"} {
		if _, err := statuspage.New(fixtureConfig(), src, statuspage.Options{PathPrefix: bad}); err == nil {
			t.Errorf("path prefix %q accepted", bad)
		}
	}
}
