package email_test

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// mailServer is a real SMTP server (emersion/go-smtp) on 127.0.0.1 that
// records the protocol transcript, every AUTH and every message.
type mailServer struct {
	host string
	port int
	be   *backend
	log  *transcript
}

// serverOptions choose how the server secures connections.
type serverOptions struct {
	tls   string          // "starttls" (offered), "implicit" (TLS listener) or "none"
	cert  tls.Certificate // for starttls and implicit
	mechs []string        // AUTH mechanisms; default PLAIN
	user  string          // accepted credentials
	pass  string
}

type authCall struct {
	mech, user, pass string
	tls              bool
}

type received struct {
	from  string
	to    []string
	data  []byte
	tls   bool
	hello string
}

// backend is the server's behaviour; errors are scripted replies.
type backend struct {
	opts serverOptions

	mu                        sync.Mutex
	auths                     []authCall
	mails                     []received
	mailErr, rcptErr, dataErr error
}

func startServer(t *testing.T, o serverOptions) *mailServer {
	t.Helper()
	if o.mechs == nil {
		o.mechs = []string{sasl.Plain}
	}
	be := &backend{opts: o}
	s := smtp.NewServer(be)
	s.Domain = "mx.test"
	s.ErrorLog = log.New(io.Discard, "", 0)
	tr := &transcript{}
	s.Debug = tr
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{o.cert}}
	switch o.tls {
	case "starttls":
		s.TLSConfig = cfg
	case "implicit":
		ln = tls.NewListener(ln, cfg)
	case "none":
		// Would accept AUTH in clear, so that a client doing it shows.
		s.AllowInsecureAuth = true
	default:
		t.Fatalf("tls %q", o.tls)
	}
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	p, _ := strconv.Atoi(port)
	return &mailServer{host: host, port: p, be: be, log: tr}
}

func (m *mailServer) mails() []received {
	m.be.mu.Lock()
	defer m.be.mu.Unlock()
	return append([]received(nil), m.be.mails...)
}

func (m *mailServer) auths() []authCall {
	m.be.mu.Lock()
	defer m.be.mu.Unlock()
	return append([]authCall(nil), m.be.auths...)
}

func (m *mailServer) script(mailErr, rcptErr, dataErr error) {
	m.be.mu.Lock()
	defer m.be.mu.Unlock()
	m.be.mailErr, m.be.rcptErr, m.be.dataErr = mailErr, rcptErr, dataErr
}

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{be: b, conn: c}, nil
}

type session struct {
	be   *backend
	conn *smtp.Conn
	from string
	to   []string
}

func (s *session) isTLS() bool {
	_, ok := s.conn.TLSConnectionState()
	return ok
}

func (s *session) AuthMechanisms() []string { return s.be.opts.mechs }

func (s *session) Auth(mech string) (sasl.Server, error) {
	check := func(user, pass string) error {
		s.be.mu.Lock()
		s.be.auths = append(s.be.auths, authCall{mech: mech, user: user, pass: pass, tls: s.isTLS()})
		s.be.mu.Unlock()
		if user != s.be.opts.user || pass != s.be.opts.pass {
			return smtp.ErrAuthFailed
		}
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, user, pass string) error { return check(user, pass) }), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.be.mu.Lock()
	defer s.be.mu.Unlock()
	s.from = from
	return s.be.mailErr
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.be.mu.Lock()
	defer s.be.mu.Unlock()
	s.to = append(s.to, to)
	return s.be.rcptErr
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.be.mu.Lock()
	defer s.be.mu.Unlock()
	if s.be.dataErr != nil {
		return s.be.dataErr
	}
	s.be.mails = append(s.be.mails, received{from: s.from, to: s.to, data: data, tls: s.isTLS(), hello: s.conn.Hostname()})
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

// loginServer is the server side of AUTH LOGIN, which go-sasl lacks.
type loginServer struct {
	check func(user, pass string) error
	user  string
	step  int
}

func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		l.step++
		if resp != nil {
			l.user, l.step = string(resp), 2
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 1:
		l.user, l.step = string(resp), 2
		return []byte("Password:"), false, nil
	case 2:
		return nil, true, l.check(l.user, string(resp))
	}
	return nil, false, errors.New("unexpected LOGIN step")
}

// transcript is the protocol as the server saw it (decrypted after TLS).
type transcript struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (t *transcript) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.b.Write(p)
}

func (t *transcript) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.b.String()
}

// commands returns the client's command verbs in order (EHLO, STARTTLS,
// AUTH, MAIL, …), from lines that start with an upper-case word.
func (t *transcript) commands() []string {
	var out []string
	for _, line := range strings.Split(t.String(), "\r\n") {
		verb, _, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA", "QUIT":
			out = append(out, strings.ToUpper(verb))
		}
	}
	return out
}
