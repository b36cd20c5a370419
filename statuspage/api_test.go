package statuspage_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/statuspage"
)

func newServer(t testing.TB, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// summary mirrors the statuspage.io client's Summary types (reference
// C.1); decoding rejects unknown fields, so the shape is exact.
type summary struct {
	Page struct {
		ID        string `json:"id"`
		Name      string `json:"name"`
		URL       string `json:"url"`
		TimeZone  string `json:"time_zone"`
		UpdatedAt string `json:"updated_at"`
	} `json:"page"`
	Status struct {
		Indicator   string `json:"indicator"`
		Description string `json:"description"`
	} `json:"status"`
	Components []struct {
		ID                 string   `json:"id"`
		Name               string   `json:"name"`
		Status             string   `json:"status"`
		Position           int      `json:"position"`
		Description        *string  `json:"description"`
		Group              bool     `json:"group"`
		GroupID            *string  `json:"group_id"`
		Components         []string `json:"components"`
		Showcase           bool     `json:"showcase"`
		OnlyShowIfDegraded bool     `json:"only_show_if_degraded"`
		StartDate          *string  `json:"start_date"`
		PageID             string   `json:"page_id"`
		CreatedAt          string   `json:"created_at"`
		UpdatedAt          string   `json:"updated_at"`
	} `json:"components"`
	Incidents             []incident `json:"incidents"`
	ScheduledMaintenances []incident `json:"scheduled_maintenances"`
}

type incident struct {
	ID             string  `json:"id"`
	Name           string  `json:"name"`
	Status         string  `json:"status"`
	Impact         string  `json:"impact"`
	CreatedAt      string  `json:"created_at"`
	UpdatedAt      string  `json:"updated_at"`
	StartedAt      string  `json:"started_at"`
	MonitoringAt   *string `json:"monitoring_at"`
	ResolvedAt     *string `json:"resolved_at"`
	ScheduledFor   *string `json:"scheduled_for"`
	ScheduledUntil *string `json:"scheduled_until"`
	Shortlink      string  `json:"shortlink"`
	PageID         string  `json:"page_id"`
	Components     []struct {
		ID     string `json:"id"`
		Name   string `json:"name"`
		Status string `json:"status"`
	} `json:"components"`
	IncidentUpdates []struct {
		ID        string `json:"id"`
		Status    string `json:"status"`
		Body      string `json:"body"`
		CreatedAt string `json:"created_at"`
		DisplayAt string `json:"display_at"`
		UpdatedAt string `json:"updated_at"`
	} `json:"incident_updates"`
}

func getJSON(t testing.TB, srv *httptest.Server, path string, v any) {
	t.Helper()
	resp, body := get(t, srv, path)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("GET %s: %v\n%s", path, err, body)
	}
}

// TestSummaryShape checks summary.json against Statuspage's shape and enums.
func TestSummaryShape(t *testing.T) {
	f := newFixture(t, fixtureConfig(), fixtureSource(fixtureNow), statuspage.Options{})
	var s summary
	getJSON(t, f.srv, "/api/v2/summary.json", &s)
	rfc := func(what, v string) {
		if _, err := time.Parse(time.RFC3339, v); err != nil || !strings.HasSuffix(v, "Z") {
			t.Errorf("%s %q is not RFC 3339 UTC", what, v)
		}
	}
	if s.Page.ID == "" || s.Page.Name != "Example Status" || s.Page.URL != "https://status.example.com/" || s.Page.TimeZone != "Europe/Berlin" {
		t.Errorf("page = %+v", s.Page)
	}
	rfc("page.updated_at", s.Page.UpdatedAt)
	if s.Status.Indicator != "major" || s.Status.Description != "Partial outage" {
		t.Errorf("status = %+v", s.Status)
	}
	componentStatuses := []string{"operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"}
	var names []string
	groups := map[string]bool{}
	for i, c := range s.Components {
		if !slices.Contains(componentStatuses, c.Status) || c.ID == "" || c.PageID != s.Page.ID || c.Position != i+1 {
			t.Errorf("component %+v", c)
		}
		rfc("component.updated_at", c.UpdatedAt)
		if c.Group {
			groups[c.ID] = true
		} else if c.GroupID == nil || !groups[*c.GroupID] {
			t.Errorf("component %s: group_id %v names no group listed before it", c.Name, c.GroupID)
		}
		names = append(names, c.Name)
	}
	if want := []string{"API", "api", "api-eu", "Website", "web", "checkout"}; !slices.Equal(names, want) {
		t.Errorf("components %v, want %v", names, want)
	}
	if len(s.Incidents) != 1 || s.Incidents[0].Name != "Elevated API errors" || s.Incidents[0].Impact != "major" ||
		s.Incidents[0].Status != "identified" || len(s.Incidents[0].IncidentUpdates) != 2 ||
		s.Incidents[0].IncidentUpdates[0].Status != "identified" || s.Incidents[0].ResolvedAt != nil ||
		!strings.HasPrefix(s.Incidents[0].Shortlink, "https://status.example.com/incidents/") ||
		len(s.Incidents[0].Components) != 1 || s.Incidents[0].Components[0].Name != "api" {
		t.Errorf("incidents = %+v", s.Incidents)
	}
	for _, in := range append(slices.Clone(s.Incidents), s.ScheduledMaintenances...) {
		for _, v := range []string{in.CreatedAt, in.UpdatedAt, in.StartedAt} {
			rfc(in.Name, v)
		}
		if !slices.Contains([]string{"investigating", "identified", "monitoring", "resolved", "scheduled", "in_progress", "verifying", "completed"}, in.Status) ||
			!slices.Contains([]string{"none", "minor", "major", "critical", "maintenance"}, in.Impact) {
			t.Errorf("%s: status %q impact %q", in.Name, in.Status, in.Impact)
		}
	}
	var maint []string
	for _, m := range s.ScheduledMaintenances {
		maint = append(maint, m.Name+"="+m.Status)
		if m.ScheduledFor == nil || m.ScheduledUntil == nil || m.Impact != "maintenance" {
			t.Errorf("maintenance %+v", m)
		}
	}
	if want := []string{"Checkout upgrade=in_progress", "Database migration=scheduled"}; !slices.Equal(maint, want) {
		t.Errorf("scheduled_maintenances %v, want %v", maint, want)
	}

	// The other views are parts of the same document.
	var st summary
	getJSON(t, f.srv, "/api/v2/status.json", &st)
	if st.Status != s.Status || st.Components != nil || st.Incidents != nil {
		t.Errorf("status.json = %+v", st)
	}
	var all summary
	getJSON(t, f.srv, "/api/v2/incidents.json", &all)
	if len(all.Incidents) != 2 || all.Incidents[1].ResolvedAt == nil || *all.Incidents[1].ResolvedAt != "2026-03-10T10:40:00Z" {
		t.Errorf("incidents.json = %+v", all.Incidents)
	}
}
