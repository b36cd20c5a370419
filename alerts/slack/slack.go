// Package slack delivers notifications to a Slack incoming webhook: a
// fallback text (what notifications and screen readers show) and an
// attachment coloured by status holding the alerts in mrkdwn, with every
// value escaped so that an error text cannot mention anyone or make links.
package slack

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

// Config is a Slack notifier's configuration.
type Config struct {
	// URL is the incoming webhook (https://hooks.slack.com/services/…),
	// which is the credential.
	URL Secret `yaml:"url"`
	// Title is the message's first line and notification text
	// (default "[{{status}}] {{rule}}: {{checks}}").
	Title alerts.Template `yaml:"title"`
	// Text is the body (default: one line per alert, with its error).
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

// Notifier posts notifications to one Slack webhook.
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

// Notify posts notif once. A 200 whose answer is not Slack's "ok" is a
// permanent failure, as Alertmanager treats it.
func (n *Notifier) Notify(ctx context.Context, notif alerts.Notification) error {
	body, err := json.Marshal(n.message(notif))
	if err != nil {
		return alerts.Permanent(fmt.Errorf("encode message: %w", err))
	}
	ctx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	answer, err := alerts.Send(ctx, n.client, alerts.Request{URL: n.url, Body: body,
		Header: http.Header{"Content-Type": {"application/json; charset=utf-8"}}})
	if err != nil {
		return err
	}
	if err := checkAnswer(answer); err != nil {
		return alerts.Permanent(fmt.Errorf("send to %s: %w", alerts.RedactURL(n.url), err))
	}
	n.log.DebugContext(ctx, "notification sent", "notifier", notif.Receiver, "kind", "slack")
	return nil
}

// checkAnswer accepts Slack's "ok" (and, for Slack-compatible receivers,
// an empty answer or JSON without "ok": false).
func checkAnswer(b []byte) error {
	s := bytes.TrimSpace(b)
	if len(s) == 0 || string(s) == "ok" {
		return nil
	}
	var r struct {
		OK    *bool  `json:"ok"`
		Error string `json:"error"`
	}
	if json.Unmarshal(s, &r) == nil {
		if r.OK != nil && !*r.OK {
			return fmt.Errorf("slack answered an error: %s", clip(r.Error, 200))
		}
		return nil
	}
	return fmt.Errorf("slack answered %q instead of ok", clip(string(s), 200))
}
