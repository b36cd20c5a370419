package alerts

import (
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

// WithDefaults fills the unset values.
func (r Rule) WithDefaults() Rule {
	if r.ConsecutiveFailures == 0 && r.DegradedFor == 0 && r.CertExpiry == 0 && !r.SLOBurn {
		r.ConsecutiveFailures = DefaultConsecutiveFailures
	}
	if r.ResolveAfter == 0 {
		r.ResolveAfter = DefaultResolveAfter
	}
	if r.MinBadEvents == 0 {
		r.MinBadEvents = DefaultMinBadEvents
	}
	if r.Severity == "" {
		r.Severity = SeverityPage
	}
	if r.RepeatInterval == 0 {
		r.RepeatInterval = DefaultRepeatInterval
	}
	if r.GroupWait == 0 {
		r.GroupWait = DefaultGroupWait
	}
	if r.GroupInterval == 0 {
		r.GroupInterval = DefaultGroupInterval
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
