// Package discord delivers notifications to a Discord webhook as an embed
// coloured by status. Values are escaped for Discord's markdown and the
// message allows no mentions, so an error text can ping no one.
package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/vantageprobe/vantage/alerts"
)

// maxUsername is Discord's limit on a webhook's username override.
const maxUsername = 80

// Config is a Discord notifier's configuration.
type Config struct {
	// URL is the webhook (https://discord.com/api/webhooks/ID/TOKEN),
	// which is the credential.
	URL Secret `yaml:"url"`
	// Username overrides the webhook's name ("": the webhook's own).
	Username string `yaml:"username"`
	// Title is the embed's title (default "[{{status}}] {{rule}}: {{checks}}").
	Title alerts.Template `yaml:"title"`
	// Text is the embed's description (default: one line per alert).
	Text alerts.Template `yaml:"text"`
	// Content is message text above the embed (default: none).
	Content alerts.Template `yaml:"content"`
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
	if n := utf8.RuneCountInString(c.Username); n > maxUsername {
		errs = append(errs, fmt.Errorf("username: %d characters, more than Discord's %d", n, maxUsername))
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

// Notifier posts notifications to one Discord webhook.
type Notifier struct {
	url                  string
	username             string
	title, text, content alerts.Template
	timeout              time.Duration
	sendResolved         bool
	client               *http.Client
	log                  *slog.Logger
}

// New validates c and builds a notifier.
func New(c Config, o Options) (*Notifier, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	timeout := alerts.SendTimeout(c.Timeout)
	n := &Notifier{
		url:          c.URL.Reveal(),
		username:     c.Username,
		title:        c.Title,
		text:         c.Text,
		content:      c.Content,
		timeout:      timeout,
		sendResolved: alerts.DefaultTrue(c.SendResolved),
		client:       alerts.HTTPClient(o.HTTPClient, timeout),
		log:          alerts.Logger(o.Logger),
	}
	return n, nil
}

// SendResolved reports whether resolved notifications are wanted.
func (n *Notifier) SendResolved() bool { return n.sendResolved }

// Notify posts notif once. A 429 is retried after Discord's retry_after
// when the answer has no Retry-After header.
func (n *Notifier) Notify(ctx context.Context, notif alerts.Notification) error {
	body, err := json.Marshal(n.message(notif))
	if err != nil {
		return alerts.Permanent(fmt.Errorf("encode message: %w", err))
	}
	ctx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	answer, err := alerts.Send(ctx, n.client, alerts.Request{URL: n.url, Body: body,
		Header: http.Header{"Content-Type": {"application/json"}}})
	if err != nil {
		if d := retryAfter(answer); d > 0 && !alerts.IsPermanent(err) && alerts.RetryDelay(err) == 0 {
			return alerts.RetryAfter(err, d)
		}
		return err
	}
	n.log.DebugContext(ctx, "notification sent", "notifier", notif.Receiver, "kind", "discord")
	return nil
}

// retryAfter reads retry_after (seconds, fractional) from a rate-limit
// answer; 0 when there is none.
func retryAfter(answer []byte) time.Duration {
	var r struct {
		RetryAfter float64 `json:"retry_after"`
	}
	if json.Unmarshal(answer, &r) != nil || r.RetryAfter <= 0 || r.RetryAfter > 24*3600 {
		return 0
	}
	return time.Duration(r.RetryAfter * float64(time.Second))
}
