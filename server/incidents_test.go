package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// adminCall sends a JSON request to the admin handler with a token.
func adminCall(t *testing.T, base, token, method, path string, body any) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequestWithContext(t.Context(), method, base+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestIncidentsAPI: config incidents load (the example, status
// ahead of its update), the admin API (behind admin_token) creates,
// updates, resolves and deletes incidents and maintenance, and refuses
// bad input with the field named.
func TestIncidentsAPI(t *testing.T) {
	ok, _ := targets(t)
	top := `server: {admin_token: "admin-0123456789abcdef"}
incidents:
  - title: Elevated API errors
    status: identified
    impact: major
    checks: [api]
    updates: [{at: "2026-11-20T10:02:00Z", status: investigating, body: "We are looking into it."}]
`
	e := startWith(t, top, "  - {name: api, http: {url: \""+ok+"\"}}\n")
	admin := httptest.NewServer(e.srv.AdminHandler())
	t.Cleanup(admin.Close)
	const tok = "admin-0123456789abcdef"
	if code, _ := adminCall(t, admin.URL, "", http.MethodGet, "/api/v1/incidents", nil); code != http.StatusUnauthorized {
		t.Fatalf("admin without token: %d", code)
	}
	if code, _ := adminCall(t, admin.URL, "wrong", http.MethodPost, "/-/reload", nil); code != http.StatusUnauthorized {
		t.Fatalf("reload with a wrong token: %d", code)
	}
	// The profiler is an admin route too, and not on the public listener.
	if code, _ := adminCall(t, admin.URL, "", http.MethodGet, "/debug/pprof/", nil); code != http.StatusUnauthorized {
		t.Fatalf("pprof without token: %d", code)
	}
	if code, body := adminCall(t, admin.URL, tok, http.MethodGet, "/debug/pprof/goroutine?debug=1", nil); code != http.StatusOK || !strings.Contains(body, "goroutine profile") {
		t.Fatalf("pprof with the token: %d %.100s", code, body)
	}
	e.get(t, "/debug/pprof/", http.StatusNotFound, nil)
	var list struct {
		Incidents []struct {
			ID, Title, Status, Source string
		}
	}
	e.get(t, "/api/v1/incidents", http.StatusOK, &list)
	if len(list.Incidents) != 1 || list.Incidents[0].Status != "identified" || list.Incidents[0].Source != "config" {
		t.Fatalf("config incident: %+v", list)
	}
	cfgID := list.Incidents[0].ID
	if code, body := adminCall(t, admin.URL, tok, http.MethodPost, "/api/v1/incidents/"+cfgID+"/updates",
		map[string]any{"status": "resolved", "body": "fixed"}); code != http.StatusConflict {
		t.Fatalf("updating a config incident: %d %s", code, body)
	}
	code, body := adminCall(t, admin.URL, tok, http.MethodPost, "/api/v1/incidents", map[string]any{
		"title": "Checkout <script>alert(1)</script> slow", "impact": "minor", "checks": []string{"api"},
		"updates": []map[string]any{{"status": "investigating", "body": "Looking."}}})
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, body)
	}
	var inc struct{ ID, Status string }
	_ = json.Unmarshal([]byte(body), &inc)
	if code, body := adminCall(t, admin.URL, tok, http.MethodPost, "/api/v1/incidents/"+inc.ID+"/updates",
		map[string]any{"status": "resolved", "body": "Fixed."}); code != http.StatusOK || !strings.Contains(body, `"status": "resolved"`) {
		t.Fatalf("resolve: %d %s", code, body)
	}
	for _, bad := range []struct {
		path string
		body any
		want string
	}{
		{"/api/v1/incidents", map[string]any{"title": "x", "checks": []string{"nope"}, "updates": []map[string]any{{"status": "investigating", "body": "b"}}}, `checks[0]: no check is named \"nope\"`},
		{"/api/v1/incidents", map[string]any{"title": "", "updates": []map[string]any{}}, "title"},
		{"/api/v1/incidents", map[string]any{"title": "x", "surprise": 1}, "unknown field"},
		{"/api/v1/incidents/" + inc.ID + "/updates", map[string]any{"status": "fixed", "body": "b"}, "status"},
		{"/api/v1/incidents/" + inc.ID + "/updates", map[string]any{"status": "monitoring", "body": "b", "at": time.Now().Add(time.Hour)}, "future"},
	} {
		if code, body := adminCall(t, admin.URL, tok, http.MethodPost, bad.path, bad.body); code != http.StatusBadRequest || !strings.Contains(body, bad.want) {
			t.Errorf("POST %s %v: %d %s, want 400 naming %q", bad.path, bad.body, code, body, bad.want)
		}
	}
	if code, _ := adminCall(t, admin.URL, tok, http.MethodGet, "/api/v1/incidents/nope", nil); code != http.StatusNotFound {
		t.Fatalf("unknown incident: %d", code)
	}
	if code, _ := adminCall(t, admin.URL, tok, http.MethodDelete, "/api/v1/incidents/"+inc.ID, nil); code != http.StatusNoContent {
		t.Fatalf("delete: %d", code)
	}
	// Maintenance through the API.
	code, body = adminCall(t, admin.URL, tok, http.MethodPost, "/api/v1/maintenance", map[string]any{
		"name": "db upgrade", "checks": []string{"api"}, "start": time.Now().Add(time.Hour), "end": time.Now().Add(2 * time.Hour)})
	if code != http.StatusCreated {
		t.Fatalf("maintenance: %d %s", code, body)
	}
	var m struct{ ID string }
	_ = json.Unmarshal([]byte(body), &m)
	var ms struct{ Maintenance []struct{ ID, Name string } }
	e.get(t, "/api/v1/maintenance", http.StatusOK, &ms)
	if len(ms.Maintenance) != 1 || ms.Maintenance[0].Name != "db upgrade" {
		t.Fatalf("GET /api/v1/maintenance: %+v", ms)
	}
	if code, _ := adminCall(t, admin.URL, tok, http.MethodDelete, "/api/v1/maintenance/"+m.ID, nil); code != http.StatusNoContent {
		t.Fatalf("delete maintenance: %d", code)
	}
}
