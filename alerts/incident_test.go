package alerts_test

import (
	"database/sql"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vantageprobe/vantage/alerts"
)

// openStore opens the alert store at path, closed when the test ends.
func openStore(t *testing.T, path string) *alerts.Store {
	t.Helper()
	st, err := alerts.OpenStore(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newStore(t *testing.T) *alerts.Store {
	t.Helper()
	return openStore(t, filepath.Join(t.TempDir(), "alerts.db"))
}

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func upd(min int, status alerts.IncidentStatus, body string) alerts.IncidentUpdate {
	return alerts.IncidentUpdate{At: t0.Add(time.Duration(min) * time.Minute), Status: status, Body: body}
}

func mustIncident(t *testing.T, st *alerts.Store, id string) alerts.Incident {
	t.Helper()
	inc, err := st.Incident(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return inc
}

func sameIncident(t *testing.T, got, want alerts.Incident) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Errorf("incident\n got %s\nwant %s", g, w)
	}
}

// TestIncidentLifecycle: create, updates, resolve, a note on a resolved
// incident, reopen; everything read back, also after reopening the file.
func TestIncidentLifecycle(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "alerts.db")
	st := openStore(t, path)

	before := time.Now()
	inc, err := st.CreateIncident(ctx, alerts.Incident{
		ID: "chosen", Source: alerts.SourceConfig, // both replaced
		Title: "  Elevated API errors ", Impact: alerts.ImpactMajor, Checks: []string{"api"},
		Updates: []alerts.IncidentUpdate{upd(2, alerts.IncidentInvestigating, "We are looking into it.\r\n")},
	})
	after := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(inc.ID) || inc.Source != alerts.SourceAPI {
		t.Errorf("id %q source %q, want random hex and api", inc.ID, inc.Source)
	}
	if inc.CreatedAt.Before(before.Add(-time.Millisecond)) || inc.CreatedAt.After(after) || !inc.UpdatedAt.Equal(inc.CreatedAt) {
		t.Errorf("created %s updated %s, want now", inc.CreatedAt, inc.UpdatedAt)
	}
	if inc.Title != "Elevated API errors" || inc.Updates[0].Body != "We are looking into it." {
		t.Errorf("text not trimmed: %q %q", inc.Title, inc.Updates[0].Body)
	}
	if inc.Status != alerts.IncidentInvestigating || !inc.Open() || !inc.ResolvedAt.IsZero() {
		t.Errorf("status %s resolved %s, want investigating and open", inc.Status, inc.ResolvedAt)
	}
	sameIncident(t, mustIncident(t, st, inc.ID), inc)

	steps := []struct {
		name     string
		u        alerts.IncidentUpdate
		status   alerts.IncidentStatus
		resolved time.Time
	}{
		{"identified", upd(9, alerts.IncidentIdentified, "Bad deploy, rolling back."), alerts.IncidentIdentified, time.Time{}},
		{"no status keeps it", upd(10, "", "Rollback at 50%."), alerts.IncidentIdentified, time.Time{}},
		{"resolved", upd(20, alerts.IncidentResolved, "Fixed."), alerts.IncidentResolved, t0.Add(20 * time.Minute)},
		{"note on resolved", upd(60, "", "Postmortem to follow."), alerts.IncidentResolved, t0.Add(20 * time.Minute)},
		{"resolved again keeps the time", upd(61, alerts.IncidentResolved, "Postmortem published."), alerts.IncidentResolved, t0.Add(20 * time.Minute)},
		{"reopened", upd(90, alerts.IncidentMonitoring, "Errors are back; watching."), alerts.IncidentMonitoring, time.Time{}},
		{"same instant keeps order", upd(90, alerts.IncidentResolved, "Gone again."), alerts.IncidentResolved, t0.Add(90 * time.Minute)},
	}
	prev := inc
	for _, s := range steps {
		got, err := st.AddIncidentUpdate(ctx, inc.ID, s.u)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		last := got.Updates[len(got.Updates)-1]
		if len(got.Updates) != len(prev.Updates)+1 || last.Body != s.u.Body || last.Status != s.status {
			t.Errorf("%s: updates %+v", s.name, got.Updates)
		}
		if got.Status != s.status || !got.ResolvedAt.Equal(s.resolved) || got.Open() != (s.status != alerts.IncidentResolved) {
			t.Errorf("%s: status %s resolved_at %s, want %s %s", s.name, got.Status, got.ResolvedAt, s.status, s.resolved)
		}
		if got.UpdatedAt.Before(prev.UpdatedAt) || !got.CreatedAt.Equal(inc.CreatedAt) {
			t.Errorf("%s: created %s updated %s", s.name, got.CreatedAt, got.UpdatedAt)
		}
		sameIncident(t, mustIncident(t, st, inc.ID), got)
		prev = got
	}

	// An update older than the newest is refused; nothing changes.
	_, err = st.AddIncidentUpdate(ctx, inc.ID, upd(30, alerts.IncidentMonitoring, "late"))
	if !errors.Is(err, alerts.ErrInvalid) || !strings.HasPrefix(err.Error(), "at: 2026-11-20T10:30:00Z is before the incident's newest update") {
		t.Errorf("backdated update: %v", err)
	}
	_, err = st.AddIncidentUpdate(ctx, inc.ID, alerts.IncidentUpdate{Status: "fixed", Body: "\x1b[31m"})
	if !errors.Is(err, alerts.ErrInvalid) || !strings.Contains(err.Error(), `status: "fixed" is not an incident status`) ||
		!strings.Contains(err.Error(), "body: control character U+001B") {
		t.Errorf("bad update: %v", err)
	}
	sameIncident(t, mustIncident(t, st, inc.ID), prev)

	// An update without a time is stamped now.
	got, err := st.AddIncidentUpdate(ctx, inc.ID, alerts.IncidentUpdate{Status: alerts.IncidentMonitoring, Body: "Watching."})
	if err != nil {
		t.Fatal(err)
	}
	if at := got.Updates[len(got.Updates)-1].At; time.Since(at) > time.Minute || at.Location() != time.UTC {
		t.Errorf("stamped %s, want now in UTC", at)
	}

	if _, err := st.AddIncidentUpdate(ctx, "nope", upd(99, alerts.IncidentResolved, "x")); !errors.Is(err, alerts.ErrIncidentNotFound) {
		t.Errorf("update of a missing incident: %v", err)
	}

	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	sameIncident(t, mustIncident(t, openStore(t, path), inc.ID), got)
}

// TestUpdateIncident changes title, impact and checks.
func TestUpdateIncident(t *testing.T) {
	ctx := t.Context()
	st := newStore(t)
	inc, err := st.CreateIncident(ctx, alerts.Incident{Title: "Slow", Checks: []string{"api", "web"},
		Updates: []alerts.IncidentUpdate{upd(0, alerts.IncidentInvestigating, "Looking.")}})
	if err != nil {
		t.Fatal(err)
	}
	if inc.Impact != alerts.ImpactNone {
		t.Errorf("impact %q, want the default none", inc.Impact)
	}

	got, err := st.UpdateIncident(ctx, inc.ID, alerts.IncidentPatch{})
	if err != nil || !got.UpdatedAt.Equal(inc.UpdatedAt) {
		t.Errorf("empty patch: %v, updated %s → %s", err, inc.UpdatedAt, got.UpdatedAt)
	}

	title, impact, checks := "Slow API responses", alerts.ImpactMinor, []string{"api"}
	got, err = st.UpdateIncident(ctx, inc.ID, alerts.IncidentPatch{Title: &title, Impact: &impact, Checks: &checks})
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != title || got.Impact != impact || !reflect.DeepEqual(got.Checks, checks) || got.UpdatedAt.Before(inc.UpdatedAt) {
		t.Errorf("patched: %+v", got)
	}
	checks[0] = "changed after the call"
	sameIncident(t, mustIncident(t, st, inc.ID), got)

	empty := []string{}
	got, err = st.UpdateIncident(ctx, inc.ID, alerts.IncidentPatch{Checks: &empty})
	if err != nil || len(got.Checks) != 0 || got.Title != title {
		t.Errorf("clear checks: %v %+v", err, got)
	}

	bad, long := alerts.Impact("severe"), strings.Repeat("x", 201)
	_, err = st.UpdateIncident(ctx, inc.ID, alerts.IncidentPatch{Title: &long, Impact: &bad})
	if !errors.Is(err, alerts.ErrInvalid) || err.Error() != "title: 201 characters, at most 200\nimpact: \"severe\" is not an impact (none, minor, major, critical)" {
		t.Errorf("bad patch: %v", err)
	}
	sameIncident(t, mustIncident(t, st, inc.ID), got)

	if _, err := st.UpdateIncident(ctx, "missing", alerts.IncidentPatch{Title: &title}); !errors.Is(err, alerts.ErrIncidentNotFound) {
		t.Errorf("missing: %v", err)
	}
	if err := st.DeleteIncident(ctx, inc.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Incident(ctx, inc.ID); !errors.Is(err, alerts.ErrIncidentNotFound) {
		t.Errorf("after delete: %v", err)
	}
	if err := st.DeleteIncident(ctx, inc.ID); !errors.Is(err, alerts.ErrIncidentNotFound) {
		t.Errorf("delete twice: %v", err)
	}
}

// TestIncidentsOrder: open first, then newest start first; the filters.
func TestIncidentsOrder(t *testing.T) {
	ctx := t.Context()
	st := newStore(t)
	create := func(title string, start int, resolvedAt int) {
		t.Helper()
		u := []alerts.IncidentUpdate{upd(start, alerts.IncidentInvestigating, "Looking.")}
		if resolvedAt >= 0 {
			u = append(u, upd(resolvedAt, alerts.IncidentResolved, "Fixed."))
		}
		if _, err := st.CreateIncident(ctx, alerts.Incident{Title: title, Updates: u}); err != nil {
			t.Fatal(err)
		}
	}
	create("old resolved", 0, 30)
	create("open early", 10, -1)
	create("new resolved", 100, 200)
	create("open late", 50, -1)
	create("mid resolved", 40, 45)

	titles := func(q alerts.IncidentQuery) string {
		incs, err := st.Incidents(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, i := range incs {
			out = append(out, i.Title)
		}
		return strings.Join(out, ", ")
	}
	tests := []struct {
		name string
		q    alerts.IncidentQuery
		want string
	}{
		{"all", alerts.IncidentQuery{}, "open late, open early, new resolved, mid resolved, old resolved"},
		{"open", alerts.IncidentQuery{Open: true}, "open late, open early"},
		{"since", alerts.IncidentQuery{Since: t0.Add(45 * time.Minute)}, "open late, open early, new resolved, mid resolved"},
		{"since after", alerts.IncidentQuery{Since: t0.Add(46 * time.Minute)}, "open late, open early, new resolved"},
		{"limit", alerts.IncidentQuery{Limit: 3}, "open late, open early, new resolved"},
		{"open limit", alerts.IncidentQuery{Open: true, Limit: 1}, "open late"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := titles(tt.q); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestSyncConfigIncidents: config incidents are added, changed and
// removed with the file; API incidents are never touched; config ones
// cannot be changed through the API.
func TestSyncConfigIncidents(t *testing.T) {
	ctx := t.Context()
	st := newStore(t)
	api, err := st.CreateIncident(ctx, alerts.Incident{Title: "Made through the API",
		Updates: []alerts.IncidentUpdate{upd(0, alerts.IncidentInvestigating, "Looking.")}})
	if err != nil {
		t.Fatal(err)
	}
	berlin := time.FixedZone("CET", 3600)
	named := alerts.Incident{ID: "db-2026-11", Title: "Database failover", Impact: alerts.ImpactCritical, Checks: []string{"db"},
		Updates: []alerts.IncidentUpdate{upd(5, alerts.IncidentIdentified, "Failing over.")}}
	unnamed := alerts.Incident{Title: "Elevated API errors", Status: alerts.IncidentInvestigating, Impact: alerts.ImpactMajor,
		Updates: []alerts.IncidentUpdate{{At: t0.Add(2 * time.Minute).In(berlin), Status: alerts.IncidentInvestigating, Body: "Looking."}}}

	if err := st.SyncConfigIncidents(ctx, []alerts.Incident{named, unnamed}); err != nil {
		t.Fatal(err)
	}
	all, err := st.Incidents(ctx, alerts.IncidentQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 {
		t.Fatalf("%d incidents, want 3", len(all))
	}
	derived := all[1] // started at +2m: after the API one, before the named one
	if derived.Title != unnamed.Title || !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(derived.ID) || derived.Source != alerts.SourceConfig {
		t.Errorf("derived: %+v", derived)
	}
	if !derived.CreatedAt.Equal(t0.Add(2*time.Minute)) || !derived.UpdatedAt.Equal(derived.CreatedAt) || derived.Updates[0].At.Location() != time.UTC {
		t.Errorf("config incident times: created %s updated %s", derived.CreatedAt, derived.UpdatedAt)
	}
	if unnamed.ID != "" || unnamed.Updates[0].At.Location() != berlin {
		t.Error("SyncConfigIncidents changed the caller's incidents")
	}
	// The same incident in UTC derives the same id: the id is stable.
	same := unnamed
	same.Updates = []alerts.IncidentUpdate{upd(2, alerts.IncidentInvestigating, "Looking.")}
	if err := same.Validate(); err != nil || same.ID != derived.ID {
		t.Errorf("derived id %q, then %q (%v)", derived.ID, same.ID, err)
	}

	// Change: an update resolves the named one, a new one appears, the
	// unnamed one leaves the file.
	named.Updates = append(named.Updates, upd(50, alerts.IncidentResolved, "Done."))
	named.Title = "Database failover (eu)"
	added := alerts.Incident{ID: "cdn", Title: "CDN", Updates: []alerts.IncidentUpdate{upd(70, alerts.IncidentMonitoring, "Watching.")}}
	for range 2 { // a second identical sync changes nothing
		if err := st.SyncConfigIncidents(ctx, []alerts.Incident{added, named}); err != nil {
			t.Fatal(err)
		}
	}
	got := mustIncident(t, st, "db-2026-11")
	if got.Title != "Database failover (eu)" || got.Status != alerts.IncidentResolved || !got.ResolvedAt.Equal(t0.Add(50*time.Minute)) ||
		!got.UpdatedAt.Equal(t0.Add(50*time.Minute)) || len(got.Updates) != 2 {
		t.Errorf("changed: %+v", got)
	}
	if _, err := st.Incident(ctx, derived.ID); !errors.Is(err, alerts.ErrIncidentNotFound) {
		t.Errorf("removed from the file, still stored: %v", err)
	}
	if got := mustIncident(t, st, "cdn"); got.Status != alerts.IncidentMonitoring || got.Source != alerts.SourceConfig {
		t.Errorf("added: %+v", got)
	}
	sameIncident(t, mustIncident(t, st, api.ID), api)

	// The API cannot change config incidents.
	title := "x"
	_, err = st.UpdateIncident(ctx, "cdn", alerts.IncidentPatch{Title: &title})
	if !errors.Is(err, alerts.ErrConfigIncident) {
		t.Errorf("patch a config incident: %v", err)
	}
	if _, err := st.AddIncidentUpdate(ctx, "cdn", upd(80, alerts.IncidentResolved, "x")); !errors.Is(err, alerts.ErrConfigIncident) {
		t.Errorf("update a config incident: %v", err)
	}
	if err := st.DeleteIncident(ctx, "cdn"); !errors.Is(err, alerts.ErrConfigIncident) {
		t.Errorf("delete a config incident: %v", err)
	}

	// Refused syncs change nothing.
	before, _ := st.Incidents(ctx, alerts.IncidentQuery{})
	bad := []struct {
		name string
		incs []alerts.Incident
		want string
	}{
		{"api id", []alerts.Incident{added, {ID: api.ID, Title: "t", Updates: named.Updates}},
			`incidents[1].id: "` + api.ID + `" is an incident made through the API`},
		{"duplicate id", []alerts.Incident{added, named, added}, `incidents[2].id: "cdn" is also incidents[0]'s`},
		{"invalid", []alerts.Incident{added, {Title: "", Updates: []alerts.IncidentUpdate{{Status: "up"}}}},
			"incidents[1].title: required\nincidents[1].updates[0].at: required\n" +
				`incidents[1].updates[0].status: "up" is not an incident status (investigating, identified, monitoring, resolved)` +
				"\nincidents[1].updates[0].body: required"},
	}
	for _, tt := range bad {
		err := st.SyncConfigIncidents(ctx, tt.incs)
		if !errors.Is(err, alerts.ErrInvalid) || err.Error() != tt.want {
			t.Errorf("%s: got %v\nwant %s", tt.name, err, tt.want)
		}
	}
	after, _ := st.Incidents(ctx, alerts.IncidentQuery{})
	if !reflect.DeepEqual(before, after) {
		t.Error("a refused sync changed the store")
	}

	// An empty file removes every config incident, and only those.
	if err := st.SyncConfigIncidents(ctx, nil); err != nil {
		t.Fatal(err)
	}
	left, _ := st.Incidents(ctx, alerts.IncidentQuery{})
	if len(left) != 1 || left[0].ID != api.ID {
		t.Errorf("left %+v, want the API incident only", left)
	}
}

// TestIncidentValidate: each problem starts with its field; valid
// incidents come out normalized.
func TestIncidentValidate(t *testing.T) {
	ok := func() alerts.Incident {
		return alerts.Incident{Title: "Outage", Impact: alerts.ImpactMinor, Checks: []string{"api"},
			Updates: []alerts.IncidentUpdate{upd(0, alerts.IncidentInvestigating, "Looking.")}}
	}
	tests := []struct {
		name   string
		change func(*alerts.Incident)
		want   string // the whole message; "" = valid
	}{
		{"valid", func(*alerts.Incident) {}, ""},
		{"title of 200 runes", func(i *alerts.Incident) { i.Title = strings.Repeat("é", 200) }, ""},
		{"title of 201 runes", func(i *alerts.Incident) { i.Title = strings.Repeat("é", 201) }, "title: 201 characters, at most 200"},
		{"no title", func(i *alerts.Incident) { i.Title = "  " }, "title: required"},
		{"newline in title", func(i *alerts.Incident) { i.Title = "a\nb" }, "title: control character U+000A (one line of text)"},
		{"bad UTF-8", func(i *alerts.Incident) { i.Title = "a\xffb" }, "title: not valid UTF-8"},
		{"newline and tab in body", func(i *alerts.Incident) { i.Updates[0].Body = "a\n\tb" }, ""},
		{"escape in body", func(i *alerts.Incident) { i.Updates[0].Body = "a\x1b[2Jb" },
			"updates[0].body: control character U+001B (only newlines and tabs are allowed)"},
		{"C1 control in body", func(i *alerts.Incident) { i.Updates[0].Body = "a\u0085b" },
			"updates[0].body: control character U+0085 (only newlines and tabs are allowed)"},
		{"body of 10,000", func(i *alerts.Incident) { i.Updates[0].Body = strings.Repeat("ü", 10_000) }, ""},
		{"body of 10,001", func(i *alerts.Incident) { i.Updates[0].Body = strings.Repeat("ü", 10_001) },
			"updates[0].body: 10001 characters, at most 10000"},
		{"no updates", func(i *alerts.Incident) { i.Updates = nil }, "updates: at least one ({at, status, body})"},
		{"second update without time", func(i *alerts.Incident) {
			i.Updates = append(i.Updates, alerts.IncidentUpdate{Status: alerts.IncidentResolved, Body: "x"})
		}, "updates[1].at: required"},
		{"update without status", func(i *alerts.Incident) { i.Updates[0].Status = "" },
			"updates[0].status: required (investigating, identified, monitoring, resolved)"},
		{"status ahead of the newest update wins", func(i *alerts.Incident) { i.Status = alerts.IncidentIdentified }, ""},
		{"unknown status", func(i *alerts.Incident) { i.Status = "down" },
			`status: "down" is not an incident status (investigating, identified, monitoring, resolved)`},
		{"unknown impact", func(i *alerts.Incident) { i.Impact = "high" }, `impact: "high" is not an impact (none, minor, major, critical)`},
		{"checks", func(i *alerts.Incident) { i.Checks = []string{"api", "", "api"} },
			"checks[1]: empty check name\nchecks[2]: \"api\" is listed twice"},
		{"id with a slash", func(i *alerts.Incident) { i.ID = "a/b" },
			`id: "a/b": use up to 64 ASCII letters, digits, '-', '_' or '.', starting with a letter or digit`},
		{"id with a dot first", func(i *alerts.Incident) { i.ID = ".." },
			`id: "..": use up to 64 ASCII letters, digits, '-', '_' or '.', starting with a letter or digit`},
		{"several", func(i *alerts.Incident) { i.Title = ""; i.Impact = "x"; i.Updates[0].At = time.Time{} },
			"title: required\nimpact: \"x\" is not an impact (none, minor, major, critical)\nupdates[0].at: required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i := ok()
			tt.change(&i)
			err := i.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tt.want != "" && (err == nil || err.Error() != tt.want):
				t.Errorf("got  %v\nwant %s", err, tt.want)
			}
		})
	}

	t.Run("normalized", func(t *testing.T) {
		i := alerts.Incident{Title: " Outage\n", Checks: nil, Updates: []alerts.IncidentUpdate{
			{At: t0.Add(time.Hour).In(time.FixedZone("X", -7200)), Status: alerts.IncidentResolved, Body: "Fixed.\r\nSorry.\n"},
			upd(0, alerts.IncidentInvestigating, "first"),
			upd(30, alerts.IncidentMonitoring, "watching"),
		}}
		if err := i.Validate(); err != nil {
			t.Fatal(err)
		}
		if i.Title != "Outage" || i.Impact != alerts.ImpactNone || i.Checks == nil || i.Status != alerts.IncidentResolved ||
			!i.ResolvedAt.Equal(t0.Add(time.Hour)) || i.ID == "" {
			t.Errorf("normalized: %+v", i)
		}
		var bodies []string
		for _, u := range i.Updates {
			bodies = append(bodies, u.Body)
			if u.At.Location() != time.UTC {
				t.Errorf("%s not in UTC", u.At)
			}
		}
		if got := strings.Join(bodies, "|"); got != "first|watching|Fixed.\nSorry." {
			t.Errorf("updates in order: %q", got)
		}
		id := i.ID
		if err := i.Validate(); err != nil || i.ID != id {
			t.Errorf("validating again: %v, id %q → %q", err, id, i.ID)
		}
	})
}

// TestIncidentDecode reads the config's YAML (unknown keys refused) and
// the API's JSON; statuses and impacts are checked while decoding.
func TestIncidentDecode(t *testing.T) {
	const doc = `
title: Elevated API errors
status: identified
impact: major
checks: [api]
updates:
  - {at: "2026-11-20T10:02:00Z", status: investigating, body: "We are looking into it."}
  - {at: "2026-11-20T10:09:00Z", status: identified, body: "Bad deploy."}
`
	var inc alerts.Incident
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	if err := dec.Decode(&inc); err != nil {
		t.Fatal(err)
	}
	if err := inc.Validate(); err != nil {
		t.Fatal(err)
	}
	if inc.Status != alerts.IncidentIdentified || inc.Impact != alerts.ImpactMajor || !inc.Updates[0].At.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("decoded %+v", inc)
	}

	bad := []struct{ name, yaml, want string }{
		{"status", "status: down", `"down" is not an incident status`},
		{"impact", "impact: high", `"high" is not an impact`},
		{"update status", "updates: [{status: fixed}]", `"fixed" is not an incident status`},
		{"times are not config", "created_at: 2026-11-20T10:00:00Z", "field created_at not found"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			var inc alerts.Incident
			dec := yaml.NewDecoder(strings.NewReader(tt.yaml))
			dec.KnownFields(true)
			if err := dec.Decode(&inc); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}

	var u alerts.IncidentUpdate
	if err := json.Unmarshal([]byte(`{"status": "Resolved"}`), &u); err == nil || !strings.Contains(err.Error(), `"Resolved" is not an incident status`) {
		t.Errorf("JSON status: %v", err)
	}
	b, err := json.Marshal(alerts.Incident{ID: "x", Title: "t", Status: alerts.IncidentResolved, Source: alerts.SourceAPI,
		ResolvedAt: t0, Updates: []alerts.IncidentUpdate{}})
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"id":"x","title":"t","status":"resolved","impact":"","checks":null,"updates":[],"resolved_at":"2026-11-20T10:00:00Z","source":"api"}`
	if string(b) != want {
		t.Errorf("JSON\n got %s\nwant %s", b, want)
	}
}

// TestMaintenanceAPI: windows made through the API survive reopening the
// store, weekly ones with their time zone.
func TestMaintenanceAPI(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "alerts.db")
	st := openStore(t, path)

	oneOff, err := st.CreateMaintenance(ctx, alerts.Maintenance{ID: "ignored", Name: "DB upgrade", Description: "Version 17.\nShort read-only phase.",
		Checks: []string{"db"}, Start: t0.In(time.FixedZone("X", 3600)), End: t0.Add(2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(oneOff.ID) {
		t.Errorf("id %q", oneOff.ID)
	}
	var weekly alerts.Maintenance
	if err := json.Unmarshal([]byte(`{"name": "Patching", "all": true,
		"weekly": {"days": ["sun", "wednesday"], "at": "02:30", "duration_seconds": 5400, "time_zone": "Europe/Berlin"}}`), &weekly); err != nil {
		t.Fatal(err)
	}
	weekly, err = st.CreateMaintenance(ctx, weekly)
	if err != nil {
		t.Fatal(err)
	}
	if weekly.Weekly.Duration != 90*time.Minute {
		t.Errorf("duration %s, want 1h30m", weekly.Weekly.Duration)
	}
	b, _ := json.Marshal(weekly.Weekly)
	if want := `{"days":["sun","wed"],"at":"02:30","time_zone":"Europe/Berlin","duration_seconds":5400}`; string(b) != want {
		t.Errorf("weekly JSON\n got %s\nwant %s", b, want)
	}

	_, err = st.CreateMaintenance(ctx, alerts.Maintenance{Name: "bad\x00name", Description: "\x07",
		Weekly: &alerts.Weekly{Duration: time.Hour, TimeZone: "Mars/Olympus"}})
	if !errors.Is(err, alerts.ErrInvalid) || err.Error() != "checks: name the checks, or set all: true\nweekly.days: at least one day\n"+
		`weekly.time_zone: "Mars/Olympus" is not a time zone (e.g. Europe/Berlin)`+"\n"+
		"name: control character U+0000 (one line of text)\ndescription: control character U+0007 (only newlines and tabs are allowed)" {
		t.Errorf("invalid window: %v", err)
	}

	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = openStore(t, path)
	got, err := st.Maintenances(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != oneOff.ID || got[1].ID != weekly.ID {
		t.Fatalf("maintenances after reopening: %+v", got)
	}
	if g := got[0]; g.Name != "DB upgrade" || g.Description != oneOff.Description || !g.Start.Equal(t0) || !g.End.Equal(t0.Add(2*time.Hour)) ||
		!g.ActiveAt(t0.Add(time.Hour)) || g.ActiveAt(t0.Add(2*time.Hour)) || !g.Covers("db") || g.Covers("api") {
		t.Errorf("one-off: %+v", g)
	}
	// Sunday 2026-11-22 02:30 in Berlin is 01:30 UTC: active only if the
	// time zone was loaded again.
	sunday := time.Date(2026, 11, 22, 1, 45, 0, 0, time.UTC)
	if g := got[1]; !g.All || !g.ActiveAt(sunday) || g.ActiveAt(sunday.Add(-30*time.Minute)) || g.ActiveAt(sunday.Add(90*time.Minute)) ||
		!reflect.DeepEqual(g.Weekly.Days, []alerts.Weekday{alerts.Weekday(time.Sunday), alerts.Weekday(time.Wednesday)}) {
		t.Errorf("weekly: %+v %+v", g, g.Weekly)
	}

	if err := st.DeleteMaintenance(ctx, oneOff.ID); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteMaintenance(ctx, oneOff.ID); !errors.Is(err, alerts.ErrMaintenanceNotFound) {
		t.Errorf("delete twice: %v", err)
	}
	if got, _ := st.Maintenances(ctx); len(got) != 1 || got[0].ID != weekly.ID {
		t.Errorf("after delete: %+v", got)
	}
}

// v1Schema is version 1 of the alert store as vantage wrote it before
// incidents: a fixture, kept as it was.
const v1Schema = `CREATE TABLE alert_state (fingerprint TEXT PRIMARY KEY, state BLOB NOT NULL);
CREATE TABLE notify_log (group_key TEXT NOT NULL, receiver TEXT NOT NULL, sent_at INTEGER NOT NULL, firing BLOB NOT NULL,
	PRIMARY KEY (group_key, receiver));
CREATE TABLE outbox (id INTEGER PRIMARY KEY, receiver TEXT NOT NULL, key TEXT NOT NULL, notification BLOB NOT NULL,
	created_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL, sent_at INTEGER,
	given_up_at INTEGER, last_error TEXT NOT NULL DEFAULT '', UNIQUE (receiver, key));
CREATE INDEX outbox_due ON outbox (receiver, next_at) WHERE sent_at IS NULL AND given_up_at IS NULL;
CREATE TABLE silences (id TEXT PRIMARY KEY, silence BLOB NOT NULL, ends_at INTEGER NOT NULL);
PRAGMA user_version = 1;`

func userVersion(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v int
	if err := db.QueryRowContext(t.Context(), `PRAGMA user_version`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestStoreMigratesV1: a version 1 file (with a silence in it) opens as
// version 2 with its data, takes incidents, and opens again unchanged.
func TestStoreMigratesV1(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "alerts.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, v1Schema); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO silences (id, silence, ends_at) VALUES ('s1', ?, ?)`,
		`{"id":"s1","matchers":["check=api"],"starts_at":"2026-11-20T10:00:00Z","ends_at":"2999-01-01T00:00:00Z","comment":"old"}`,
		time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if v := userVersion(t, path); v != 1 {
		t.Fatalf("fixture at version %d", v)
	}

	st, err := alerts.OpenStore(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	sils, err := st.Silences(ctx, t0)
	if err != nil || len(sils) != 1 || sils[0].Comment != "old" {
		t.Errorf("silence of the v1 file: %+v %v", sils, err)
	}
	inc, err := st.CreateIncident(ctx, alerts.Incident{Title: "After the upgrade",
		Updates: []alerts.IncidentUpdate{upd(0, alerts.IncidentInvestigating, "Looking.")}})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if v := userVersion(t, path); v != 2 {
		t.Errorf("user_version %d after opening, want 2", v)
	}

	st = openStore(t, path) // written by this version, opened again
	sameIncident(t, mustIncident(t, st, inc.ID), inc)
	if v := userVersion(t, path); v != 2 {
		t.Errorf("user_version %d after reopening, want 2", v)
	}
}

// TestIncidentDeclaredStatus: the example — status identified over
// an update that said investigating — keeps the declared status.
func TestIncidentDeclaredStatus(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 2, 0, 0, time.UTC)
	inc := alerts.Incident{Title: "Elevated API errors", Status: alerts.IncidentIdentified, Impact: alerts.ImpactMajor,
		Checks: []string{"api"}, Updates: []alerts.IncidentUpdate{{At: at, Status: alerts.IncidentInvestigating, Body: "We are looking into it."}}}
	if err := inc.Validate(); err != nil {
		t.Fatal(err)
	}
	if inc.Status != alerts.IncidentIdentified || !inc.Open() || !inc.ResolvedAt.IsZero() {
		t.Fatalf("%+v", inc)
	}
	inc.Status = alerts.IncidentResolved
	if err := inc.Validate(); err != nil || inc.Open() || !inc.ResolvedAt.Equal(at) {
		t.Fatalf("declared resolved: %v %+v", err, inc)
	}
}
