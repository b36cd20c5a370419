package email_test

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/vantageprobe/vantage/alerts"
	"github.com/vantageprobe/vantage/alerts/alertstest"
	"github.com/vantageprobe/vantage/alerts/email"
	"github.com/vantageprobe/vantage/probes/probestest"
)

const (
	hostile  = "<@here> <!channel> ](http://evil) *bold* & </script>"
	password = "smtp-pass-word"
)

var start = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func firing() alerts.Notification {
	return alerts.Notification{
		Key: "key-new", GroupKey: `{}:{rule="down"}`, Receiver: "ops-mail", Status: alerts.StatusFiring,
		Rule: "Défaillance ✓", Severity: alerts.SeverityPage, Reason: "new", Time: start.Add(time.Minute),
		ExternalURL: "https://vantage.example.org",
		Alerts: []alerts.Alert{
			{Status: alerts.StatusFiring, Check: "api", State: "down", Regions: []string{"eu", "us"},
				Summary: "api is down in 2 of 3 regions", Error: hostile, Target: "https://api.example.org/health",
				URL: "https://vantage.example.org/checks/api", StartsAt: start},
			{Status: alerts.StatusResolved, Check: "web", State: "up", StartsAt: start.Add(-time.Hour)},
		},
	}
}

func resolved() alerts.Notification {
	n := firing()
	n.Key, n.Status, n.Reason, n.Time = "key-resolved", alerts.StatusResolved, "resolved", start.Add(time.Hour)
	n.Alerts = n.Alerts[:1]
	n.Alerts[0].Status, n.Alerts[0].EndsAt = alerts.StatusResolved, start.Add(time.Hour)
	return n
}

// pki is a CA trusted through ca_file and a server certificate it issued
// for localhost and 127.0.0.1.
type pki struct {
	ca     *probestest.CA
	caFile string
	cert   tls.Certificate
}

func newPKI(t *testing.T) pki {
	ca := probestest.NewCA(t)
	return pki{ca: ca, caFile: ca.WriteFile(t), cert: ca.Issue(t, probestest.CertOptions{})}
}

func (p pki) config(srv *mailServer, mode email.TLSMode) email.Config {
	return email.Config{Host: srv.host, Port: srv.port, TLS: mode, CAFile: p.caFile, Hello: "vantage.test",
		From: "Vantage Alerts <alerts@vantage.test>", To: []string{"ops@example.org", "Zoë Team <team@example.org>"},
		Username: "vantage", Password: password}
}

func newNotifier(t *testing.T, c email.Config) (*email.Notifier, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	n, err := email.New(c, email.Options{Logger: alertstest.Logger(&logs)})
	if err != nil {
		t.Fatal(err)
	}
	return n, &logs
}

// message is a received mail taken apart.
type message struct {
	header     mail.Header
	text, html string
}

// parse checks the wire form (CRLF only, lines within 998 octets, two
// quoted-printable parts) and decodes the message.
func parse(t *testing.T, data []byte) message {
	t.Helper()
	if bytes.Contains(bytes.ReplaceAll(data, []byte("\r\n"), nil), []byte("\n")) {
		t.Error("a line ends in a bare LF")
	}
	for i, line := range bytes.Split(data, []byte("\r\n")) {
		if len(line) > 998 {
			t.Errorf("line %d is %d octets", i+1, len(line))
		}
	}
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("read message: %v\n%s", err, data)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" || msg.Header.Get("MIME-Version") != "1.0" {
		t.Fatalf("MIME headers: %q %q", msg.Header.Get("MIME-Version"), msg.Header.Get("Content-Type"))
	}
	m := message{header: msg.Header}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for _, want := range []string{"text/plain; charset=utf-8", "text/html; charset=utf-8"} {
		p, err := mr.NextRawPart()
		if err != nil {
			t.Fatalf("part %s: %v", want, err)
		}
		if p.Header.Get("Content-Type") != want || p.Header.Get("Content-Transfer-Encoding") != "quoted-printable" {
			t.Errorf("part headers %v, want %s", p.Header, want)
		}
		b, err := io.ReadAll(quotedprintable.NewReader(p))
		if err != nil {
			t.Fatalf("decode %s: %v", want, err)
		}
		if bytes.Contains(bytes.ReplaceAll(b, []byte("\r\n"), nil), []byte("\n")) {
			t.Errorf("%s: a decoded line ends in a bare LF", want)
		}
		if strings.HasPrefix(want, "text/plain") {
			m.text = strings.ReplaceAll(string(b), "\r\n", "\n")
		} else {
			m.html = strings.ReplaceAll(string(b), "\r\n", "\n")
		}
	}
	if _, err := mr.NextRawPart(); err != io.EOF {
		t.Errorf("more than two parts: %v", err)
	}
	return m
}

func decodeHeader(t *testing.T, v string) string {
	t.Helper()
	s, err := new(mime.WordDecoder).DecodeHeader(v)
	if err != nil {
		t.Fatalf("decode %q: %v", v, err)
	}
	return s
}

func TestSTARTTLSBeforeAuth(t *testing.T) {
	p := newPKI(t)
	srv := startServer(t, serverOptions{tls: "starttls", cert: p.cert, user: "vantage", pass: password})
	n, _ := newNotifier(t, p.config(srv, email.TLSStartTLS))
	if err := n.Notify(t.Context(), firing()); err != nil {
		t.Fatal(err)
	}
	cmds := srv.log.commands()
	if want := []string{"EHLO", "STARTTLS", "EHLO", "AUTH", "MAIL", "RCPT", "RCPT", "DATA", "QUIT"}; !slices.Equal(cmds, want) {
		t.Errorf("commands %v, want %v", cmds, want)
	}
	auths := srv.auths()
	if len(auths) != 1 || auths[0] != (authCall{mech: "PLAIN", user: "vantage", pass: password, tls: true}) {
		t.Errorf("auth %+v", auths)
	}
	mails := srv.mails()
	if len(mails) != 1 {
		t.Fatalf("%d mails", len(mails))
	}
	got := mails[0]
	if got.from != "alerts@vantage.test" || !slices.Equal(got.to, []string{"ops@example.org", "team@example.org"}) ||
		!got.tls || got.hello != "vantage.test" {
		t.Errorf("envelope %q → %q, tls %v, hello %q", got.from, got.to, got.tls, got.hello)
	}
	checkFiringMail(t, parse(t, got.data))
}

func checkFiringMail(t *testing.T, m message) {
	t.Helper()
	h := m.header
	if from := decodeHeader(t, h.Get("From")); from != `"Vantage Alerts" <alerts@vantage.test>` {
		t.Errorf("From %q", from)
	}
	to, err := h.AddressList("To")
	if err != nil || len(to) != 2 || to[0].Address != "ops@example.org" || to[1].Name != "Zoë Team" || to[1].Address != "team@example.org" {
		t.Errorf("To %q: %v %v", h.Get("To"), to, err)
	}
	if raw := h.Get("Subject"); !strings.HasPrefix(raw, "=?utf-8?q?") || decodeHeader(t, raw) != "[FIRING] Défaillance ✓: api, web" {
		t.Errorf("Subject %q = %q", raw, decodeHeader(t, raw))
	}
	if d, err := h.Date(); err != nil || !d.Equal(start.Add(time.Minute)) {
		t.Errorf("Date %q: %v", h.Get("Date"), err)
	}
	if !regexp.MustCompile(`^<vantage\.incident\.[0-9a-f]{32}@vantage\.test>$`).MatchString(h.Get("Message-ID")) {
		t.Errorf("Message-ID %q", h.Get("Message-ID"))
	}
	if h.Get("In-Reply-To") != "" || !regexp.MustCompile(`^<vantage\.group\.[0-9a-f]{32}@vantage\.test>$`).MatchString(h.Get("References")) ||
		h.Get("Auto-Submitted") != "auto-generated" {
		t.Errorf("threading or auto headers on the first mail: %v", h)
	}
	for _, want := range []string{"[FIRING] Défaillance ✓: api, web\n", "- api is down in 2 of 3 regions\n", "  error: " + hostile + "\n",
		"  target: https://api.example.org/health\n", "  regions: eu, us\n", "  since: 2026-11-25T10:00:00Z\n",
		"  https://vantage.example.org/checks/api\n", "- resolved: web is up\n", "Severity: page · Reason: new\n"} {
		if !strings.Contains(m.text, want) {
			t.Errorf("text part lacks %q:\n%s", want, m.text)
		}
	}
	escaped := "&lt;@here&gt; &lt;!channel&gt; ](http://evil) *bold* &amp; &lt;/script&gt;"
	if !strings.Contains(m.html, "<code>"+escaped+"</code>") || strings.Contains(m.html, "</script>") || strings.Contains(m.html, "<@here>") {
		t.Errorf("html part does not escape the error:\n%s", m.html)
	}
	if !strings.Contains(m.html, `<a href="https://vantage.example.org/checks/api">`) || !strings.Contains(m.html, `<h2 style="color:#c0392b">`) {
		t.Errorf("html part:\n%s", m.html)
	}
}

func TestImplicitTLS(t *testing.T) {
	p := newPKI(t)
	for _, mech := range []string{sasl.Plain, sasl.Login} {
		t.Run(mech, func(t *testing.T) {
			srv := startServer(t, serverOptions{tls: "implicit", cert: p.cert, mechs: []string{mech}, user: "vantage", pass: password})
			n, _ := newNotifier(t, p.config(srv, email.TLSImplicit))
			if err := n.Notify(t.Context(), firing()); err != nil {
				t.Fatal(err)
			}
			if cmds := srv.log.commands(); slices.Contains(cmds, "STARTTLS") || cmds[0] != "EHLO" {
				t.Errorf("commands %v", cmds)
			}
			if auths := srv.auths(); len(auths) != 1 || auths[0] != (authCall{mech: mech, user: "vantage", pass: password, tls: true}) {
				t.Errorf("auth %+v", auths)
			}
			if mails := srv.mails(); len(mails) != 1 || !mails[0].tls {
				t.Fatalf("mails %+v", mails)
			}
		})
	}
}

func TestPlainRelayWithoutCredentials(t *testing.T) {
	srv := startServer(t, serverOptions{tls: "none"})
	n, _ := newNotifier(t, email.Config{Host: srv.host, Port: srv.port, TLS: email.TLSNone, From: "alerts@vantage.test", To: []string{"ops@example.org"}})
	if err := n.Notify(t.Context(), firing()); err != nil {
		t.Fatal(err)
	}
	if cmds := srv.log.commands(); slices.Contains(cmds, "AUTH") || slices.Contains(cmds, "STARTTLS") {
		t.Errorf("commands %v", cmds)
	}
	if mails := srv.mails(); len(mails) != 1 || mails[0].hello != "localhost" {
		t.Fatalf("mails %+v", mails)
	}
}

func TestDotsLongLinesAndTextTemplate(t *testing.T) {
	p := newPKI(t)
	srv := startServer(t, serverOptions{tls: "starttls", cert: p.cert, user: "vantage", pass: password})
	c := p.config(srv, "")
	c.Subject, _ = alerts.ParseTemplate("{{check}} {{summary}}")
	c.Text, _ = alerts.ParseTemplate("Check {{check}}:\n{{error}}\n.\nend")
	n, _ := newNotifier(t, c)
	notif := firing()
	notif.Alerts[0].Error = ".hidden line\n..two dots\n<b>" + strings.Repeat("long ", 400)
	notif.Alerts[0].Summary = strings.Repeat("é", 300) + "\r\nBcc: victim@example.org"
	if err := n.Notify(t.Context(), notif); err != nil {
		t.Fatal(err)
	}
	mails := srv.mails()
	if len(mails) != 1 {
		t.Fatalf("%d mails", len(mails))
	}
	m := parse(t, mails[0].data)
	want := "Check api:\n" + notif.Alerts[0].Error + "\n.\nend"
	if m.text != want {
		t.Errorf("text part\n got %q\nwant %q", m.text, want)
	}
	if !strings.Contains(m.html, "\n.hidden line\n..two dots\n&lt;b&gt;long") {
		t.Errorf("html part %q", m.html[:200])
	}
	subject := decodeHeader(t, m.header.Get("Subject"))
	if len([]rune(subject)) != 200 || !strings.HasPrefix(subject, "api ééé") || !strings.HasSuffix(subject, "é…") {
		t.Errorf("subject %d runes: %q", len([]rune(subject)), subject)
	}
	if m.header.Get("Bcc") != "" {
		t.Error("a value injected a header")
	}
}

func TestResolveMailThreads(t *testing.T) {
	p := newPKI(t)
	srv := startServer(t, serverOptions{tls: "starttls", cert: p.cert, user: "vantage", pass: password})
	n, _ := newNotifier(t, p.config(srv, email.TLSStartTLS))
	reminder := firing()
	reminder.Key, reminder.Reason = "key-reminder", "reminder"
	test := firing()
	test.Key, test.Reason = "key-test", "test"
	for _, notif := range []alerts.Notification{firing(), reminder, resolved(), resolved(), test} {
		if err := n.Notify(t.Context(), notif); err != nil {
			t.Fatal(err)
		}
	}
	mails := srv.mails()
	if len(mails) != 5 {
		t.Fatalf("%d mails", len(mails))
	}
	var h []mail.Header
	for _, m := range mails {
		h = append(h, parse(t, m.data).header)
	}
	root, group := h[0].Get("Message-ID"), h[0].Get("References")
	for i, name := range []string{"reminder", "resolve", "resolve again"} {
		m := h[i+1]
		if m.Get("In-Reply-To") != root || m.Get("References") != group+" "+root || m.Get("Message-ID") == root {
			t.Errorf("%s: Message-ID %q In-Reply-To %q References %q, root %q", name, m.Get("Message-ID"), m.Get("In-Reply-To"), m.Get("References"), root)
		}
	}
	if h[1].Get("Message-ID") == h[2].Get("Message-ID") || h[2].Get("Message-ID") != h[3].Get("Message-ID") {
		t.Error("a notification's Message-ID is not its own, or a retry's differs")
	}
	if s := decodeHeader(t, h[2].Get("Subject")); s != "[RESOLVED] Défaillance ✓: api" {
		t.Errorf("resolve subject %q", s)
	}
	if h[4].Get("In-Reply-To") != "" || h[4].Get("References") != "" || h[4].Get("Message-ID") == root {
		t.Errorf("test mail threads: %v", h[4])
	}
	// The next incident of the same group starts a new thread.
	next := firing()
	next.Key = "key-next"
	next.Alerts[0].StartsAt = start.Add(24 * time.Hour)
	if err := n.Notify(t.Context(), next); err != nil {
		t.Fatal(err)
	}
	mails = srv.mails()
	if m := parse(t, mails[len(mails)-1].data).header; m.Get("Message-ID") == root || m.Get("References") != group {
		t.Errorf("the next incident: Message-ID %q (previous %q), References %q", m.Get("Message-ID"), root, m.Get("References"))
	}
}

func TestTLSRequired(t *testing.T) {
	p := newPKI(t)
	other := probestest.NewCA(t).Issue(t, probestest.CertOptions{})
	wrongName := p.ca.Issue(t, probestest.CertOptions{IPs: []net.IP{net.IPv4(127, 0, 0, 2)}})
	tests := []struct {
		name   string
		server serverOptions
		mode   email.TLSMode
		want   string
	}{
		{"no STARTTLS offered", serverOptions{tls: "none"}, email.TLSStartTLS, "does not offer STARTTLS"},
		{"unknown authority, starttls", serverOptions{tls: "starttls", cert: other}, email.TLSStartTLS, "certificate signed by unknown authority"},
		{"unknown authority, implicit", serverOptions{tls: "implicit", cert: other}, email.TLSImplicit, "certificate signed by unknown authority"},
		{"wrong name", serverOptions{tls: "starttls", cert: wrongName}, email.TLSStartTLS, "certificate is valid for 127.0.0.2, not 127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.server.user, tt.server.pass = "vantage", password
			srv := startServer(t, tt.server)
			n, logs := newNotifier(t, p.config(srv, tt.mode))
			err := n.Notify(t.Context(), firing())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error()+logs.String(), password) {
				t.Errorf("password leaked: %v", err)
			}
			if cmds := srv.log.commands(); slices.Contains(cmds, "AUTH") || slices.Contains(cmds, "MAIL") || len(srv.auths()) > 0 {
				t.Errorf("went on without TLS: %v", cmds)
			}
		})
	}
}

func TestInsecureSkipVerify(t *testing.T) {
	p := newPKI(t)
	srv := startServer(t, serverOptions{tls: "starttls", cert: probestest.NewCA(t).Issue(t, probestest.CertOptions{}), user: "vantage", pass: password})
	c := p.config(srv, email.TLSStartTLS)
	c.CAFile, c.InsecureSkipVerify = "", true
	n, _ := newNotifier(t, c)
	if err := n.Notify(t.Context(), firing()); err != nil {
		t.Fatal(err)
	}
	if len(srv.mails()) != 1 {
		t.Fatal("no mail")
	}
}

func TestReplies(t *testing.T) {
	p := newPKI(t)
	temp := &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	tests := []struct {
		name                      string
		mailErr, rcptErr, dataErr error
		pass                      string
		permanent                 bool
		want                      string
	}{
		{"4xx at MAIL is retried", temp, nil, nil, password, false, "451"},
		{"5xx at RCPT is permanent", nil, &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}, nil, password, true, "550"},
		{"4xx at DATA is retried", nil, nil, &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 3, 1}, Message: "full"}, password, false, "452"},
		{"5xx at DATA is permanent", nil, nil, &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "rejected"}, password, true, "554"},
		{"wrong password is permanent", nil, nil, nil, "not-the-" + password, true, "535"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, serverOptions{tls: "starttls", cert: p.cert, user: "vantage", pass: password})
			srv.script(tt.mailErr, tt.rcptErr, tt.dataErr)
			c := p.config(srv, email.TLSStartTLS)
			c.Password = email.Secret(tt.pass)
			n, logs := newNotifier(t, c)
			err := n.Notify(t.Context(), firing())
			if err == nil || alerts.IsPermanent(err) != tt.permanent || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, permanent %v", err, alerts.IsPermanent(err))
			}
			if strings.Contains(err.Error()+logs.String(), password) {
				t.Errorf("password leaked: %v", err)
			}
		})
	}
}

func TestNetworkErrorsAreRetryable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	// A server that accepts and never greets: the attempt's timeout ends it.
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(io.Discard, c) // until the client gives up
			}()
		}
	}()
	addr := ln.Addr().(*net.TCPAddr)
	c := email.Config{Host: "127.0.0.1", Port: addr.Port, From: "a@vantage.test", To: []string{"b@example.org"}, Timeout: 200 * time.Millisecond}
	n, _ := newNotifier(t, c)
	began := time.Now()
	if err := n.Notify(t.Context(), firing()); err == nil || alerts.IsPermanent(err) || time.Since(began) > 5*time.Second {
		t.Fatalf("silent server: err %v after %v", err, time.Since(began))
	}
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	c.Port = closed.Addr().(*net.TCPAddr).Port
	closed.Close()
	n, _ = newNotifier(t, c)
	if err := n.Notify(t.Context(), firing()); err == nil || alerts.IsPermanent(err) {
		t.Fatalf("refused: %v", err)
	}
}

func TestValidate(t *testing.T) {
	ok := email.Config{Host: "smtp.example.org", From: "alerts@example.org", To: []string{"ops@example.org"}}
	tests := []struct {
		name string
		edit func(*email.Config)
		want string
	}{
		{"minimal", func(*email.Config) {}, ""},
		{"credentials", func(c *email.Config) { c.Username, c.Password = "u", password }, ""},
		{"tls none without credentials", func(c *email.Config) { c.TLS = email.TLSNone }, ""},
		{"tls none with credentials", func(c *email.Config) { c.TLS, c.Username, c.Password = email.TLSNone, "u", password },
			"tls: none would send the password in clear; use starttls or implicit"},
		{"every problem", func(c *email.Config) {
			*c = email.Config{Host: "smtp.example.org:587", Port: 70000, TLS: "ssl", Hello: "my host",
				From: "not an address", To: []string{"ops@example.org", "bad"}, Password: password, Timeout: -time.Second}
		}, `host: "smtp.example.org:587" includes a port; set port instead
port: 70000 is not a TCP port
tls: "ssl" is not starttls, implicit or none
username: required with a password
hello: "my host" is not a host name
from: "not an address" is not an address: mail: no angle-addr
to[1]: "bad" is not an address: mail: missing '@' or angle-addr
timeout: -1s is negative`},
		{"empty", func(c *email.Config) { *c = email.Config{} }, "host: required\nfrom: required\nto: at least one recipient is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.edit(&c)
			err := c.Validate()
			alertstest.CheckErrorText(t, err, tt.want)
			alertstest.NoSecrets(t, fmt.Sprint(err), password)
			if _, nerr := email.New(c, email.Options{}); (nerr == nil) != (tt.want == "") {
				t.Errorf("New: %v", nerr)
			}
		})
	}
	c := ok
	c.Username, c.Password = "u", password
	alertstest.NoSecrets(t, alertstest.Printed(c), password)
	c.CAFile = "/nonexistent/ca.pem"
	if _, err := email.New(c, email.Options{}); err == nil || !strings.HasPrefix(err.Error(), "ca_file: ") {
		t.Errorf("missing CA file: %v", err)
	}
}

func TestSendResolved(t *testing.T) {
	alertstest.CheckSendResolved(t, func(v *bool) (*email.Notifier, error) {
		return email.New(email.Config{Host: "smtp.example.org", From: "a@example.org", To: []string{"b@example.org"}, SendResolved: v}, email.Options{})
	})
}
