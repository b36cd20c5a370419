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
	"net/url"
	"strings"
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
	switch k := c.RoutingKey.Reveal(); {
	case k == "":
		errs = append(errs, errors.New("routing_key: required (or routing_key_file)"))
	case len(k) != routingKeyLen:
		errs = append(errs, fmt.Errorf("routing_key: must be %d characters (an integration key), got %d", routingKeyLen, len(k)))
	case strings.ContainsFunc(k, func(r rune) bool { return r <= ' ' || r > '~' }):
		errs = append(errs, errors.New("routing_key: must be printable ASCII without spaces"))
	}
	if c.URL != "" {
		if err := checkURL(c.URL); err != nil {
			errs = append(errs, fmt.Errorf("url: %w", err))
		}
	}
	if c.ClientURL != "" {
		if err := checkURL(c.ClientURL); err != nil {
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

// checkURL accepts an absolute http(s) URL without credentials.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return errors.New("not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("scheme %q is not http or https", u.Scheme)
	case u.Host == "":
		return errors.New("has no host")
	case u.User != nil:
		return errors.New("must not carry credentials")
	}
	return nil
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
	n := &Notifier{
		routingKey:   c.RoutingKey.Reveal(),
		url:          cmp.Or(c.URL, DefaultURL),
		severity:     c.Severity,
		source:       c.Source,
		client:       cmp.Or(c.Client, DefaultClient),
		clientURL:    c.ClientURL,
		summary:      c.Summary,
		sendResolved: c.SendResolved == nil || *c.SendResolved,
		timeout:      cmp.Or(c.Timeout, alerts.DefaultSendTimeout),
		http:         o.HTTPClient,
		log:          o.Logger,
	}
	if n.http == nil {
		n.http = &http.Client{
			Timeout:       n.timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if n.log == nil {
		n.log = slog.New(slog.DiscardHandler)
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
