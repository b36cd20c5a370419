package statuspage_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vantageprobe/vantage/statuspage"
)

// TestConfigYAML decodes the example with unknown keys refused, so
// the yaml tags are the documented keys.
func TestConfigYAML(t *testing.T) {
	doc := `
title: Example Status
description: Live status of Example's services
url: https://status.example.com
time_zone: Europe/Berlin
groups:
  - name: API
    checks: [api, api-eu]
  - name: Website
    checks: [homepage, checkout]
show: {regions: true, response_times: false, errors: false}
`
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	var c statuspage.Config
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.TimeZone != "Europe/Berlin" || len(c.Groups) != 2 || c.Groups[1].Checks[0] != "homepage" ||
		c.Show.Regions == nil || !*c.Show.Regions || c.Show.ResponseTimes == nil || *c.Show.ResponseTimes || c.Show.Errors {
		t.Errorf("decoded %+v", c)
	}
	if got := strings.Join(c.Checks(), ","); got != "api,api-eu,homepage,checkout" {
		t.Errorf("Checks() = %s", got)
	}

	inc := `
title: Elevated API errors
status: identified
impact: major
checks: [api]
updates: [{at: "2026-11-20T10:02:00Z", status: investigating, body: "We are looking into it."}]
`
	dec = yaml.NewDecoder(bytes.NewReader([]byte(inc)))
	dec.KnownFields(true)
	var in statuspage.Incident
	if err := dec.Decode(&in); err != nil {
		t.Fatal(err)
	}
	if err := in.Validate(); err != nil || in.Impact != statuspage.ImpactMajor || !in.Updates[0].At.Equal(time.Date(2026, 11, 20, 10, 2, 0, 0, time.UTC)) {
		t.Errorf("incident %+v: %v", in, err)
	}
	if err := yaml.Unmarshal([]byte("status: fixed\ntitle: x"), &in); err == nil || !strings.Contains(err.Error(), "not an incident status") {
		t.Errorf("status fixed: %v", err)
	}
}

// TestConfigValidate collects every problem, each starting with its field.
func TestConfigValidate(t *testing.T) {
	yes := true
	tests := []struct {
		name string
		cfg  statuspage.Config
		want []string
	}{
		{"minimal", statuspage.Config{Groups: []statuspage.Group{{Name: "G", Checks: []string{"a"}}}, Show: statuspage.Show{Regions: &yes}}, nil},
		{"no groups", statuspage.Config{}, []string{"groups: at least one group"}},
		{"everything wrong", statuspage.Config{
			URL: "ftp://x", TimeZone: "Mars/Olympus",
			Groups: []statuspage.Group{{Name: " ", Checks: nil}, {Name: "B", Checks: []string{"a", "", "a"}}},
		}, []string{
			`url: "ftp://x" must be an http:// or https:// URL`,
			`time_zone: "Mars/Olympus" is not a time zone`,
			"groups[0].name: required", "groups[0].checks: at least one check",
			"groups[1].checks[1]: empty check name", `groups[1].checks[2]: a is already listed in group "B"`,
		}},
		{"url with credentials", statuspage.Config{URL: "https://u:p@status.example.com", Groups: []statuspage.Group{{Name: "G", Checks: []string{"a"}}}},
			[]string{"url: ", "must not contain credentials"}},
		{"url with query", statuspage.Config{URL: "https://status.example.com/?a=1", Groups: []statuspage.Group{{Name: "G", Checks: []string{"a"}}}},
			[]string{"must not have a query"}},
		{"check in two groups", statuspage.Config{Groups: []statuspage.Group{{Name: "A", Checks: []string{"x"}}, {Name: "B", Checks: []string{"x"}}}},
			[]string{`groups[1].checks[0]: x is already listed in group "A"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q missing from\n%v", w, err)
				}
			}
			if _, err := statuspage.New(tt.cfg, &fakeSource{}, statuspage.Options{}); err == nil {
				t.Error("New accepted an invalid config")
			}
		})
	}
}

// TestIncidentValidate covers the incident's own checks.
func TestIncidentValidate(t *testing.T) {
	at := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	good := statuspage.Incident{Title: "t", Updates: []statuspage.Update{{At: at, Status: statuspage.Investigating, Body: "b"}}}
	if err := good.Validate(); err != nil {
		t.Fatalf("status and impact default: %v", err)
	}
	bad := statuspage.Incident{ID: "a/b", Title: strings.Repeat("x", 201), Status: "done", Impact: "huge",
		Resolved: at,
		Updates: []statuspage.Update{
			{At: at, Status: statuspage.Investigating, Body: "b"},
			{At: at.Add(-time.Minute), Status: "x", Body: " "},
		}}
	err := bad.Validate()
	for _, w := range []string{"id: ", "title: one line", `status: "done" is not an incident status`, `impact: "huge" is not an impact`,
		"updates[1].at: before the update above it", `updates[1].status: "x"`, "updates[1].body: required", "resolved: set, but status is done"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("%q missing from %v", w, err)
		}
	}
	// Keys: the id when valid; else derived, stable, and path-safe.
	if good.Key() == "" || good.Key() != good.Key() || strings.ContainsAny(good.Key(), "/?#") {
		t.Errorf("Key %q", good.Key())
	}
	named := good
	named.ID = "inc-2026.1"
	if named.Key() != "inc-2026.1" {
		t.Errorf("Key %q", named.Key())
	}
	for _, id := range []string{"..", "a b", strings.Repeat("a", 65)} {
		in := good
		in.ID = id
		if in.Validate() == nil || in.Key() == id {
			t.Errorf("id %q accepted", id)
		}
	}
}
