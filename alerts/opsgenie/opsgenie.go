// Package opsgenie delivers notifications through Opsgenie's Alert API:
// a firing group creates an alert (Opsgenie deduplicates a reminder by its
// alias) and a resolved group closes it by the same alias.
//
// Atlassian stopped selling Opsgenie in 2025 and ends it in April 2027;
// the API keeps working until then.
package opsgenie

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/vantageprobe/vantage/alerts"
)

// DefaultURL is Opsgenie's API; EUURL is its EU instance.
const (
	DefaultURL = "https://api.opsgenie.com"
	EUURL      = "https://api.eu.opsgenie.com"
)

// DefaultSource is the alerts' source field.
const DefaultSource = "Vantage"

// Priority is an Opsgenie alert priority, P1 (highest) to P5.
type Priority string

// UnmarshalText accepts P1 to P5.
func (p *Priority) UnmarshalText(b []byte) error {
	v := Priority(b)
	if err := v.check(); err != nil {
		return err
	}
	*p = v
	return nil
}

func (p Priority) check() error {
	switch p {
	case "", "P1", "P2", "P3", "P4", "P5":
		return nil
	}
	return fmt.Errorf("%q is not a priority (P1 to P5)", string(p))
}

// priorityOf maps Vantage's severity to a priority.
func priorityOf(s alerts.Severity) Priority {
	switch s {
	case alerts.SeverityPage:
		return "P1"
	case alerts.SeverityInfo:
		return "P5"
	}
	return "P3"
}

// Responder is a team, user, escalation or schedule the alert is routed
// to, by id, name (team, escalation, schedule) or username (user).
type Responder struct {
	Type     string `yaml:"type" json:"type"`
	ID       string `yaml:"id" json:"id,omitempty"`
	Name     string `yaml:"name" json:"name,omitempty"`
	Username string `yaml:"username" json:"username,omitempty"`
}

func (r Responder) validate() []error {
	var errs []error
	switch r.Type {
	case "team", "user", "escalation", "schedule":
	case "":
		errs = append(errs, errors.New("type: required (team, user, escalation or schedule)"))
	default:
		errs = append(errs, fmt.Errorf("type: %q is not team, user, escalation or schedule", r.Type))
	}
	set := 0
	for _, v := range []string{r.ID, r.Name, r.Username} {
		if v != "" {
			set++
		}
	}
	switch {
	case set != 1:
		errs = append(errs, errors.New("id: set exactly one of id, name and username"))
	case r.Username != "" && r.Type != "user":
		errs = append(errs, errors.New("username: only a user has one (teams, escalations and schedules have a name)"))
	case r.Name != "" && r.Type == "user":
		errs = append(errs, errors.New("name: a user is named by username"))
	}
	return errs
}

// Config is an Opsgenie notifier's configuration.
type Config struct {
	// APIKey is an API integration's key (or api_key_file).
	APIKey Secret `yaml:"api_key"`
	// APIURL is the API's base URL: DefaultURL when empty, EUURL for
	// accounts in the EU.
	APIURL string `yaml:"api_url"`
	// Message is the alert's message, cut to 130 characters; empty: the
	// notification's title.
	Message alerts.Template `yaml:"message"`
	// Description is the alert's description; empty: one line per alert.
	Description alerts.Template `yaml:"description"`
	// Priority, when set, replaces the one mapped from the alert's
	// severity (page → P1, ticket → P3, info → P5).
	Priority   Priority    `yaml:"priority"`
	Responders []Responder `yaml:"responders"`
	// Tags are added to the rule and severity every alert is tagged with.
	Tags []string `yaml:"tags"`
	// Source is the alerts' source (default "Vantage").
	Source string `yaml:"source"`
	// SendResolved closes the alert when the group resolves (default true).
	SendResolved *bool `yaml:"send_resolved"`
	// Timeout bounds one delivery attempt (default alerts.DefaultSendTimeout).
	Timeout time.Duration `yaml:"timeout"`
}

// Validate reports every problem of c, each starting with its key.
func (c Config) Validate() error {
	var errs []error
	if err := alerts.ValidateKey("api_key", c.APIKey.Reveal()); err != nil {
		errs = append(errs, err)
	}
	if c.APIURL != "" {
		if err := alerts.ValidateBaseURL(c.APIURL); err != nil {
			errs = append(errs, fmt.Errorf("api_url: %w", err))
		}
	}
	if err := c.Priority.check(); err != nil {
		errs = append(errs, fmt.Errorf("priority: %w", err))
	}
	for i, r := range c.Responders {
		for _, err := range r.validate() {
			errs = append(errs, fmt.Errorf("responders[%d].%w", i, err))
		}
	}
	for i, tag := range c.Tags {
		if tag == "" || len([]rune(tag)) > maxTag {
			errs = append(errs, fmt.Errorf("tags[%d]: must have 1 to %d characters", i, maxTag))
		}
	}
	if len(c.Tags) > maxTags-2 {
		errs = append(errs, fmt.Errorf("tags: at most %d (Opsgenie keeps %d, two are the rule and severity)", maxTags-2, maxTags))
	}
	if c.Timeout < 0 {
		errs = append(errs, errors.New("timeout: must not be negative"))
	}
	return errors.Join(errs...)
}

// Options are a notifier's dependencies.
type Options struct {
	Logger *slog.Logger // nil: discard
	// HTTPClient sends the requests; nil: a client of the notifier's own
	// with the configured timeout that follows no redirects.
	HTTPClient *http.Client
}

// Notifier sends notifications to Opsgenie.
type Notifier struct {
	apiKey       string
	base         string // API URL without a trailing slash
	message      alerts.Template
	description  alerts.Template
	priority     Priority
	responders   []Responder
	tags         []string
	source       string
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
		apiKey:       c.APIKey.Reveal(),
		base:         strings.TrimSuffix(cmp.Or(c.APIURL, DefaultURL), "/"),
		message:      c.Message,
		description:  c.Description,
		priority:     c.Priority,
		responders:   c.Responders,
		tags:         c.Tags,
		source:       cmp.Or(c.Source, DefaultSource),
		sendResolved: alerts.DefaultTrue(c.SendResolved),
		timeout:      timeout,
		http:         alerts.NoRedirectClient(o.HTTPClient, timeout),
		log:          alerts.Logger(o.Logger),
	}
	return n, nil
}

// SendResolved reports whether resolved groups close their alert.
func (n *Notifier) SendResolved() bool { return n.sendResolved }

// Notify creates the group's alert while it fires and closes it once it
// has resolved. 4xx answers (a bad key, a rejected field) are permanent;
// 429, 5xx and network errors are retried.
func (n *Notifier) Notify(ctx context.Context, notif alerts.Notification) error {
	op, where, body, err := n.request(notif)
	if err != nil {
		return alerts.Permanent(fmt.Errorf("opsgenie %s: %w", op, err))
	}
	ctx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	_, err = alerts.Send(ctx, n.http, alerts.Request{
		URL: where,
		Header: http.Header{
			"Content-Type":  {"application/json"},
			"Authorization": {"GenieKey " + n.apiKey},
		},
		Body: body,
	})
	if err != nil {
		return alerts.Scrub(fmt.Errorf("opsgenie %s: %w", op, err), n.apiKey)
	}
	return nil
}
