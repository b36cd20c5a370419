// Package twilio delivers notifications as SMS through Twilio's Messages
// API: one short line per notification, one message per recipient.
package twilio

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vantageprobe/vantage/alerts"
)

// DefaultURL is Twilio's REST API.
const DefaultURL = "https://api.twilio.com"

const (
	// DefaultMaxLength keeps a message to one SMS segment (160 GSM-7
	// characters).
	DefaultMaxLength = 160
	// maxBody is Twilio's limit on a message body, in characters.
	maxBody = 1600
	// rememberSent caps how many (notification, recipient) deliveries a
	// notifier remembers to skip on a retry.
	rememberSent = 4096
)

var (
	e164       = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)
	senderID   = regexp.MustCompile(`^[A-Za-z0-9 ]{1,11}$`)
	accountSID = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)
	apiKeySID  = regexp.MustCompile(`^SK[0-9a-fA-F]{32}$`)
	serviceSID = regexp.MustCompile(`^MG[0-9a-fA-F]{32}$`)
)

// Config is a Twilio notifier's configuration.
type Config struct {
	// AccountSID (AC…) owns the messages; it is part of the API's path.
	AccountSID string `yaml:"account_sid"`
	// AuthToken authenticates as the account (or auth_token_file) …
	AuthToken Secret `yaml:"auth_token"`
	// … or an API key (SK…) and its secret (or api_key_secret_file) do.
	APIKeySID    string `yaml:"api_key_sid"`
	APIKeySecret Secret `yaml:"api_key_secret"`
	// From is the sender: a Twilio number in E.164 form or an
	// alphanumeric sender ID; or MessagingServiceSID (MG…) picks one.
	From                string `yaml:"from"`
	MessagingServiceSID string `yaml:"messaging_service_sid"`
	// To are the recipients, in E.164 form (+14155550100).
	To []string `yaml:"to"`
	// URL is the API's base URL; DefaultURL when empty.
	URL string `yaml:"url"`
	// Message is the text; empty: the notification's title and, while it
	// fires, its first alert's line. Line breaks become spaces.
	Message alerts.Template `yaml:"message"`
	// MaxLength cuts the text, in characters (default 160, at most 1600).
	MaxLength int `yaml:"max_length"`
	// SendResolved texts when the group resolves (default true).
	SendResolved *bool `yaml:"send_resolved"`
	// Timeout bounds one request (default alerts.DefaultSendTimeout).
	Timeout time.Duration `yaml:"timeout"`
}

// Validate reports every problem of c, each starting with its key.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !accountSID.MatchString(c.AccountSID) {
		add("account_sid: must be AC followed by 32 hex digits")
	}
	switch {
	case c.AuthToken == "" && c.APIKeySID == "" && c.APIKeySecret == "":
		add("auth_token: required (or api_key_sid and api_key_secret)")
	case c.AuthToken != "" && (c.APIKeySID != "" || c.APIKeySecret != ""):
		add("auth_token: set either auth_token or api_key_sid and api_key_secret, not both")
	case c.AuthToken == "" && !apiKeySID.MatchString(c.APIKeySID):
		add("api_key_sid: must be SK followed by 32 hex digits")
	case c.AuthToken == "" && c.APIKeySecret == "":
		add("api_key_secret: required with api_key_sid")
	}
	switch {
	case (c.From == "") == (c.MessagingServiceSID == ""):
		add("from: set exactly one of from and messaging_service_sid")
	case c.From != "" && !e164.MatchString(c.From) && !isSenderID(c.From):
		add("from: %q is neither an E.164 number (+14155550100) nor an alphanumeric sender ID (1-11 letters, digits, spaces)", c.From)
	case c.MessagingServiceSID != "" && !serviceSID.MatchString(c.MessagingServiceSID):
		add("messaging_service_sid: must be MG followed by 32 hex digits")
	}
	if len(c.To) == 0 {
		add("to: at least one number")
	}
	for i, to := range c.To {
		switch {
		case !e164.MatchString(to):
			add("to[%d]: %q is not an E.164 number (+14155550100)", i, to)
		case slices.Index(c.To, to) < i:
			add("to[%d]: %s is listed twice", i, to)
		}
	}
	if c.URL != "" {
		if err := alerts.ValidateBaseURL(c.URL); err != nil {
			add("url: %w", err)
		}
	}
	if c.MaxLength < 0 || c.MaxLength > maxBody {
		add("max_length: must be 1 to %d (0: %d)", maxBody, DefaultMaxLength)
	}
	if c.Timeout < 0 {
		add("timeout: must not be negative")
	}
	return errors.Join(errs...)
}

// isSenderID reports whether s is an alphanumeric sender ID: up to 11
// letters, digits and spaces, at least one a letter.
func isSenderID(s string) bool {
	return senderID.MatchString(s) && strings.ContainsFunc(s, func(r rune) bool {
		return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
	})
}

// Options are a notifier's dependencies.
type Options struct {
	Logger *slog.Logger // nil: discard
	// HTTPClient sends the requests; nil: a client of the notifier's own
	// with the configured timeout that follows no redirects.
	HTTPClient *http.Client
}

// Notifier texts notifications through Twilio.
type Notifier struct {
	endpoint     string // …/Accounts/{sid}/Messages.json
	auth         string // the Authorization header
	secret       string // the token or key secret, kept out of errors
	from         url.Values
	to           []string
	message      alerts.Template
	maxLength    int
	sendResolved bool
	timeout      time.Duration
	http         *http.Client
	log          *slog.Logger
	sent         *sentSet
}

// New builds a notifier from a valid configuration.
func New(c Config, o Options) (*Notifier, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	user, pass := c.AccountSID, c.AuthToken.Reveal()
	if c.AuthToken == "" {
		user, pass = c.APIKeySID, c.APIKeySecret.Reveal()
	}
	from := url.Values{"From": {c.From}}
	if c.MessagingServiceSID != "" {
		from = url.Values{"MessagingServiceSid": {c.MessagingServiceSID}}
	}
	timeout := alerts.SendTimeout(c.Timeout)
	n := &Notifier{
		endpoint:     strings.TrimSuffix(cmp.Or(c.URL, DefaultURL), "/") + "/2010-04-01/Accounts/" + c.AccountSID + "/Messages.json",
		auth:         "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass)),
		secret:       pass,
		from:         from,
		to:           slices.Clone(c.To),
		message:      c.Message,
		maxLength:    cmp.Or(c.MaxLength, DefaultMaxLength),
		sendResolved: alerts.DefaultTrue(c.SendResolved),
		timeout:      timeout,
		http:         alerts.NoRedirectClient(o.HTTPClient, timeout),
		log:          alerts.Logger(o.Logger),
		sent:         &sentSet{seen: map[string]bool{}},
	}
	return n, nil
}

// SendResolved reports whether resolved groups are texted.
func (n *Notifier) SendResolved() bool { return n.sendResolved }

// Notify texts notif to every recipient, one request each. A retry of the
// same notification (same non-empty Key) skips the recipients already
// texted. The error is permanent only when every failure is (a rejected
// number, bad credentials).
func (n *Notifier) Notify(ctx context.Context, notif alerts.Notification) error {
	body := n.text(notif)
	var errs []error
	for _, to := range n.to {
		key := notif.Key + "\x00" + to
		if notif.Key != "" && n.sent.has(key) {
			continue
		}
		if err := n.send(ctx, to, body); err != nil {
			errs = append(errs, err)
			continue
		}
		if notif.Key != "" {
			n.sent.add(key)
		}
	}
	return alerts.JoinAll(errs)
}

// send posts one message.
func (n *Notifier) send(ctx context.Context, to, body string) error {
	form := url.Values{"To": {to}, "Body": {body}}
	for k, v := range n.from {
		form[k] = v
	}
	ctx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	answer, err := alerts.Send(ctx, n.http, alerts.Request{
		URL: n.endpoint,
		Header: http.Header{
			"Content-Type":  {"application/x-www-form-urlencoded"},
			"Authorization": {n.auth},
		},
		Body: []byte(form.Encode()),
	})
	if err != nil {
		err = classify(err, answer)
		return alerts.Scrub(fmt.Errorf("twilio sms to %s: %w", mask(to), err), n.secret, n.auth)
	}
	return nil
}

// mask hides the middle of a phone number in errors: +1415*****00.
func mask(number string) string {
	if len(number) < 7 {
		return number
	}
	return number[:5] + strings.Repeat("*", len(number)-7) + number[len(number)-2:]
}

// sentSet remembers recent deliveries, oldest forgotten first.
type sentSet struct {
	mu    sync.Mutex
	seen  map[string]bool
	order []string
}

func (s *sentSet) has(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen[key]
}

func (s *sentSet) add(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen[key] {
		return
	}
	if len(s.order) == rememberSent {
		delete(s.seen, s.order[0])
		s.order = s.order[1:]
	}
	s.seen[key] = true
	s.order = append(s.order, key)
}
