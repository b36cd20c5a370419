package statuspage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vantageprobe/vantage/results"
)

// Source is everything the page reads; the server implements it. Every
// method may be called from several goroutines at once.
type Source interface {
	// Rollups reads minute and day rollups of one check × region (the
	// page always names the region): the uptime bars, uptime percentages
	// and response-time charts come from them, never from raw results.
	results.RollupReader
	// States returns the current state of each of checks (the public
	// ones only). A check missing from the map is shown as unknown.
	States(ctx context.Context, checks []string) (map[string]CheckState, error)
	// Events returns every incident that is unresolved or was open at some
	// time in [from, to), and the occurrences of maintenance windows that
	// overlap [from, to). The page filters both again by visibility.
	Events(ctx context.Context, from, to time.Time) (Events, error)
}

// State is a check's state, as DESIGN.md's contract names them.
type State string

// Check states.
const (
	StateUp          State = "up"
	StateDegraded    State = "degraded"
	StateDown        State = "down"
	StateUnknown     State = "unknown"
	StateMaintenance State = "maintenance"
)

// CheckState is the current state of one check.
type CheckState struct {
	State State
	// Quorum is the number of failing regions that make the check down
	// (the check's quorum); 0 means a majority of its regions.
	Quorum int
	// Regions are the check's regions, each with its own state; the
	// page reads one rollup series per region listed here.
	Regions []RegionState
}

// RegionState is the latest of one check in one region.
type RegionState struct {
	Region string
	State  State
	// Error is the failure message of the latest result; shown only with
	// show.errors, since it may name hosts and addresses.
	Error string
}

// Events are the incidents and maintenance windows of a time range.
type Events struct {
	Incidents   []Incident
	Maintenance []Maintenance
}

// Maintenance is one occurrence of a maintenance window.
type Maintenance struct {
	Name        string
	Description string
	Checks      []string
	All         bool // every check, public ones included
	Start, End  time.Time
}

// ID is a stable identifier of the occurrence, for feeds and JSON.
func (m Maintenance) ID() string {
	return "m" + shortHash(m.Name, m.Start.UTC().Format(time.RFC3339))
}

// Incident is a public incident: the status_page's `incidents:` list in
// the configuration, or the admin API's. It decodes with the config
// package's strict decoder and checks itself with Validate.
type Incident struct {
	// ID is stable and URL-safe; empty means derived from the title and
	// the creation time (see Key).
	ID     string         `yaml:"id"`
	Title  string         `yaml:"title"`
	Status IncidentStatus `yaml:"status"` // default: the newest update's
	Impact Impact         `yaml:"impact"` // default none
	// Checks are the affected checks; only public ones are ever shown.
	// An incident that names checks, none of them public, is not public.
	Checks  []string `yaml:"checks"`
	Updates []Update `yaml:"updates"`
	// Created defaults to the first update's time.
	Created time.Time `yaml:"created"`
	// Resolved defaults, when Status is resolved, to the time of the last
	// update.
	Resolved time.Time `yaml:"resolved"`
}

// Update is one entry of an incident's timeline.
type Update struct {
	At     time.Time      `yaml:"at"`
	Status IncidentStatus `yaml:"status"`
	Body   string         `yaml:"body"` // plain text; http(s) URLs become links
}

// IncidentStatus is investigating, identified, monitoring or resolved.
type IncidentStatus string

// Incident statuses, in the order an incident goes through them.
const (
	Investigating IncidentStatus = "investigating"
	Identified    IncidentStatus = "identified"
	Monitoring    IncidentStatus = "monitoring"
	Resolved      IncidentStatus = "resolved"
)

// UnmarshalText accepts one of the four statuses.
func (s *IncidentStatus) UnmarshalText(b []byte) error {
	switch v := IncidentStatus(b); v {
	case Investigating, Identified, Monitoring, Resolved:
		*s = v
		return nil
	}
	return fmt.Errorf("%q is not an incident status (investigating, identified, monitoring, resolved)", b)
}

// Impact is none, minor, major or critical.
type Impact string

// Incident impacts, least first.
const (
	ImpactNone     Impact = "none"
	ImpactMinor    Impact = "minor"
	ImpactMajor    Impact = "major"
	ImpactCritical Impact = "critical"
)

// UnmarshalText accepts one of the four impacts.
func (i *Impact) UnmarshalText(b []byte) error {
	switch v := Impact(b); v {
	case ImpactNone, ImpactMinor, ImpactMajor, ImpactCritical:
		*i = v
		return nil
	}
	return fmt.Errorf("%q is not an impact (none, minor, major, critical)", b)
}

// Limits of an incident.
const (
	maxIncidentID = 64 // it is a URL path segment
	maxTitle      = 200
	maxBody       = 10000
)

// current is Status, or the newest update's status when Status is empty.
func (in Incident) current() IncidentStatus {
	if in.Status == "" && len(in.Updates) > 0 {
		return in.Updates[len(in.Updates)-1].Status
	}
	return in.Status
}

// Validate checks an incident; every problem starts with its field.
func (in Incident) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if strings.TrimSpace(in.Title) == "" {
		add("title: required")
	}
	if in.ID != "" && !validID(in.ID) {
		add("id: %q must be 1-%d letters, digits, '-', '_' or '.'", in.ID, maxIncidentID)
	}
	if utf8.RuneCountInString(in.Title) > maxTitle || strings.ContainsAny(in.Title, "\r\n") {
		add("title: one line of at most %d characters", maxTitle)
	}
	if in.Status != "" || len(in.Updates) == 0 { // empty is the newest update's
		if err := (&in.Status).UnmarshalText([]byte(in.Status)); err != nil {
			add("status: %v", err)
		}
	}
	if in.Impact != "" { // empty is none
		if err := (&in.Impact).UnmarshalText([]byte(in.Impact)); err != nil {
			add("impact: %v", err)
		}
	}
	if len(in.Updates) == 0 && in.Created.IsZero() {
		add("updates: at least one update (or set created)")
	}
	for i, u := range in.Updates {
		if u.At.IsZero() {
			add("updates[%d].at: required", i)
		}
		if i > 0 && u.At.Before(in.Updates[i-1].At) {
			add("updates[%d].at: before the update above it; list updates oldest first", i)
		}
		if err := (&u.Status).UnmarshalText([]byte(u.Status)); err != nil {
			add("updates[%d].status: %v", i, err)
		}
		if strings.TrimSpace(u.Body) == "" {
			add("updates[%d].body: required", i)
		} else if utf8.RuneCountInString(u.Body) > maxBody {
			add("updates[%d].body: longer than %d characters", i, maxBody)
		}
	}
	if !in.Resolved.IsZero() && in.current() != Resolved {
		add("resolved: set, but status is %s", in.current())
	}
	return errors.Join(errs...)
}

// validID reports whether id is 1-64 of [A-Za-z0-9_.-], not all dots (a
// path segment of "." or ".." would not reach the page).
func validID(id string) bool {
	if id == "" || len(id) > maxIncidentID || strings.Trim(id, ".") == "" {
		return false
	}
	for _, c := range id {
		ok := c == '-' || c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !ok {
			return false
		}
	}
	return true
}

// Key is the incident's id: ID when it is valid, else one derived from
// the title and creation time, so it stays the same across restarts.
func (in Incident) Key() string {
	if validID(in.ID) {
		return in.ID
	}
	return "i" + shortHash(in.ID, in.Title, in.CreatedAt().UTC().Format(time.RFC3339))
}

// CreatedAt is Created, or the first update's time.
func (in Incident) CreatedAt() time.Time {
	if !in.Created.IsZero() || len(in.Updates) == 0 {
		return in.Created
	}
	return in.Updates[0].At
}

// ResolvedAt is when the incident was resolved (zero while it is open).
func (in Incident) ResolvedAt() time.Time {
	if in.current() != Resolved {
		return time.Time{}
	}
	if !in.Resolved.IsZero() {
		return in.Resolved
	}
	if n := len(in.Updates); n > 0 {
		return in.Updates[n-1].At
	}
	return in.Created
}

// UpdatedAt is the time of the latest update (or creation).
func (in Incident) UpdatedAt() time.Time {
	t := in.CreatedAt()
	for _, u := range in.Updates {
		if u.At.After(t) {
			t = u.At
		}
	}
	if r := in.ResolvedAt(); r.After(t) {
		t = r
	}
	return t
}

// shortHash is 12 hex digits of the SHA-256 of parts.
func shortHash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}
