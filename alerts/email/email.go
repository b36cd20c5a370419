// Package email delivers notifications by SMTP: TLS from the first byte
// (port 465) or STARTTLS, authentication only once TLS is up, certificates
// verified against the configured host, and a multipart/alternative
// message (text and HTML) whose resolve mail threads to the firing one.
package email

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/vantageprobe/vantage/alerts"
)

// TLSMode is how the connection to the SMTP server is secured.
type TLSMode string

// TLS modes.
const (
	// TLSStartTLS connects in clear and upgrades with STARTTLS before
	// anything else; a server that does not offer it is an error.
	TLSStartTLS TLSMode = "starttls"
	// TLSImplicit speaks TLS from the first byte (SMTPS, port 465).
	TLSImplicit TLSMode = "implicit"
	// TLSNone sends everything in clear: a local relay only, and never
	// with credentials.
	TLSNone TLSMode = "none"
)

// Default ports per mode.
const (
	portSubmission  = 587
	portSubmissions = 465
	portRelay       = 25
)

// Config is an email notifier's configuration.
type Config struct {
	// Host is the SMTP server's name; the certificate is verified
	// against it.
	Host string `yaml:"host"`
	// Port defaults to 465 with tls: implicit, 25 with tls: none and 587
	// otherwise.
	Port int `yaml:"port"`
	// TLS is starttls, implicit or none; unset: implicit on port 465,
	// starttls otherwise.
	TLS TLSMode `yaml:"tls"`
	// InsecureSkipVerify accepts any certificate (never the default).
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
	// CAFile is a PEM bundle trusted instead of the system's roots.
	CAFile string `yaml:"ca_file"`
	// Hello is the name sent in EHLO (default "localhost").
	Hello string `yaml:"hello"`
	// From is the sender, e.g. "Vantage <alerts@example.org>".
	From string `yaml:"from"`
	// To are the recipients.
	To []string `yaml:"to"`
	// Username and Password authenticate (PLAIN or LOGIN, after TLS).
	Username string `yaml:"username"`
	Password Secret `yaml:"password"`
	// Subject is the Subject line (default "[{{status}}] {{rule}}: {{checks}}").
	Subject alerts.Template `yaml:"subject"`
	// Text replaces the default body (both parts; values are escaped in
	// the HTML one).
	Text alerts.Template `yaml:"text"`
	// Timeout bounds one attempt, connection to QUIT (0:
	// alerts.DefaultSendTimeout).
	Timeout time.Duration `yaml:"timeout"`
	// SendResolved asks for resolved notifications (nil: true).
	SendResolved *bool `yaml:"send_resolved"`
}

// mode is the effective TLS mode.
func (c Config) mode() TLSMode {
	if c.TLS != "" {
		return c.TLS
	}
	if c.Port == portSubmissions {
		return TLSImplicit
	}
	return TLSStartTLS
}

// port is the effective port.
func (c Config) port() int {
	if c.Port != 0 {
		return c.Port
	}
	switch c.mode() {
	case TLSImplicit:
		return portSubmissions
	case TLSNone:
		return portRelay
	}
	return portSubmission
}

// Validate reports every problem of c, each starting with its field.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch {
	case c.Host == "":
		add("host: required")
	case strings.ContainsAny(c.Host, " /\\@\r\n\t"):
		add("host: %q is not a host name", c.Host)
	default:
		if _, _, err := net.SplitHostPort(c.Host); err == nil {
			add("host: %q includes a port; set port instead", c.Host)
		}
	}
	if c.Port < 0 || c.Port > 65535 {
		add("port: %d is not a TCP port", c.Port)
	}
	switch c.TLS {
	case "", TLSStartTLS, TLSImplicit:
	case TLSNone:
		if c.Username != "" || c.Password != "" {
			add("tls: none would send the password in clear; use starttls or implicit")
		}
	default:
		add("tls: %q is not starttls, implicit or none", c.TLS)
	}
	switch {
	case c.Username == "" && c.Password != "":
		add("username: required with a password")
	case c.Username != "" && c.Password == "":
		add("password: required with a username")
	}
	if strings.ContainsAny(c.Hello, " \t\r\n") {
		add("hello: %q is not a host name", c.Hello)
	}
	if c.From == "" {
		add("from: required")
	} else if _, err := mail.ParseAddress(c.From); err != nil {
		add("from: %q is not an address: %w", c.From, err)
	}
	if len(c.To) == 0 {
		add("to: at least one recipient is required")
	}
	for i, to := range c.To {
		if _, err := mail.ParseAddress(to); err != nil {
			add("to[%d]: %q is not an address: %w", i, to, err)
		}
	}
	if c.Timeout < 0 {
		add("timeout: %s is negative", c.Timeout)
	}
	return errors.Join(errs...)
}

// Options are a notifier's dependencies.
type Options struct {
	Logger *slog.Logger
	// Now is the clock for the Date header of notifications without a
	// time; nil: time.Now.
	Now func() time.Time
}

// Notifier sends notifications through one SMTP server.
type Notifier struct {
	addr, host, hello  string
	mode               TLSMode
	tls                *tls.Config
	username, password string
	from               *mail.Address
	to                 []*mail.Address
	subject, text      alerts.Template
	timeout            time.Duration
	sendResolved       bool
	now                func() time.Time
	log                *slog.Logger
}

// New validates c, loads its CA file and builds a notifier.
func New(c Config, o Options) (*Notifier, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	n := &Notifier{
		addr:         net.JoinHostPort(c.Host, strconv.Itoa(c.port())),
		host:         c.Host,
		hello:        cmp.Or(c.Hello, "localhost"),
		mode:         c.mode(),
		tls:          &tls.Config{ServerName: c.Host, InsecureSkipVerify: c.InsecureSkipVerify, MinVersion: tls.VersionTLS12},
		username:     c.Username,
		password:     c.Password.Reveal(),
		subject:      c.Subject,
		text:         c.Text,
		timeout:      alerts.SendTimeout(c.Timeout),
		sendResolved: alerts.DefaultTrue(c.SendResolved),
		now:          o.Now,
		log:          alerts.Logger(o.Logger),
	}
	if c.CAFile != "" {
		pem, err := alerts.ReadPEMFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
		n.tls.RootCAs = x509.NewCertPool()
		if !n.tls.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file: no PEM certificate in %s", c.CAFile)
		}
	}
	n.from, _ = mail.ParseAddress(c.From)
	for _, to := range c.To {
		a, _ := mail.ParseAddress(to)
		n.to = append(n.to, a)
	}
	if n.now == nil {
		n.now = time.Now
	}
	return n, nil
}

// SendResolved reports whether resolved notifications are wanted.
func (n *Notifier) SendResolved() bool { return n.sendResolved }

// Notify sends notif as one mail to every recipient. SMTP 4xx replies and
// network errors are retryable, 5xx replies permanent.
func (n *Notifier) Notify(ctx context.Context, notif alerts.Notification) error {
	msg, err := n.compose(notif)
	if err != nil {
		return alerts.Permanent(fmt.Errorf("compose mail: %w", err))
	}
	ctx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	if err := n.send(ctx, msg); err != nil {
		return classify(err)
	}
	n.log.DebugContext(ctx, "notification sent", "notifier", notif.Receiver, "kind", "email")
	return nil
}
