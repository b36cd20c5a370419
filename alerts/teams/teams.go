// Package teams delivers notifications to Microsoft Teams through a
// Workflows (Power Automate) webhook, "post to a channel when a webhook
// request is received", as an Adaptive Card. The retired Office 365
// connectors (MessageCard) are not supported.
package teams

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/vantageprobe/vantage/alerts"
)

// Config is a Teams notifier's configuration.
type Config struct {
	// URL is the workflow's webhook; its sig= parameter is the credential.
	URL Secret `yaml:"url"`
	// Title is the card's heading (default "[{{status}}] {{rule}}: {{checks}}").
	Title alerts.Template `yaml:"title"`
	// Text is the card's body (default: one line per alert).
	Text alerts.Template `yaml:"text"`
	// Timeout bounds one attempt (0: alerts.DefaultSendTimeout).
	Timeout time.Duration `yaml:"timeout"`
	// SendResolved asks for resolved notifications (nil: true).
	SendResolved *bool `yaml:"send_resolved"`
}

// Validate reports every problem of c, each starting with its field.
func (c Config) Validate() error {
	var errs []error
	if err := alerts.ValidateSecretURL(c.URL.Reveal()); err != nil {
		errs = append(errs, fmt.Errorf("url: %w", err))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout: %s is negative", c.Timeout))
	}
	return errors.Join(errs...)
}

// Options are a notifier's dependencies.
type Options struct {
	Logger *slog.Logger
	// HTTPClient sends the requests; nil: a client of its own.
	HTTPClient *http.Client
}

// Notifier posts notifications to one Teams workflow.
type Notifier struct {
	url          string
	title, text  alerts.Template
	timeout      time.Duration
	sendResolved bool
	client       *http.Client
	log          *slog.Logger
}

// New validates c and builds a notifier.
func New(c Config, o Options) (*Notifier, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	timeout := alerts.SendTimeout(c.Timeout)
	n := &Notifier{
		url:          c.URL.Reveal(),
		title:        c.Title,
		text:         c.Text,
		timeout:      timeout,
		sendResolved: alerts.DefaultTrue(c.SendResolved),
		client:       alerts.HTTPClient(o.HTTPClient, timeout),
		log:          alerts.Logger(o.Logger),
	}
	return n, nil
}

// SendResolved reports whether resolved notifications are wanted.
func (n *Notifier) SendResolved() bool { return n.sendResolved }

// Notify posts notif once. The workflow answers 202 before it runs, so
// success means accepted, not yet shown.
func (n *Notifier) Notify(ctx context.Context, notif alerts.Notification) error {
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false) // keeps the card small; JSON stays valid
	if err := enc.Encode(n.message(notif)); err != nil {
		return alerts.Permanent(fmt.Errorf("encode card: %w", err))
	}
	ctx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	if _, err := alerts.Send(ctx, n.client, alerts.Request{URL: n.url, Body: body.Bytes(),
		Header: http.Header{"Content-Type": {"application/json"}}}); err != nil {
		return err
	}
	n.log.DebugContext(ctx, "notification sent", "notifier", notif.Receiver, "kind", "teams")
	return nil
}
