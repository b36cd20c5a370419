// Package pagerduty delivers notifications as PagerDuty Events API v2
// events: a trigger for a firing group (a reminder sends it again with the
// same dedup_key, which PagerDuty deduplicates) and a resolve when the
// group resolves.
package pagerduty

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/vantageprobe/vantage/alerts"
)

// DefaultURL is the Events API v2 endpoint.
const DefaultURL = "https://events.pagerduty.com/v2/enqueue"

// DefaultClient is what PagerDuty shows as the event's sender.
const DefaultClient = "Vantage"

// routingKeyLen is the length of an integration (routing) key.
const routingKeyLen = 32

// Severity is PagerDuty's severity of an event.
type Severity string

// PagerDuty's severities.
const (
	Critical Severity = "critical"
	Error    Severity = "error"
	Warning  Severity = "warning"
	Info     Severity = "info"
)

// UnmarshalText accepts one of PagerDuty's severities.
func (s *Severity) UnmarshalText(b []byte) error {
	v := Severity(b)
	if err := v.check(); err != nil {
		return err
	}
	*s = v
	return nil
}

func (s Severity) check() error {
	switch s {
	case "", Critical, Error, Warning, Info:
		return nil
	}
	return fmt.Errorf("%q is not a PagerDuty severity (critical, error, warning or info)", string(s))
}

// severityOf maps Vantage's severity to PagerDuty's.
func severityOf(s alerts.Severity) Severity {
	switch s {
	case alerts.SeverityPage:
		return Critical
	case alerts.SeverityTicket:
		return Warning
	case alerts.SeverityInfo:
		return Info
	}
	return Error
}

// Config is a PagerDuty notifier's configuration.
type Config struct {
	// RoutingKey is the integration key of a service or ruleset (or
	// routing_key_file).
	RoutingKey Secret `yaml:"routing_key"`
	// URL is the Events API endpoint; DefaultURL when empty.
	URL string `yaml:"url"`
	// Severity, when set, replaces the one mapped from the alert's
	// (page → critical, ticket → warning, info → info).
	Severity Severity `yaml:"severity"`
	// Source is the payload's source; when empty, the host of the first
	// alert's target, else its check.
	Source string `yaml:"source"`
	// Client and ClientURL name the sender; ClientURL defaults to the
	// server's external URL.
	Client    string `yaml:"client"`
	ClientURL string `yaml:"client_url"`
	// Summary is the payload's summary; empty: the title and the first
	// alert's line.
	Summary alerts.Template `yaml:"summary"`
	// SendResolved sends a resolve event when the group resolves
	// (default true).
	SendResolved *bool `yaml:"send_resolved"`
	// Timeout bounds one delivery attempt (default alerts.DefaultSendTimeout).
	Timeout time.Duration `yaml:"timeout"`
}

// Validate reports every problem of c, each starting with its key.
func (c Config) Validate() error {
	var errs []error
	k := c.RoutingKey.Reveal()
	keyErr := alerts.ValidateKey("routing_key", k)
	if k != "" && len(k) != routingKeyLen {
		keyErr = fmt.Errorf("routing_key: must be %d characters (an integration key), got %d", routingKeyLen, len(k))
	}
	if keyErr != nil {
		errs = append(errs, keyErr)
	}
	if c.URL != "" {
		if err := alerts.ValidatePublicURL(c.URL); err != nil {
			errs = append(errs, fmt.Errorf("url: %w", err))
		}
	}
	if c.ClientURL != "" {
		if err := alerts.ValidatePublicURL(c.ClientURL); err != nil {
			errs = append(errs, fmt.Errorf("client_url: %w", err))
		}
	}
	if err := c.Severity.check(); err != nil {
		errs = append(errs, fmt.Errorf("severity: %w", err))
	}
	if c.Timeout < 0 {
		errs = append(errs, errors.New("timeout: must not be negative"))
	}
	return errors.Join(errs...)
}

// Options are a notifier's dependencies.
type Options struct {
	Logger *slog.Logger // nil: discard
	// HTTPClient sends the events; nil: a client of the notifier's own with
	// the configured timeout that follows no redirects.
	HTTPClient *http.Client
}

// Notifier sends notifications to PagerDuty.
type Notifier struct {
	routingKey   string
	url          string
	severity     Severity
	source       string
	client       string
	clientURL    string
	summary      alerts.Template
	sendResolved bool
	timeout      time.Duration
	http         *http.Client
	log          *slog.Logger
}

// New builds a notifier from a valid configuration.
func New(c Config, o Options) (*Notifier, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	timeout := alerts.SendTimeout(c.Timeout)
	n := &Notifier{
		routingKey:   c.RoutingKey.Reveal(),
		url:          cmp.Or(c.URL, DefaultURL),
		severity:     c.Severity,
		source:       c.Source,
		client:       cmp.Or(c.Client, DefaultClient),
		clientURL:    c.ClientURL,
		summary:      c.Summary,
		sendResolved: alerts.DefaultTrue(c.SendResolved),
		timeout:      timeout,
		http:         alerts.NoRedirectClient(o.HTTPClient, timeout),
		log:          alerts.Logger(o.Logger),
	}
	return n, nil
}

// SendResolved reports whether resolve events are sent.
func (n *Notifier) SendResolved() bool { return n.sendResolved }

// Notify sends one event: trigger while the group fires, resolve once it
// has resolved. A 400 answer is permanent; 429, 5xx and network errors
// are retried.
func (n *Notifier) Notify(ctx context.Context, notif alerts.Notification) error {
	ev := n.event(notif)
	body, err := n.encode(ev, notif.Receiver)
	if err != nil {
		return alerts.Permanent(fmt.Errorf("pagerduty %s: %w", ev.EventAction, err))
	}
	ctx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	_, err = alerts.Send(ctx, n.http, alerts.Request{
		URL:    n.url,
		Header: http.Header{"Content-Type": {"application/json"}},
		Body:   body,
	})
	if err != nil {
		return alerts.Scrub(fmt.Errorf("pagerduty %s: %w", ev.EventAction, err), n.routingKey)
	}
	return nil
}
