package alerts

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Errors of the incident and maintenance methods of Store that callers
// branch on.
var (
	// ErrInvalid marks input refused by validation (HTTP 400): the
	// message is the problems', each starting with its field.
	ErrInvalid = errors.New("invalid")
	// ErrIncidentNotFound: no incident has the id (HTTP 404).
	ErrIncidentNotFound = errors.New("incident not found")
	// ErrConfigIncident: the incident comes from the config file; the
	// next sync would undo a change made through the API, so edit the
	// file instead (HTTP 409).
	ErrConfigIncident = errors.New("incident comes from the config file")
	// ErrMaintenanceNotFound: no maintenance window made through the API
	// has the id (HTTP 404).
	ErrMaintenanceNotFound = errors.New("maintenance window not found")
)

// invalidError is a validation failure: its message is the problems'
// alone, and it is ErrInvalid.
type invalidError struct{ err error }

func (e invalidError) Error() string   { return e.err.Error() }
func (e invalidError) Unwrap() []error { return []error{e.err, ErrInvalid} }

func invalid(err error) error {
	if err == nil {
		return nil
	}
	return invalidError{err}
}

// prefixed puts prefix before each of err's joined problems.
func prefixed(prefix string, err error) error {
	list := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	}
	out := make([]error, len(list))
	for k, e := range list {
		out[k] = fmt.Errorf("%s%w", prefix, e)
	}
	return errors.Join(out...)
}

// IncidentStatus is where an incident stands, as on Atlassian Statuspage:
// investigating → identified → monitoring → resolved.
type IncidentStatus string

// The incident statuses.
const (
	IncidentInvestigating IncidentStatus = "investigating"
	IncidentIdentified    IncidentStatus = "identified"
	IncidentMonitoring    IncidentStatus = "monitoring"
	IncidentResolved      IncidentStatus = "resolved"
)

func (s IncidentStatus) valid() bool {
	switch s {
	case IncidentInvestigating, IncidentIdentified, IncidentMonitoring, IncidentResolved:
		return true
	}
	return false
}

func (s IncidentStatus) check() error {
	if !s.valid() {
		return fmt.Errorf("%q is not an incident status (investigating, identified, monitoring, resolved)", string(s))
	}
	return nil
}

// UnmarshalText parses a status and refuses unknown ones.
func (s *IncidentStatus) UnmarshalText(b []byte) error {
	v := IncidentStatus(b)
	if err := v.check(); err != nil {
		return err
	}
	*s = v
	return nil
}

// Impact is how bad an incident is, as on Atlassian Statuspage.
type Impact string

// The impacts, mildest first.
const (
	ImpactNone     Impact = "none"
	ImpactMinor    Impact = "minor"
	ImpactMajor    Impact = "major"
	ImpactCritical Impact = "critical"
)

func (i Impact) check() error {
	switch i {
	case ImpactNone, ImpactMinor, ImpactMajor, ImpactCritical:
		return nil
	}
	return fmt.Errorf("%q is not an impact (none, minor, major, critical)", string(i))
}

// UnmarshalText parses an impact and refuses unknown ones.
func (i *Impact) UnmarshalText(b []byte) error {
	v := Impact(b)
	if err := v.check(); err != nil {
		return err
	}
	*i = v
	return nil
}

// Limits on incident text (in characters, i.e. runes).
const (
	maxIncidentTitle = 200
	maxIncidentBody  = 10_000
	maxIncidentID    = 64
)

// IncidentUpdate is one entry of an incident's timeline. The body is plain
// text: newlines and tabs are its only control characters, and whoever
// shows it escapes it.
type IncidentUpdate struct {
	At     time.Time      `yaml:"at" json:"at"`
	Status IncidentStatus `yaml:"status" json:"status"`
	Body   string         `yaml:"body" json:"body"`
}

// Incident is a disruption told to the status page's readers: a title, an
// impact, the affected checks and a timeline of updates. It comes from the
// config file (Source "config") or the admin API (Source "api").
type Incident struct {
	// ID is random for incidents made through the API. A config incident
	// without one gets a stable id derived from its title and first
	// update's time (so editing either of those makes it a new incident;
	// set id to keep it).
	ID     string         `yaml:"id" json:"id"`
	Title  string         `yaml:"title" json:"title"`
	Status IncidentStatus `yaml:"status" json:"status"` // the newest update's status
	Impact Impact         `yaml:"impact" json:"impact"` // default none
	Checks []string       `yaml:"checks" json:"checks"` // affected checks
	// Updates, oldest first; at least one.
	Updates []IncidentUpdate `yaml:"updates" json:"updates"`

	CreatedAt  time.Time `yaml:"-" json:"created_at,omitzero"`
	UpdatedAt  time.Time `yaml:"-" json:"updated_at,omitzero"`
	ResolvedAt time.Time `yaml:"-" json:"resolved_at,omitzero"` // zero while open
	Source     string    `yaml:"-" json:"source"`
}

// Where incidents come from.
const (
	SourceConfig = "config"
	SourceAPI    = "api"
)

// Open reports whether the incident is not resolved.
func (i Incident) Open() bool { return i.Status != IncidentResolved }

// Validate checks an incident and normalizes it; every problem starts with
// its field ("updates[1].at: required"), indexes as written. A valid
// incident comes out with times in UTC, updates ordered by time (stable),
// text trimmed (and CRLF as LF in bodies), impact defaulted to none,
// checks non-nil, Status and ResolvedAt following the updates, and an id
// (derived when empty). A Status that is set must be the newest update's.
func (i *Incident) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if i.ID != "" {
		if err := checkIncidentID(i.ID); err != nil {
			add("id: %w", err)
		}
	}
	i.Title = strings.TrimSpace(i.Title)
	if err := checkText(i.Title, maxIncidentTitle, false); err != nil {
		add("title: %w", err)
	}
	if i.Impact == "" {
		i.Impact = ImpactNone
	} else if err := i.Impact.check(); err != nil {
		add("impact: %w", err)
	}
	if i.Status != "" {
		if err := i.Status.check(); err != nil {
			add("status: %w", err)
		}
	}
	errs = append(errs, i.validateChecks()...)
	uerrs := i.validateUpdates()
	errs = append(errs, uerrs...)
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	declared := i.Status
	i.derive()
	if declared != "" && declared != i.Status {
		// A status set without an update of its own (the timeline's last
		// message may be older than the current status): it wins.
		i.Status, i.ResolvedAt = declared, time.Time{}
		if declared == IncidentResolved {
			i.ResolvedAt = i.Updates[len(i.Updates)-1].At
		}
	}
	if i.ID == "" {
		i.ID = derivedIncidentID(i.Title, i.Updates[0].At)
	}
	return nil
}

func (i *Incident) validateChecks() []error {
	var errs []error
	if i.Checks == nil {
		i.Checks = []string{}
	}
	for k, c := range i.Checks {
		switch err := checkText(c, maxIncidentTitle, false); {
		case c == "":
			errs = append(errs, fmt.Errorf("checks[%d]: empty check name", k))
		case err != nil:
			errs = append(errs, fmt.Errorf("checks[%d]: %w", k, err))
		case slices.Index(i.Checks, c) < k:
			errs = append(errs, fmt.Errorf("checks[%d]: %q is listed twice", k, c))
		}
	}
	return errs
}

// validateUpdates checks and normalizes the updates, then sorts them by
// time (stable, so updates at the same instant keep their order).
func (i *Incident) validateUpdates() []error {
	if len(i.Updates) == 0 {
		return []error{errors.New("updates: at least one ({at, status, body})")}
	}
	var errs []error
	for k := range i.Updates {
		for _, err := range normalizeUpdate(&i.Updates[k]) {
			errs = append(errs, fmt.Errorf("updates[%d].%w", k, err))
		}
	}
	slices.SortStableFunc(i.Updates, func(a, b IncidentUpdate) int { return a.At.Compare(b.At) })
	return errs
}

// normalizeUpdate checks one update and normalizes its time and body; each
// problem starts with the update's field.
func normalizeUpdate(u *IncidentUpdate) []error {
	var errs []error
	if u.At.IsZero() {
		errs = append(errs, errors.New("at: required"))
	}
	u.At = u.At.UTC()
	if u.Status == "" {
		errs = append(errs, errors.New("status: required (investigating, identified, monitoring, resolved)"))
	} else if err := u.Status.check(); err != nil {
		errs = append(errs, fmt.Errorf("status: %w", err))
	}
	u.Body = strings.TrimSpace(strings.ReplaceAll(u.Body, "\r\n", "\n"))
	if err := checkText(u.Body, maxIncidentBody, true); err != nil {
		errs = append(errs, fmt.Errorf("body: %w", err))
	}
	return errs
}

// derive sets Status and ResolvedAt from the sorted updates: resolved at
// the update that resolved it last, open again after a later update that
// is not resolved.
func (i *Incident) derive() {
	i.ResolvedAt = time.Time{}
	for _, u := range i.Updates {
		switch {
		case u.Status != IncidentResolved:
			i.ResolvedAt = time.Time{}
		case i.ResolvedAt.IsZero():
			i.ResolvedAt = u.At
		}
	}
	i.Status = i.Updates[len(i.Updates)-1].Status
}

// derivedIncidentID is a config incident's id when it names none.
func derivedIncidentID(title string, first time.Time) string {
	h := sha256.Sum256([]byte(title + "\x00" + first.UTC().Format(time.RFC3339Nano)))
	return hex.EncodeToString(h[:8])
}

// checkIncidentID accepts ids that are safe in a URL path segment.
func checkIncidentID(id string) error {
	ok := len(id) <= maxIncidentID
	for k, r := range id {
		alnum := r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r))
		if !alnum && (k == 0 || !strings.ContainsRune("-_.", r)) {
			ok = false
		}
	}
	if !ok {
		return fmt.Errorf("%q: use up to %d ASCII letters, digits, '-', '_' or '.', starting with a letter or digit", id, maxIncidentID)
	}
	return nil
}

// checkText refuses empty, overlong or non-UTF-8 text and control
// characters (multiline text may hold newlines and tabs).
func checkText(s string, maxRunes int, multiline bool) error {
	if s == "" {
		return errors.New("required")
	}
	if !utf8.ValidString(s) {
		return errors.New("not valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n > maxRunes {
		return fmt.Errorf("%d characters, at most %d", n, maxRunes)
	}
	for _, r := range s {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t')) {
			if multiline {
				return fmt.Errorf("control character %U (only newlines and tabs are allowed)", r)
			}
			return fmt.Errorf("control character %U (one line of text)", r)
		}
	}
	return nil
}

// IncidentPatch changes an incident's title, impact or checks; nil fields
// stay as they are (Checks pointing at an empty list clears them).
type IncidentPatch struct {
	Title  *string   `json:"title,omitempty"`
	Impact *Impact   `json:"impact,omitempty"`
	Checks *[]string `json:"checks,omitempty"`
}

// IncidentQuery selects incidents; the zero value selects all.
type IncidentQuery struct {
	Open  bool      // only unresolved incidents
	Since time.Time // only incidents open at or after Since (unresolved, or resolved since)
	Limit int       // at most this many; 0: no limit
}
