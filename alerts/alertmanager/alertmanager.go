// Package alertmanager hands notifications to an existing Prometheus
// Alertmanager through its v2 API, as Prometheus does, so that its
// routing, grouping, inhibitions and silences apply. Each alert of a
// notification is posted with its labels; a resolved one with its endsAt.
package alertmanager

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vantageprobe/vantage/alerts"
)

var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// BasicAuth are the credentials of an Alertmanager behind basic auth.
type BasicAuth struct {
	Username string `yaml:"username"`
	Password Secret `yaml:"password"` // or password_file
}

// Config is an Alertmanager notifier's configuration.
type Config struct {
	// URLs are the Alertmanagers' base URLs (http://alertmanager:9093, a
	// path prefix included). Every alert goes to each of them, as
	// Prometheus sends to every member of an HA cluster.
	URLs []string `yaml:"urls"`
	// BasicAuth or BearerToken (or bearer_token_file) authenticate.
	BasicAuth   *BasicAuth `yaml:"basic_auth"`
	BearerToken Secret     `yaml:"bearer_token"`
	// Labels are added to every alert that does not carry them already,
	// e.g. source: vantage.
	Labels map[string]string `yaml:"labels"`
	// ResolveTimeout, when set, gives a firing alert an endsAt that far
	// after it is sent: Alertmanager resolves it unless a reminder comes
	// first. 0 leaves endsAt out, and Alertmanager's own resolve_timeout
	// (5m by default) applies.
	ResolveTimeout time.Duration `yaml:"resolve_timeout"`
	// SendResolved posts resolved alerts with their endsAt (default true);
	// without it they expire through the resolve timeout.
	SendResolved *bool `yaml:"send_resolved"`
	// Timeout bounds one request (default alerts.DefaultSendTimeout).
	Timeout time.Duration `yaml:"timeout"`
}

// Validate reports every problem of c, each starting with its key.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if len(c.URLs) == 0 {
		add("urls: at least one Alertmanager URL")
	}
	for i, u := range c.URLs {
		if err := checkURL(u); err != nil {
			add("urls[%d]: %w", i, err)
		} else if slices.Index(c.URLs, u) < i {
			add("urls[%d]: %s is listed twice", i, u)
		}
	}
	if b := c.BasicAuth; b != nil {
		if b.Username == "" {
			add("basic_auth.username: required")
		}
		if b.Password == "" {
			add("basic_auth.password: required (or password_file)")
		}
		if c.BearerToken != "" {
			add("bearer_token: set either basic_auth or bearer_token, not both")
		}
	}
	for _, name := range slices.Sorted(maps.Keys(c.Labels)) {
		switch {
		case !labelName.MatchString(name) || strings.HasPrefix(name, "__"):
			add("labels: %q is not a label name ([a-zA-Z_][a-zA-Z0-9_]*, no leading __)", name)
		case c.Labels[name] == "":
			add("labels.%s: must not be empty", name)
		}
	}
	if c.ResolveTimeout < 0 {
		add("resolve_timeout: must not be negative")
	}
	if c.Timeout < 0 {
		add("timeout: must not be negative")
	}
	return errors.Join(errs...)
}

// checkURL accepts an Alertmanager's base URL (alerts.ValidateBaseURL),
// pointing at basic_auth when it carries credentials.
func checkURL(raw string) error {
	err := alerts.ValidateBaseURL(raw)
	if errors.Is(err, alerts.ErrURLCredentials) {
		return fmt.Errorf("%w (use basic_auth)", err)
	}
	return err
}

// Options are a notifier's dependencies.
type Options struct {
	Logger *slog.Logger // nil: discard
	// HTTPClient sends the requests; nil: a client of the notifier's own
	// with the configured timeout that follows no redirects.
	HTTPClient *http.Client
}

// Notifier posts notifications' alerts to Alertmanager.
type Notifier struct {
	endpoints      []string // …/api/v2/alerts
	auth           string   // the Authorization header, if any
	secrets        []string // kept out of errors
	labels         map[string]string
	resolveTimeout time.Duration
	sendResolved   bool
	timeout        time.Duration
	http           *http.Client
	log            *slog.Logger
}

// New builds a notifier from a valid configuration.
func New(c Config, o Options) (*Notifier, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	timeout := alerts.SendTimeout(c.Timeout)
	n := &Notifier{
		labels:         c.Labels,
		resolveTimeout: c.ResolveTimeout,
		sendResolved:   alerts.DefaultTrue(c.SendResolved),
		timeout:        timeout,
		http:           alerts.NoRedirectClient(o.HTTPClient, timeout),
		log:            alerts.Logger(o.Logger),
	}
	for _, u := range c.URLs {
		n.endpoints = append(n.endpoints, strings.TrimSuffix(u, "/")+"/api/v2/alerts")
	}
	switch {
	case c.BasicAuth != nil:
		cred := c.BasicAuth.Username + ":" + c.BasicAuth.Password.Reveal()
		n.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(cred))
		n.secrets = []string{c.BasicAuth.Password.Reveal(), n.auth}
	case c.BearerToken != "":
		n.auth = "Bearer " + c.BearerToken.Reveal()
		n.secrets = []string{c.BearerToken.Reveal()}
	}
	return n, nil
}

// SendResolved reports whether resolved alerts are posted.
func (n *Notifier) SendResolved() bool { return n.sendResolved }

// RefreshInterval makes the engine re-send firing alerts every minute, as
// Prometheus does: Alertmanager resolves an alert that is not refreshed
// within its resolve_timeout (5m by default) or by its endsAt.
func (n *Notifier) RefreshInterval() time.Duration { return time.Minute }

// Notify posts notif's alerts to every Alertmanager at once. It succeeds
// when at least one accepts them (the others are logged); otherwise the
// error is permanent only when every failure is (a 4xx answer).
func (n *Notifier) Notify(ctx context.Context, notif alerts.Notification) error {
	body, err := n.encode(notif, time.Now())
	if err != nil {
		return alerts.Permanent(fmt.Errorf("alertmanager: %w", err))
	}
	errs := make([]error, len(n.endpoints))
	var wg sync.WaitGroup
	for i, endpoint := range n.endpoints {
		wg.Go(func() { errs[i] = n.post(ctx, endpoint, body) })
	}
	wg.Wait()
	failed := slices.DeleteFunc(slices.Clone(errs), func(err error) bool { return err == nil })
	if len(failed) == len(errs) {
		return alerts.JoinAll(failed)
	}
	for _, err := range failed {
		n.log.Warn("alertmanager did not take the alerts, another did", "notifier", notif.Receiver, "err", err)
	}
	return nil
}

// post sends body to one Alertmanager.
func (n *Notifier) post(ctx context.Context, endpoint string, body []byte) error {
	header := http.Header{"Content-Type": {"application/json"}}
	if n.auth != "" {
		header.Set("Authorization", n.auth)
	}
	ctx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	_, err := alerts.Send(ctx, n.http, alerts.Request{URL: endpoint, Header: header, Body: body})
	if err != nil {
		return alerts.Scrub(fmt.Errorf("alertmanager: %w", err), n.secrets...)
	}
	return nil
}
