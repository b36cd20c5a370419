package server_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// The public listener limits each client address; agents and clients on
// this machine are not counted; a reload changes the limit at once.
func TestRateLimit(t *testing.T) {
	ok, _ := targets(t)
	checks := fmt.Sprintf("  - {name: good, http: {url: %q}}\n", ok)
	e := startWith(t, "server: {rate_limit: {per_second: 1, burst: 3}}\n", checks)
	get := func(path, client string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, e.base+path, nil)
		if client != "" { // through a proxy on loopback, trusted by default
			req.Header.Set("X-Forwarded-For", client)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	for i := range 3 {
		if resp, body := get("/healthz", "198.51.100.1, 203.0.113.7"); resp.StatusCode != 200 {
			t.Fatalf("request %d within the burst: %d %s", i, resp.StatusCode, body)
		}
	}
	resp, body := get("/healthz", "203.0.113.7")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" ||
		!strings.Contains(body, "too many requests from 203.0.113.7") {
		t.Fatalf("over the burst: %d Retry-After %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("429 without nosniff: %q", got)
	}
	// A spoofed hop left of the proxy's own entry changes nothing.
	if resp, _ := get("/healthz", "127.0.0.1, 203.0.113.7"); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a spoofed X-Forwarded-For escaped the limit: %d", resp.StatusCode)
	}
	// Others, this machine and the agents' routes are not affected.
	if resp, _ := get("/healthz", "203.0.113.8"); resp.StatusCode != 200 {
		t.Errorf("another client: %d", resp.StatusCode)
	}
	for range 10 {
		if resp, _ := get("/healthz", ""); resp.StatusCode != 200 {
			t.Fatalf("loopback client: %d", resp.StatusCode)
		}
	}
	if resp, _ := get("/api/v1/agent/checks", "203.0.113.7"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("agent route: %d, want 401 (not counted, no token)", resp.StatusCode)
	}
	if _, metrics := get("/metrics", ""); !strings.Contains(metrics, "vantage_http_requests_limited_total 2") {
		t.Errorf("limited requests not counted in /metrics")
	}
	// Every response carries the security headers.
	resp, _ = get("/api/v1/checks", "")
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("JSON CSP %q", csp)
	}
	if resp, _ := get("/", ""); !strings.Contains(resp.Header.Get("Content-Security-Policy"), "style-src 'unsafe-inline'") {
		t.Errorf("overview CSP %q", resp.Header.Get("Content-Security-Policy"))
	}

	writeConfigWith(t, e.cfgPath, "server: {rate_limit: {disabled: true}}\n", checks)
	if err := e.srv.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	if resp, body := get("/healthz", "203.0.113.7"); resp.StatusCode != 200 {
		t.Errorf("after a reload that disabled the limit: %d %s", resp.StatusCode, body)
	}
}
