package server_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func getBody(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestStatusPageWired: with status_page set, / is the public page of the
// listed checks only; incidents and maintenance made through the admin API
// appear on it at once; the internal overview moves to /overview.
func TestStatusPageWired(t *testing.T) {
	ok, bad := targets(t)
	top := `status_page:
  title: Example Status
  groups: [{name: API, checks: [api]}]
incidents:
  - title: Elevated API errors
    status: identified
    impact: major
    checks: [api]
    updates: [{at: "2026-11-20T10:02:00Z", status: investigating, body: "We are looking into it."}]
`
	e := startWith(t, top, "  - {name: api, http: {url: \""+ok+"\"}}\n  - {name: secret-db, http: {url: \""+bad+"?token=hunter2\"}}\n")
	waitFor(t, "results of both checks", func() bool {
		code, body := getBody(t, e.base+"/api/v2/summary.json")
		return code == 200 && strings.Contains(body, `"operational"`) || strings.Contains(body, `"major_outage"`)
	})
	code, page := getBody(t, e.base+"/")
	if code != 200 || !strings.Contains(page, "Example Status") || !strings.Contains(page, "Elevated API errors") || !strings.Contains(page, ">api<") {
		t.Fatalf("GET /: %d\n%.2000s", code, page)
	}
	for _, url := range []string{"/", "/api/v2/summary.json", "/feed.atom", "/feed.rss", "/history"} {
		_, body := getBody(t, e.base+url)
		for _, leak := range []string{"secret-db", "hunter2", strings.TrimPrefix(bad, "http://")} {
			if strings.Contains(body, leak) {
				t.Fatalf("%s leaks %q", url, leak)
			}
		}
	}
	if code, _ := getBody(t, e.base+"/badge/secret-db/status.svg"); code != http.StatusNotFound {
		t.Fatalf("badge of a private check: %d", code)
	}
	if code, body := getBody(t, e.base+"/badge/api/status.svg"); code != 200 || !strings.Contains(body, "<svg") {
		t.Fatalf("badge: %d %.200s", code, body)
	}
	if code, body := getBody(t, e.base+"/overview"); code != 200 || !strings.Contains(body, "secret-db") {
		t.Fatalf("internal overview: %d", code)
	}
	admin := httptest.NewServer(e.srv.AdminHandler())
	t.Cleanup(admin.Close)
	if code, body := adminCall(t, admin.URL, "", http.MethodPost, "/api/v1/incidents", map[string]any{
		"title": "Login failures", "impact": "minor", "checks": []string{"api"},
		"updates": []map[string]any{{"status": "investigating", "body": "Some logins fail."}}}); code != http.StatusCreated {
		t.Fatalf("create incident: %d %s", code, body)
	}
	if code, body := adminCall(t, admin.URL, "", http.MethodPost, "/api/v1/maintenance", map[string]any{
		"name": "Database upgrade", "checks": []string{"api"}, "start": time.Now().Add(2 * time.Hour), "end": time.Now().Add(3 * time.Hour)}); code != http.StatusCreated {
		t.Fatalf("create maintenance: %d %s", code, body)
	}
	waitFor(t, "the new incident and the maintenance on the page", func() bool {
		_, page := getBody(t, e.base+"/")
		return strings.Contains(page, "Login failures") && strings.Contains(page, "Database upgrade")
	})
}

// TestAdminView: the admin listener's /admin shows every check with its
// target and each region's trace id, linked to the tracing UI, behind the
// admin token.
func TestAdminView(t *testing.T) {
	ok, bad := targets(t)
	top := `server: {admin_token: "admin-0123456789abcdef", trace_url: "https://jaeger.example.com/trace/{trace_id}"}
` + fmt.Sprintf("maintenance: [{name: db-upgrade, checks: [broken], start: %q, end: %q}]\n",
		time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	e := startWith(t, top, "  - {name: api, http: {url: \""+ok+"\"}}\n  - {name: broken, http: {url: \""+bad+"?q=<script>x</script>\"}}\n")
	admin := httptest.NewServer(e.srv.AdminHandler())
	t.Cleanup(admin.Close)
	if code, _ := adminCall(t, admin.URL, "", http.MethodGet, "/admin", nil); code != http.StatusUnauthorized {
		t.Fatalf("/admin without the token: %d", code)
	}
	var page string
	waitFor(t, "trace ids on the admin view", func() bool {
		code, body := adminCall(t, admin.URL, "admin-0123456789abcdef", http.MethodGet, "/admin", nil)
		page = body
		return code == 200 && strings.Contains(body, `href="https://jaeger.example.com/trace/`) && strings.Count(body, "jaeger.example.com/trace/") >= 2
	})
	if !strings.Contains(page, ok) || strings.Contains(page, "<script>x") || !strings.Contains(page, "status") {
		t.Fatalf("admin view:\n%.3000s", page)
	}
	// A check in maintenance: its real state, and the maintenance the
	// status page shows instead.
	if strings.Count(page, "(in maintenance: db-upgrade)") != 1 {
		t.Errorf("admin view does not mark the one check in maintenance:\n%.3000s", page)
	}
}
