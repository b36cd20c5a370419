package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"slices"
	"strings"
	"time"

	"github.com/vantageprobe/vantage/alerts"
)

// errPolicy marks a server that refuses what the configuration requires
// (STARTTLS, AUTH): retrying cannot fix it.
var errPolicy = errors.New("server does not meet the configuration")

// send runs one SMTP session: connect (TLS first with tls: implicit),
// EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA, QUIT. ctx bounds all of it.
func (n *Notifier) send(ctx context.Context, msg []byte) error {
	conn, err := n.dial(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) }) // unblock on cancel
	defer stop()
	c, err := smtp.NewClient(conn, n.host)
	if err != nil {
		return fmt.Errorf("greeting from %s: %w", n.addr, err)
	}
	defer c.Close()
	if err := c.Hello(n.hello); err != nil {
		return fmt.Errorf("EHLO to %s: %w", n.addr, err)
	}
	if n.mode == TLSStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return fmt.Errorf("%w: %s does not offer STARTTLS (set tls: implicit for port 465)", errPolicy, n.addr)
		}
		if err := c.StartTLS(n.tls); err != nil {
			return fmt.Errorf("STARTTLS with %s: %w", n.addr, err)
		}
	}
	if n.username != "" {
		if err := n.auth(c); err != nil {
			return err
		}
	}
	return n.transfer(c, msg)
}

// dial connects to the server, completing the TLS handshake in implicit
// mode, with ctx's deadline on the connection.
func (n *Notifier) dial(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", n.addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", n.addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	if n.mode != TLSImplicit {
		return conn, nil
	}
	tc := tls.Client(conn, n.tls)
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("TLS handshake with %s: %w", n.addr, err)
	}
	return tc, nil
}

// auth authenticates with PLAIN or, failing that, LOGIN; both refuse to
// run outside TLS whatever the server says.
func (n *Notifier) auth(c *smtp.Client) error {
	ok, params := c.Extension("AUTH")
	if !ok {
		return fmt.Errorf("%w: %s does not offer AUTH", errPolicy, n.addr)
	}
	mechs := strings.Fields(strings.ToUpper(params))
	var a smtp.Auth
	switch {
	case slices.Contains(mechs, "PLAIN"):
		a = tlsOnly{smtp.PlainAuth("", n.username, n.password, n.host)}
	case slices.Contains(mechs, "LOGIN"):
		a = tlsOnly{loginAuth{n.username, n.password}}
	default:
		return fmt.Errorf("%w: %s offers AUTH %s, not PLAIN or LOGIN", errPolicy, n.addr, params)
	}
	if err := c.Auth(a); err != nil {
		return fmt.Errorf("AUTH with %s: %w", n.addr, err)
	}
	return nil
}

// transfer sends the envelope and the message; net/smtp's data writer
// dot-stuffs lines starting with ".".
func (n *Notifier) transfer(c *smtp.Client, msg []byte) error {
	if err := c.Mail(n.from.Address); err != nil {
		return fmt.Errorf("MAIL FROM: %w", err)
	}
	for _, to := range n.to {
		if err := c.Rcpt(to.Address); err != nil {
			return fmt.Errorf("RCPT TO %s: %w", to.Address, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("write message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("end of message: %w", err)
	}
	_ = c.Quit() // the message is accepted: a failed QUIT does not undo that
	return nil
}

// classify marks what retrying cannot fix: SMTP 5xx replies and a server
// lacking STARTTLS or AUTH. 4xx replies and network and TLS errors stay
// retryable.
func classify(err error) error {
	var te *textproto.Error
	switch {
	case errors.As(err, &te) && te.Code >= 500:
		return alerts.Permanent(err)
	case errors.Is(err, errPolicy):
		return alerts.Permanent(err)
	}
	return err
}

// tlsOnly refuses to start authentication on a connection without TLS.
type tlsOnly struct{ smtp.Auth }

func (a tlsOnly) Start(s *smtp.ServerInfo) (string, []byte, error) {
	if !s.TLS {
		return "", nil, fmt.Errorf("%w: refusing to send credentials without TLS", errPolicy)
	}
	return a.Auth.Start(s)
}

// loginAuth is the LOGIN mechanism (Microsoft 365 and others offer no
// PLAIN).
type loginAuth struct{ username, password string }

func (a loginAuth) Start(*smtp.ServerInfo) (string, []byte, error) { return "LOGIN", nil, nil }

func (a loginAuth) Next(challenge []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	switch strings.ToLower(strings.TrimSpace(string(challenge))) {
	case "username:", "user name", "username":
		return []byte(a.username), nil
	case "password:", "password":
		return []byte(a.password), nil
	}
	return nil, errors.New("unexpected AUTH LOGIN challenge")
}
