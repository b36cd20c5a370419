package alerts

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Rule defaults.
const (
	DefaultConsecutiveFailures = 3
	DefaultResolveAfter        = 2
	DefaultRepeatInterval      = 4 * time.Hour
	DefaultGroupWait           = 30 * time.Second
	DefaultGroupInterval       = 5 * time.Minute
	// DefaultMinBadEvents is how many failed probes the short window of a
	// burn-rate alert must hold, so one failed probe in a quiet hour does
	// not page.
	DefaultMinBadEvents = 2
)

// Rule is one alert rule: which checks it watches, the conditions that
// make an alert fire, and whom it notifies.
type Rule struct {
	Name   string   `yaml:"name"`
	Checks []string `yaml:"checks"`
	All    bool     `yaml:"all"` // every check
	// ConsecutiveFailures fires after this many evaluations (one per
	// check interval) in a row find the check down across its quorum
	// (default 3 when no other condition is set); ResolveAfter resolves
	// after this many that do not (default 2).
	ConsecutiveFailures int `yaml:"consecutive_failures"`
	ResolveAfter        int `yaml:"resolve_after"`
	// DegradedFor fires when the check stays degraded (or down) this long.
	DegradedFor time.Duration `yaml:"degraded_for"`
	// CertExpiry fires when the check's certificate expires within this
	// many days.
	CertExpiry int `yaml:"cert_expiry"`
	// SLOBurn fires on the multiwindow multi-burn-rate set of the check's
	// SLO: page and ticket severities come from the burn windows.
	SLOBurn bool `yaml:"slo_burn"`
	// MinBadEvents guards SLO burn alerts (default 2).
	MinBadEvents int `yaml:"min_bad_events"`
	// Severity of the rule's alerts (default page; SLO burn alerts take
	// theirs from the window that fires).
	Severity Severity `yaml:"severity"`
	// Notify names the notifiers of every severity; NotifyBySeverity
	// replaces them for one severity.
	Notify           []string              `yaml:"notify"`
	NotifyBySeverity map[Severity][]string `yaml:"notify_by_severity"`
	// RepeatInterval re-sends a still-firing group (default 4h; 0 in the
	// file means the default, a negative value never).
	RepeatInterval time.Duration `yaml:"repeat_interval"`
	// GroupWait holds the first notification of a group to collect the
	// other checks one outage takes down (default 30s); GroupInterval
	// spaces the group's later notifications (default 5m).
	GroupWait     time.Duration `yaml:"group_wait"`
	GroupInterval time.Duration `yaml:"group_interval"`
}

// Defaults are the top-level alert_defaults: values every rule that does
// not set its own takes, in place of the built-in ones.
type Defaults struct {
	ConsecutiveFailures int           `yaml:"consecutive_failures"` // default 3
	ResolveAfter        int           `yaml:"resolve_after"`        // default 2
	MinBadEvents        int           `yaml:"min_bad_events"`       // default 2
	RepeatInterval      time.Duration `yaml:"repeat_interval"`      // default 4h
	GroupWait           time.Duration `yaml:"group_wait"`           // default 30s
	GroupInterval       time.Duration `yaml:"group_interval"`       // default 5m
}

// filled fills in the built-in default of every field left zero.
func (d Defaults) filled() Defaults {
	d.ConsecutiveFailures = cmp.Or(d.ConsecutiveFailures, DefaultConsecutiveFailures)
	d.ResolveAfter = cmp.Or(d.ResolveAfter, DefaultResolveAfter)
	d.MinBadEvents = cmp.Or(d.MinBadEvents, DefaultMinBadEvents)
	d.RepeatInterval = cmp.Or(d.RepeatInterval, DefaultRepeatInterval)
	d.GroupWait = cmp.Or(d.GroupWait, DefaultGroupWait)
	d.GroupInterval = cmp.Or(d.GroupInterval, DefaultGroupInterval)
	return d
}

// Validate checks the defaults; every problem starts with its field.
func (d Defaults) Validate() error {
	var errs []error
	for name, v := range map[string]int{"consecutive_failures": d.ConsecutiveFailures, "resolve_after": d.ResolveAfter, "min_bad_events": d.MinBadEvents} {
		if v < 0 {
			errs = append(errs, fmt.Errorf("%s: must not be negative", name))
		}
	}
	for name, v := range map[string]time.Duration{"group_wait": d.GroupWait, "group_interval": d.GroupInterval} {
		if v < 0 {
			errs = append(errs, fmt.Errorf("%s: must not be negative", name))
		}
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}

// WithDefaults fills the unset values from d, then the built-in defaults.
// consecutive_failures applies when the rule sets no other condition.
func (r Rule) WithDefaults(d Defaults) Rule {
	d = d.filled()
	if r.ConsecutiveFailures == 0 && r.DegradedFor == 0 && r.CertExpiry == 0 && !r.SLOBurn {
		r.ConsecutiveFailures = d.ConsecutiveFailures
	}
	r.ResolveAfter = cmp.Or(r.ResolveAfter, d.ResolveAfter)
	r.MinBadEvents = cmp.Or(r.MinBadEvents, d.MinBadEvents)
	if r.Severity == "" {
		r.Severity = SeverityPage
	}
	r.RepeatInterval = cmp.Or(r.RepeatInterval, d.RepeatInterval)
	r.GroupWait = cmp.Or(r.GroupWait, d.GroupWait)
	r.GroupInterval = cmp.Or(r.GroupInterval, d.GroupInterval)
	return r
}

// CheckOverrides are a check's own thresholds for the conditions the rules
// watching it have (checks[].alerting): a rule decides whether a condition
// is watched, the check how strictly.
type CheckOverrides struct {
	ConsecutiveFailures int           `yaml:"consecutive_failures"`
	ResolveAfter        int           `yaml:"resolve_after"`
	DegradedFor         time.Duration `yaml:"degraded_for"`
	CertExpiry          int           `yaml:"cert_expiry"`
}

// Validate checks the overrides; every problem starts with its field.
func (o CheckOverrides) Validate() error {
	var errs []error
	for name, v := range map[string]int{"consecutive_failures": o.ConsecutiveFailures, "resolve_after": o.ResolveAfter, "cert_expiry": o.CertExpiry} {
		if v < 0 {
			errs = append(errs, fmt.Errorf("%s: must not be negative", name))
		}
	}
	if o.DegradedFor < 0 {
		errs = append(errs, errors.New("degraded_for: must not be negative"))
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}

// forCheck applies a check's overrides to the conditions r watches.
func (r Rule) forCheck(o CheckOverrides) Rule {
	if r.ConsecutiveFailures > 0 && o.ConsecutiveFailures > 0 {
		r.ConsecutiveFailures = o.ConsecutiveFailures
	}
	if o.ResolveAfter > 0 {
		r.ResolveAfter = o.ResolveAfter
	}
	if r.DegradedFor > 0 && o.DegradedFor > 0 {
		r.DegradedFor = o.DegradedFor
	}
	if r.CertExpiry > 0 && o.CertExpiry > 0 {
		r.CertExpiry = o.CertExpiry
	}
	return r
}

// Validate checks the rule on its own; the config checks that its checks
// and notifiers exist. Every problem starts with its field.
func (r Rule) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if r.All && len(r.Checks) > 0 {
		add("checks: set either checks or all: true, not both")
	}
	if !r.All && len(r.Checks) == 0 {
		add("checks: name the checks, or set all: true")
	}
	for name, v := range map[string]int{"consecutive_failures": r.ConsecutiveFailures, "resolve_after": r.ResolveAfter,
		"cert_expiry": r.CertExpiry, "min_bad_events": r.MinBadEvents} {
		if v < 0 {
			add("%s: must not be negative", name)
		}
	}
	for name, d := range map[string]time.Duration{"degraded_for": r.DegradedFor, "group_wait": r.GroupWait, "group_interval": r.GroupInterval} {
		if d < 0 {
			add("%s: must not be negative", name)
		}
	}
	if err := r.Severity.Validate(); err != nil && r.Severity != "" {
		add("severity: %w", err)
	}
	if len(r.Notify) == 0 && len(r.NotifyBySeverity) == 0 {
		add("notify: name at least one notifier")
	}
	for sev := range r.NotifyBySeverity {
		if err := sev.Validate(); err != nil {
			add("notify_by_severity.%s: %w", sev, err)
		}
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}

// Notifiers returns the names of the notifiers for an alert of severity s.
func (r Rule) Notifiers(s Severity) []string {
	if names, ok := r.NotifyBySeverity[s]; ok {
		return names
	}
	return r.Notify
}

// Watches reports whether the rule applies to check.
func (r Rule) Watches(check string) bool { return r.All || slices.Contains(r.Checks, check) }

// Validate accepts page, ticket and info.
func (s Severity) Validate() error {
	switch s {
	case SeverityPage, SeverityTicket, SeverityInfo:
		return nil
	}
	return fmt.Errorf("%q is not a severity (page, ticket or info)", string(s))
}
