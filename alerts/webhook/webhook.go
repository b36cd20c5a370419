// Package webhook delivers notifications as JSON in Alertmanager's webhook
// (version 4) shape, so that anything written for Alertmanager's webhook
// receiver also takes Vantage's, optionally signed with HMAC-SHA256.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/vantageprobe/vantage/alerts"
)

// Headers this notifier sets itself; config headers cannot override them.
const (
	HeaderTimestamp   = "X-Vantage-Timestamp"
	HeaderSignature   = "X-Vantage-Signature"
	HeaderIdempotency = "Idempotency-Key"
	userAgent         = "vantage"
)

// reserved are the canonical names of headers config cannot set.
var reserved = []string{"Content-Type", "Content-Length", "Host", "User-Agent", "Transfer-Encoding",
	HeaderIdempotency, HeaderTimestamp, HeaderSignature}

// Config is a webhook notifier's configuration.
type Config struct {
	// URL receives the POST; it often carries a token, so it is a secret.
	URL Secret `yaml:"url"`
	// Headers are sent with every request (e.g. Authorization).
	Headers map[string]Secret `yaml:"headers"`
	// MaxAlerts caps the alerts in one payload (0: all); the rest are
	// counted in truncatedAlerts.
	MaxAlerts int `yaml:"max_alerts"`
	// Timeout bounds one attempt (0: alerts.DefaultSendTimeout).
	Timeout time.Duration `yaml:"timeout"`
	// HMACSecret, when set, signs timestamp + "." + body with HMAC-SHA256.
	HMACSecret Secret `yaml:"hmac_secret"`
	// SendResolved asks for resolved notifications (nil: true).
	SendResolved *bool `yaml:"send_resolved"`
}

// Validate reports every problem of c, each starting with its field.
func (c Config) Validate() error {
	var errs []error
	if err := alerts.ValidateSecretURL(c.URL.Reveal()); err != nil {
		errs = append(errs, fmt.Errorf("url: %w", err))
	}
	for _, k := range slices.Sorted(maps.Keys(c.Headers)) {
		switch {
		case !httpguts.ValidHeaderFieldName(k):
			errs = append(errs, fmt.Errorf("headers: %q is not a valid header name", k))
		case slices.Contains(reserved, textproto.CanonicalMIMEHeaderKey(k)):
			errs = append(errs, fmt.Errorf("headers: %q is set by the notifier", k))
		case !httpguts.ValidHeaderFieldValue(c.Headers[k].Reveal()):
			errs = append(errs, fmt.Errorf("headers.%s: the value has a control character", k))
		}
	}
	if c.MaxAlerts < 0 {
		errs = append(errs, fmt.Errorf("max_alerts: %d is negative (0 sends all)", c.MaxAlerts))
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
	// Now is the clock for signature timestamps; nil: time.Now.
	Now func() time.Time
}

// Notifier posts notifications to one webhook.
type Notifier struct {
	url          string
	header       http.Header
	maxAlerts    int
	timeout      time.Duration
	secret       []byte
	sendResolved bool
	client       *http.Client
	now          func() time.Time
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
		header:       http.Header{},
		maxAlerts:    c.MaxAlerts,
		timeout:      timeout,
		secret:       []byte(c.HMACSecret.Reveal()),
		sendResolved: alerts.DefaultTrue(c.SendResolved),
		client:       alerts.HTTPClient(o.HTTPClient, timeout),
		now:          o.Now,
		log:          alerts.Logger(o.Logger),
	}
	for k, v := range c.Headers {
		n.header.Set(k, v.Reveal())
	}
	n.header.Set("Content-Type", "application/json")
	n.header.Set("User-Agent", userAgent)
	if n.now == nil {
		n.now = time.Now
	}
	return n, nil
}

// SendResolved reports whether resolved notifications are wanted.
func (n *Notifier) SendResolved() bool { return n.sendResolved }

// Notify posts notif once.
func (n *Notifier) Notify(ctx context.Context, notif alerts.Notification) error {
	body, err := json.Marshal(newPayload(notif, n.maxAlerts))
	if err != nil {
		return alerts.Permanent(fmt.Errorf("encode payload: %w", err))
	}
	header := n.header.Clone()
	if notif.Key != "" {
		header.Set(HeaderIdempotency, notif.Key)
	}
	if len(n.secret) > 0 {
		ts := strconv.FormatInt(n.now().Unix(), 10)
		header.Set(HeaderTimestamp, ts)
		header.Set(HeaderSignature, Sign(n.secret, ts, body))
	}
	ctx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	if _, err := alerts.Send(ctx, n.client, alerts.Request{URL: n.url, Header: header, Body: body}); err != nil {
		return err
	}
	n.log.DebugContext(ctx, "notification sent", "notifier", notif.Receiver, "kind", "webhook")
	return nil
}

// Sign returns the X-Vantage-Signature value for body sent at timestamp ts
// (Unix seconds): "sha256=" and the hex HMAC-SHA256 of ts + "." + body.
// A receiver recomputes it, compares in constant time (hmac.Equal) and
// rejects old timestamps.
func Sign(secret []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}
