package alerts

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Matcher matches one label of an alert: check, region, severity or rule.
// Written as label=value, label!=value, label=~regexp or label!~regexp
// (regexps are anchored, as in Alertmanager).
type Matcher struct {
	Label, Op, Value string
	re               *regexp.Regexp
}

// matcherLabels are the labels a silence can match.
var matcherLabels = []string{"check", "region", "severity", "rule"}

// ParseMatcher parses "check=api", "region=~eu-.*" ….
func ParseMatcher(s string) (Matcher, error) {
	i := strings.IndexAny(s, "=!")
	if i <= 0 {
		return Matcher{}, fmt.Errorf("%q is not label=value, label!=value, label=~regexp or label!~regexp", s)
	}
	m := Matcher{Label: strings.TrimSpace(s[:i])}
	rest := s[i:]
	for _, op := range []string{"=~", "!~", "!=", "="} {
		if v, ok := strings.CutPrefix(rest, op); ok {
			m.Op, m.Value = op, strings.TrimSpace(v)
			break
		}
	}
	if m.Op == "" {
		return Matcher{}, fmt.Errorf("%q has no operator (=, !=, =~, !~)", s)
	}
	if !slices.Contains(matcherLabels, m.Label) {
		return Matcher{}, fmt.Errorf("%q: label %q is not one of %s", s, m.Label, strings.Join(matcherLabels, ", "))
	}
	if m.Op == "=~" || m.Op == "!~" {
		re, err := regexp.Compile("^(?:" + m.Value + ")$")
		if err != nil {
			return Matcher{}, fmt.Errorf("%q: %w", s, err)
		}
		m.re = re
	}
	return m, nil
}

// UnmarshalText parses a matcher from YAML.
func (m *Matcher) UnmarshalText(b []byte) error {
	v, err := ParseMatcher(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// MarshalText writes the matcher as it is parsed.
func (m Matcher) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

func (m Matcher) String() string { return m.Label + m.Op + m.Value }

// Matches reports whether labels satisfy m (a missing label is "").
func (m Matcher) Matches(labels map[string]string) bool {
	v := labels[m.Label]
	switch m.Op {
	case "=":
		return v == m.Value
	case "!=":
		return v != m.Value
	case "=~":
		return m.re.MatchString(v)
	case "!~":
		return !m.re.MatchString(v)
	}
	return false
}

// Silence mutes the notifications of every alert its matchers all match
// while it is active. Alerts still fire and show; only notifying stops.
type Silence struct {
	ID        string    `yaml:"id" json:"id"`
	Matchers  []Matcher `yaml:"matchers" json:"matchers"`
	StartsAt  time.Time `yaml:"starts_at" json:"starts_at"` // default: now
	EndsAt    time.Time `yaml:"ends_at" json:"ends_at"`     // required
	Comment   string    `yaml:"comment" json:"comment"`
	CreatedBy string    `yaml:"created_by" json:"created_by"`
}

// Validate checks a silence; every problem starts with its field.
func (s Silence) Validate() error {
	var errs []error
	if len(s.Matchers) == 0 {
		errs = append(errs, errors.New("matchers: at least one (check=…, region=…, severity=…)"))
	}
	if s.EndsAt.IsZero() {
		errs = append(errs, errors.New("ends_at: required (a silence expires)"))
	} else if !s.StartsAt.IsZero() && !s.EndsAt.After(s.StartsAt) {
		errs = append(errs, errors.New("ends_at: must be after starts_at"))
	}
	return errors.Join(errs...)
}

// Active reports whether the silence mutes at t.
func (s Silence) Active(t time.Time) bool {
	return !t.Before(s.StartsAt) && t.Before(s.EndsAt)
}

// Matches reports whether every matcher matches labels.
func (s Silence) Matches(labels map[string]string) bool {
	for _, m := range s.Matchers {
		if !m.Matches(labels) {
			return false
		}
	}
	return len(s.Matchers) > 0
}

// Maintenance is planned work on some checks: one-off (start, end) or
// weekly (days, start time, duration, in a time zone). While it is active
// its checks' notifications are muted, the status page shows it, and SLOs
// with exclude_maintenance leave its time out.
//
// ID is set on windows made through the API (Store.CreateMaintenance);
// the config's have none. In JSON a weekly window's duration is
// duration_seconds; a window loaded from JSON needs Validate to load its
// time zone.
type Maintenance struct {
	ID          string   `yaml:"id" json:"id,omitempty"`
	Name        string   `yaml:"name" json:"name"`
	Description string   `yaml:"description" json:"description"`
	Checks      []string `yaml:"checks" json:"checks"`
	All         bool     `yaml:"all" json:"all"`
	// One-off window.
	Start time.Time `yaml:"start" json:"start,omitzero"`
	End   time.Time `yaml:"end" json:"end,omitzero"`
	// Weekly window.
	Weekly *Weekly `yaml:"weekly" json:"weekly,omitempty"`
}

// Weekly is a recurring window: on each of Days, from At for Duration, in
// TimeZone (default UTC).
type Weekly struct {
	Days     []Weekday     `yaml:"days" json:"days"`
	At       TimeOfDay     `yaml:"at" json:"at"`
	Duration time.Duration `yaml:"duration" json:"-"` // JSON: duration_seconds
	TimeZone string        `yaml:"time_zone" json:"time_zone"`
	loc      *time.Location
}

// weeklyJSON is Weekly in JSON: the duration in seconds, as the API's
// durations are.
type weeklyJSON struct {
	weeklyFields
	DurationSeconds float64 `json:"duration_seconds"`
}

type weeklyFields Weekly // Weekly without its JSON methods

// MarshalJSON writes the window with duration_seconds.
func (w Weekly) MarshalJSON() ([]byte, error) {
	return json.Marshal(weeklyJSON{weeklyFields(w), w.Duration.Seconds()})
}

// UnmarshalJSON reads the window with duration_seconds.
func (w *Weekly) UnmarshalJSON(b []byte) error {
	var v weeklyJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*w = Weekly(v.weeklyFields)
	w.Duration = time.Duration(math.Round(v.DurationSeconds * float64(time.Second)))
	return nil
}

// Weekday is a day name: mon, tue, wed, thu, fri, sat, sun (or in full).
type Weekday time.Weekday

// UnmarshalText parses a day name.
func (d *Weekday) UnmarshalText(b []byte) error {
	s := strings.ToLower(string(b))
	for wd := time.Sunday; wd <= time.Saturday; wd++ {
		name := strings.ToLower(wd.String())
		if s == name || s == name[:3] {
			*d = Weekday(wd)
			return nil
		}
	}
	return fmt.Errorf("%q is not a day of the week (mon … sun)", b)
}

// MarshalText writes the day as it is parsed: mon … sun.
func (d Weekday) MarshalText() ([]byte, error) {
	if d < Weekday(time.Sunday) || d > Weekday(time.Saturday) {
		return nil, fmt.Errorf("%d is not a day of the week", int(d))
	}
	return []byte(strings.ToLower(time.Weekday(d).String()[:3])), nil
}

// TimeOfDay is a wall-clock time "HH:MM".
type TimeOfDay struct{ H, M int }

// UnmarshalText parses "HH:MM".
func (t *TimeOfDay) UnmarshalText(b []byte) error {
	v, err := time.Parse("15:04", string(b))
	if err != nil {
		return fmt.Errorf("%q is not a time of day (HH:MM)", b)
	}
	*t = TimeOfDay{v.Hour(), v.Minute()}
	return nil
}

// MarshalText writes "HH:MM".
func (t TimeOfDay) MarshalText() ([]byte, error) {
	return fmt.Appendf(nil, "%02d:%02d", t.H, t.M), nil
}

// Validate checks a maintenance window and loads its time zone; every
// problem starts with its field.
func (m *Maintenance) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if m.Name == "" {
		add("name: required")
	}
	if !m.All && len(m.Checks) == 0 {
		add("checks: name the checks, or set all: true")
	}
	oneOff := !m.Start.IsZero() || !m.End.IsZero()
	switch {
	case oneOff && m.Weekly != nil:
		add("weekly: a window is either one-off (start, end) or weekly, not both")
	case oneOff && !m.End.After(m.Start):
		add("end: must be after start")
	case !oneOff && m.Weekly == nil:
		add("start: set start and end, or weekly")
	case m.Weekly != nil:
		w := m.Weekly
		if len(w.Days) == 0 {
			add("weekly.days: at least one day")
		}
		if w.Duration <= 0 || w.Duration > 7*24*time.Hour {
			add("weekly.duration: must be between 1s and 7d")
		}
		loc, err := time.LoadLocation(cmp.Or(w.TimeZone, "UTC"))
		if err != nil {
			add("weekly.time_zone: %q is not a time zone (e.g. Europe/Berlin)", w.TimeZone)
		}
		w.loc = loc
	}
	return errors.Join(errs...)
}

// Covers reports whether the window applies to check.
func (m Maintenance) Covers(check string) bool { return m.All || slices.Contains(m.Checks, check) }

// ActiveAt reports whether the window is on at t.
func (m Maintenance) ActiveAt(t time.Time) bool {
	for _, iv := range m.Intervals(t.Add(-8*24*time.Hour), t.Add(time.Nanosecond)) {
		if !t.Before(iv[0]) && t.Before(iv[1]) {
			return true
		}
	}
	return false
}

// Intervals returns the window's occurrences that overlap [from, to),
// clipped to it, in order.
func (m Maintenance) Intervals(from, to time.Time) [][2]time.Time {
	clip := func(s, e time.Time) ([2]time.Time, bool) {
		s, e = later(s, from), earlier(e, to)
		return [2]time.Time{s, e}, s.Before(e)
	}
	if m.Weekly == nil {
		if iv, ok := clip(m.Start, m.End); ok {
			return [][2]time.Time{iv}
		}
		return nil
	}
	w := m.Weekly
	loc := w.loc
	if loc == nil {
		loc = time.UTC
	}
	var out [][2]time.Time
	// Start early enough that an occurrence begun before from is seen.
	day := from.Add(-w.Duration).In(loc)
	day = time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, loc)
	for ; day.Before(to); day = day.AddDate(0, 0, 1) {
		if !slices.Contains(w.Days, Weekday(day.Weekday())) {
			continue
		}
		start := time.Date(day.Year(), day.Month(), day.Day(), w.At.H, w.At.M, 0, 0, loc)
		if iv, ok := clip(start, start.Add(w.Duration)); ok {
			out = append(out, iv)
		}
	}
	return out
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
