package server_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/alerts"
)

// The incident writes FuzzIncidentAPI drives; op picks one.
const (
	opCreate      = iota // POST /api/v1/incidents
	opPatch              // PATCH /api/v1/incidents/{id}, of an API incident
	opUpdate             // POST /api/v1/incidents/{id}/updates, of an API incident
	opPatchConfig        // PATCH /api/v1/incidents/{id}, of the config file's incident
	numOps
)

// FuzzIncidentAPI sends arbitrary bodies to the admin API's incident
// writes. None may panic or answer 5xx; a body that does not decode
// strictly is a 400; a refused write changes nothing; an accepted one
// answers what it stored, which passes validation unchanged, has no
// update dated in the future (an incident could take no update after it)
// and shows on the status page with its text escaped.
func FuzzIncidentAPI(f *testing.F) {
	top := `status_page: {title: Fuzz Status, groups: [{name: API, checks: [api]}]}
incidents:
  - {id: from-config, title: Config incident, impact: minor, checks: [api], updates: [{at: "2026-01-02T03:04:05Z", status: investigating, body: "Looking."}]}
`
	e := startWith(f, top, "  - {name: api, interval: 1h, http: {url: \"http://127.0.0.1:1/\"}}\n  - {name: db, interval: 1h, tcp: {address: \"127.0.0.1:1\"}}\n")
	admin, public := e.srv.AdminHandler(), e.srv.Handler()

	deep := strings.Repeat(`{"title": `, 100) + `"x"` + strings.Repeat("}", 100)
	for _, s := range []struct {
		op   uint8
		body string
	}{
		{opCreate, `{"title": "Checkout slow", "impact": "minor", "checks": ["api"], "updates": [{"status": "investigating", "body": "Looking."}]}`},
		{opCreate, `{"title": "DB down", "impact": "critical", "checks": ["api", "db"], "status": "identified", "updates": [{"at": "2026-01-02T03:04:05Z", "status": "investigating", "body": "Line one\r\nline two\tTabbed"}, {"at": "2026-01-02T03:34:05+02:00", "status": "resolved", "body": "Fixed."}]}`},
		{opCreate, `{"id": "chosen", "source": "config", "title": "<script>alert(1)</script> & \"quotes\"", "updates": [{"status": "monitoring", "body": "<img src=x onerror=alert(1)>"}]}`},
		{opCreate, `{"title": "Future", "updates": [{"at": "9999-12-31T23:59:59Z", "status": "investigating", "body": "b"}]}`},
		{opCreate, `{"title": "a\u0000b\u2028", "updates": [{"status": "investigating", "body": "\u001b[31mred"}]}`},
		{opCreate, `{"title": "x", "checks": ["api", "api"], "updates": []}`},
		{opCreate, `{"title": "x", "checks": ["nope"], "updates": [{"status": "investigating", "body": "b"}]}`},
		{opCreate, `{"title": "x", "updates": [{"status": "fixed", "body": "b", "at": 1e400}]}`},
		{opCreate, `{"title": "x", "surprise": 1}`},
		{opCreate, deep},
		{opCreate, ``},
		{opCreate, `null`},
		{opPatch, `{"title": "Renamed", "impact": "major", "checks": ["db"]}`},
		{opPatch, `{}`},
		{opPatch, `{"checks": []}`},
		{opPatch, `{"impact": ""}`},
		{opPatch, `{"title": "` + strings.Repeat("é", 201) + `"}`},
		{opPatch, "{\r\n\"title\": \"CRLF\"\r\n}\r\n"},
		{opUpdate, `{"status": "resolved", "body": "All good."}`},
		{opUpdate, `{"at": "2026-01-01T00:00:00Z", "status": "identified", "body": "older than the newest"}`},
		{opUpdate, `{"at": "2999-01-01T00:00:00Z", "status": "monitoring", "body": "later"}`},
		{opUpdate, `{"body": "   "}`},
		{opUpdate, `{"status": "investigating", "body": "b"} trailing`},
		{opPatchConfig, `{"title": "Edited"}`},
		{opPatchConfig, `{"checks": ["nope"]}`},
		{opPatchConfig, `[`},
	} {
		f.Add(s.op, []byte(s.body))
	}

	call := func(t testing.TB, h http.Handler, method, path string, body []byte) (int, []byte) {
		t.Helper()
		req := httptest.NewRequestWithContext(t.Context(), method, path, bytes.NewReader(body))
		req.RemoteAddr = "127.0.0.1:40000" // this machine: never rate-limited
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code, w.Body.Bytes()
	}
	count := func(t *testing.T) int {
		t.Helper()
		code, body := call(t, admin, http.MethodGet, "/api/v1/incidents", nil)
		var list struct{ Incidents []json.RawMessage }
		if code != http.StatusOK || json.Unmarshal(body, &list) != nil {
			t.Fatalf("list incidents: %d %s", code, body)
		}
		return len(list.Incidents)
	}
	base := []byte(`{"title": "Base", "checks": ["api"], "updates": [{"status": "investigating", "body": "b"}]}`)
	// The page of a plain incident: the markup every incident page has.
	var markup []byte
	_, created := call(f, admin, http.MethodPost, "/api/v1/incidents", base)
	var plain alerts.Incident
	if err := json.Unmarshal(created, &plain); err != nil {
		f.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var code int
		if code, markup = call(f, public, http.MethodGet, "/incidents/"+plain.ID, nil); code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			f.Fatalf("the page of incident %s: %d, not 200 within 10s", plain.ID, code)
		}
	}
	call(f, admin, http.MethodDelete, "/api/v1/incidents/"+plain.ID, nil)

	f.Fuzz(func(t *testing.T, op uint8, body []byte) {
		op %= numOps
		var id, path, method string
		var target any
		switch op {
		case opCreate:
			method, path, target = http.MethodPost, "/api/v1/incidents", &alerts.Incident{}
		case opPatch, opUpdate:
			code, created := call(t, admin, http.MethodPost, "/api/v1/incidents", base)
			var inc alerts.Incident
			if code != http.StatusCreated || json.Unmarshal(created, &inc) != nil {
				t.Fatalf("create the incident to change: %d %s", code, created)
			}
			id = inc.ID
			defer call(t, admin, http.MethodDelete, "/api/v1/incidents/"+id, nil)
			method, path, target = http.MethodPatch, "/api/v1/incidents/"+id, &alerts.IncidentPatch{}
			if op == opUpdate {
				method, path, target = http.MethodPost, path+"/updates", &alerts.IncidentUpdate{}
			}
		case opPatchConfig:
			id = "from-config"
			method, path, target = http.MethodPatch, "/api/v1/incidents/"+id, &alerts.IncidentPatch{}
		}
		var before []byte
		n := count(t)
		if id != "" {
			_, before = call(t, admin, http.MethodGet, "/api/v1/incidents/"+id, nil)
		}

		sent := time.Now()
		code, answer := call(t, admin, method, path, body)
		if !json.Valid(answer) {
			t.Fatalf("%d answer is not JSON: %q", code, answer)
		}
		allowed := map[uint8][]int{opCreate: {201, 400}, opPatch: {200, 400}, opUpdate: {200, 400}, opPatchConfig: {400, 409}}[op]
		if !slices.Contains(allowed, code) {
			t.Fatalf("%s %s: %d, want one of %v: %s", method, path, code, allowed, answer)
		}
		if !decodesStrictly(body, target) && code != http.StatusBadRequest {
			t.Fatalf("%s %s: %d for a body that does not decode: %s", method, path, code, answer)
		}
		if code >= 300 {
			if !strings.Contains(string(answer), `"error"`) {
				t.Fatalf("%d without an error message: %s", code, answer)
			}
			if got := count(t); got != n {
				t.Fatalf("a refused %s %s changed the number of incidents from %d to %d", method, path, n, got)
			}
			if id != "" {
				if _, after := call(t, admin, http.MethodGet, "/api/v1/incidents/"+id, nil); !bytes.Equal(before, after) {
					t.Fatalf("a refused %s %s changed the incident:\n%s\nto\n%s", method, path, before, after)
				}
			}
			return
		}
		var inc alerts.Incident
		if err := json.Unmarshal(answer, &inc); err != nil {
			t.Fatalf("answer %s: %v", answer, err)
		}
		if op == opCreate {
			id = inc.ID
			defer call(t, admin, http.MethodDelete, "/api/v1/incidents/"+id, nil)
			if got := count(t); got != n+1 {
				t.Fatalf("a create made %d incidents of %d", got, n)
			}
		}
		checkStoredIncident(t, inc, answer, sent)
		if _, stored := call(t, admin, http.MethodGet, "/api/v1/incidents/"+id, nil); !bytes.Equal(stored, answer) {
			t.Fatalf("answered\n%s\nbut stored\n%s", answer, stored)
		}
		code, page := call(t, public, http.MethodGet, "/incidents/"+id, nil)
		if code != http.StatusOK && code != http.StatusNotFound { // 404: the page being rebuilt still shows the previous snapshot
			t.Fatalf("status page of incident %s: %d", id, code)
		}
		for _, text := range incidentTexts(inc) {
			if code == http.StatusOK && strings.Contains(text, "<") && !bytes.Contains(markup, []byte(text)) && bytes.Contains(page, []byte(text)) {
				t.Fatalf("status page shows %q unescaped", text)
			}
		}
	})
}

// decodesStrictly reports whether body is one JSON value of out's type,
// without unknown fields, within the size limit.
func decodesStrictly(body []byte, out any) bool {
	if len(body) > 256<<10 {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	return dec.Decode(out) == nil
}

// checkStoredIncident checks an incident the API accepted: an API incident
// whose validation is a fixpoint, none of whose updates is dated more than
// a minute after it was sent (as POST …/updates refuses).
func checkStoredIncident(t *testing.T, inc alerts.Incident, answer []byte, sent time.Time) {
	t.Helper()
	if inc.Source != alerts.SourceAPI || inc.ID == "" || len(inc.Updates) == 0 || inc.CreatedAt.IsZero() || inc.UpdatedAt.Before(inc.CreatedAt) {
		t.Fatalf("accepted incident %s", answer)
	}
	again := inc
	again.Checks, again.Updates = slices.Clone(inc.Checks), slices.Clone(inc.Updates)
	if err := again.Validate(); err != nil {
		t.Fatalf("accepted incident fails validation: %v\n%s", err, answer)
	}
	if a, b := mustJSON(t, inc), mustJSON(t, again); !bytes.Equal(a, b) {
		t.Fatalf("validation changes an accepted incident:\n%s\nto\n%s", a, b)
	}
	for i, u := range inc.Updates {
		if u.At.After(sent.Add(time.Minute)) {
			t.Fatalf("updates[%d] is dated %s, after the request (%s): no update could follow it\n%s",
				i, u.At.Format(time.RFC3339), sent.UTC().Format(time.RFC3339), answer)
		}
	}
}

func incidentTexts(inc alerts.Incident) []string {
	out := append([]string{inc.Title}, inc.Checks...)
	for _, u := range inc.Updates {
		out = append(out, u.Body)
	}
	return out
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
