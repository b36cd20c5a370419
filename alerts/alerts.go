// Package alerts turns check states and SLO burn rates into alerts, keeps
// their lifecycle (pending → firing → resolved) and delivers notifications
// through an outbox, at least once. Each channel lives in its own package
// under alerts/ and implements Notifier.
package alerts

import (
	"context"
	"time"

	"github.com/vantageprobe/vantage/probes"
)

// Severity routes an alert: who is woken up for it.
type Severity string

// Severities.
const (
	SeverityPage   Severity = "page"
	SeverityTicket Severity = "ticket"
	SeverityInfo   Severity = "info"
)

// Status is whether an alert (or a notification's group) fires.
type Status string

// Statuses.
const (
	StatusFiring   Status = "firing"
	StatusResolved Status = "resolved"
)

// Alert is one alerting condition of one check: what a notification says
// about it.
type Alert struct {
	// Fingerprint identifies the alert across its notifications (rule and
	// check; the same for its firing and resolved messages).
	Fingerprint string
	Status      Status
	Rule        string
	Severity    Severity
	Check       string
	// Regions are the failing regions (empty for SLO and expiry alerts).
	Regions []string
	// State is the check's state: up, degraded, down, unknown.
	State string
	// Summary is one line a person reads first, e.g. "api is down in 2 of
	// 3 regions: connection refused".
	Summary string
	// Error is the last failure text ("" when the target is hidden).
	Error string
	// Target is the check's URL or address ("" when hide_target is set).
	Target string
	// URL links to the check on the server ("" without a public URL).
	URL string
	// Labels and Annotations are Alertmanager's: labels identify (alertname,
	// check, severity, rule, …), annotations describe (summary, …).
	Labels      map[string]string
	Annotations map[string]string
	StartsAt    time.Time
	EndsAt      time.Time // zero while firing
}

// Notification is one message to one notifier about one group of alerts,
// e.g. every check one outage took down, sent once, not once per check.
type Notification struct {
	// Key is unique to this notification and stable across its retries:
	// an idempotency key.
	Key string
	// GroupKey identifies the group across its notifications (firing,
	// reminders, resolved): PagerDuty's dedup_key, Alertmanager's groupKey.
	GroupKey string
	// Receiver is the notifier's name.
	Receiver string
	// Status is firing when any of the alerts fires.
	Status   Status
	Rule     string
	Severity Severity
	Alerts   []Alert
	// GroupLabels are the labels the group was formed by.
	GroupLabels map[string]string
	// ExternalURL is the server's public URL ("" when not configured).
	ExternalURL string
	// Reason is why it is sent: "new", "changed", "reminder", "resolved"
	// or "test".
	Reason string
	// Time is when the notification was made (not when it is delivered).
	Time time.Time
}

// Firing returns the alerts of n that fire.
func (n Notification) Firing() []Alert { return n.byStatus(StatusFiring) }

// Resolved returns the alerts of n that are resolved.
func (n Notification) Resolved() []Alert { return n.byStatus(StatusResolved) }

func (n Notification) byStatus(s Status) []Alert {
	var out []Alert
	for _, a := range n.Alerts {
		if a.Status == s {
			out = append(out, a)
		}
	}
	return out
}

// Notifier delivers notifications over one channel.
type Notifier interface {
	// Notify delivers n once. An error wrapped by Permanent will not be
	// retried (a 4xx answer, a rejected address); any other error is
	// retried with backoff, after RetryAfter's delay when it carries one.
	Notify(ctx context.Context, n Notification) error
	// SendResolved reports whether resolved notifications are wanted.
	SendResolved() bool
}

// Secret is a credential of a channel (routing key, token, password, a
// webhook URL): it never prints, in logs, errors, JSON or %v.
type Secret = probes.Secret

// Refresher is a Notifier whose receiver forgets a firing alert unless it
// is sent again (Alertmanager resolves alerts not refreshed within its
// resolve_timeout): the engine re-sends firing groups to it at least every
// RefreshInterval, whatever the rule's repeat_interval.
type Refresher interface {
	RefreshInterval() time.Duration
}
