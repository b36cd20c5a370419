package server_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// TestPublicListenerExposure: without server.public_api the public
// listener serves none of the JSON API's reads nor the overview (they show
// targets, errors and screenshots), and says where they are; the admin
// listener serves them; server.public_metrics: false moves /metrics off
// the public listener; health and the agent API stay public.
func TestPublicListenerExposure(t *testing.T) {
	ok, _ := targets(t)
	e := startWith(t, "server: {public_api: false, public_metrics: false}\n", "  - {name: api, http: {url: "+quote(ok)+"}}\n")
	admin := httptest.NewServer(e.srv.AdminHandler())
	t.Cleanup(admin.Close)
	get := func(base, path string) (int, string) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	waitFor(t, "a result", func() bool {
		_, body := get(admin.URL, "/api/v1/checks/api")
		return strings.Contains(body, `"last_result": {`)
	})
	reads := []string{"/api/v1/checks", "/api/v1/checks/api", "/api/v1/checks/api/results", "/api/v1/regions",
		"/api/v1/alerts", "/api/v1/silences", "/api/v1/slo", "/api/v1/incidents", "/api/v1/maintenance", "/overview"}
	for _, path := range reads {
		if code, body := get(e.base, path); code != http.StatusNotFound || !strings.Contains(body, "admin listener") {
			t.Errorf("public GET %s: %d %s, want 404 pointing at the admin listener", path, code, body)
		}
		if code, body := get(admin.URL, path); code != http.StatusOK {
			t.Errorf("admin GET %s: %d %s", path, code, body)
		}
	}
	if code, body := get(e.base, "/api/v1/results/x/screenshot"); code != http.StatusNotFound || !strings.Contains(body, "admin listener") {
		t.Errorf("public screenshot: %d %s", code, body)
	}
	if code, body := get(e.base, "/"); code != http.StatusNotFound || !strings.Contains(body, "server.public_api") || strings.Contains(body, ok) {
		t.Errorf("public / without a status page: %d %s", code, body)
	}
	if code, body := get(e.base, "/metrics"); code != http.StatusNotFound || !strings.Contains(body, "admin listener") {
		t.Errorf("public /metrics with public_metrics false: %d %s", code, body)
	}
	if code, body := get(admin.URL, "/metrics"); code != http.StatusOK || !strings.Contains(body, "probe_success") {
		t.Errorf("admin /metrics: %d", code)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, body := get(e.base, path); code != http.StatusOK {
			t.Errorf("public %s: %d %s", path, code, body)
		}
	}
	// The agent API stays public (it needs a region's token).
	if code, _ := get(e.base, "/api/v1/agent/checks"); code != http.StatusUnauthorized {
		t.Errorf("public agent API without a token: %d, want 401", code)
	}

	// The defaults: /metrics public, the reads not.
	src := "storage: {path: results.db}\nchecks:\n  - {name: api, http: {url: " + quote(ok) + "}}\n"
	if err := os.WriteFile(e.cfgPath, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	if code, _ := get(e.base, "/metrics"); code != http.StatusOK {
		t.Errorf("public /metrics by default: %d", code)
	}
	if code, _ := get(e.base, "/api/v1/checks"); code != http.StatusNotFound {
		t.Errorf("public /api/v1/checks by default: %d", code)
	}
}

func quote(s string) string { return `"` + s + `"` }
