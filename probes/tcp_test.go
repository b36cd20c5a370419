package probes_test

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/probes"
	"github.com/vantageprobe/vantage/probes/probestest"
)

func newTCP(t testing.TB, spec probes.TCPSpec) *probes.TCPProber {
	t.Helper()
	p, err := probes.NewTCP(spec)
	if err != nil {
		t.Fatalf("NewTCP: %v", err)
	}
	return p
}

// tcpBannerThenClose starts a TCP server on 127.0.0.1 that writes banner
// to each connection and closes it at once.
func tcpBannerThenClose(t *testing.T, banner string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = io.WriteString(c, banner)
			c.Close()
		}
	})
	return ln.Addr().String()
}

func TestTCPProbe(t *testing.T) {
	echo := probestest.Echo(t, "")
	ssh := probestest.Echo(t, "SSH-2.0-test\r\n")
	smtp := tcpBannerThenClose(t, "220 mail ready\r\n")
	refused := probestest.RefusedAddr(t)
	flood := probestest.Trickle(t, bytes.Repeat([]byte("a"), 100<<10), time.Hour)
	// A "b" as byte 65536, the last one read, and again as byte 65537.
	edge := probestest.Trickle(t, slices.Concat(bytes.Repeat([]byte("a"), 64<<10-1), []byte("bb"), bytes.Repeat([]byte("a"), 1000)), time.Hour)
	tests := []struct {
		name         string
		spec         probes.TCPSpec
		ok           bool
		sentinel     error
		wantReceived int    // TCPDetail.Received
		wantMsg      string // substring of the error
		dialogue     bool   // Phases.Processing must be set
	}{
		{name: "connect only", spec: probes.TCPSpec{Address: echo}, ok: true},
		{name: "send and expect echo", spec: probes.TCPSpec{Address: echo, Send: "PING\n", Expect: mustPattern("^PING")},
			ok: true, wantReceived: 5, dialogue: true},
		{name: "send only", spec: probes.TCPSpec{Address: echo, Send: "PING\n"}, ok: true, dialogue: true},
		{name: "banner", spec: probes.TCPSpec{Address: ssh, Expect: mustPattern(`^SSH-2\.0`)},
			ok: true, wantReceived: 14, dialogue: true},
		{name: "banner then send", spec: probes.TCPSpec{Address: ssh, Send: "hello\n", Expect: mustPattern(`(?s)^SSH-2\.0.*hello\n`)},
			ok: true, wantReceived: 20, dialogue: true},
		{name: "banner, server closes", spec: probes.TCPSpec{Address: smtp, Expect: mustPattern(`^220 `)},
			ok: true, wantReceived: 16, dialogue: true},
		{name: "mismatch, server closes", spec: probes.TCPSpec{Address: smtp, Expect: mustPattern(`^SSH-`)},
			sentinel: probes.ErrExpectMismatch, wantReceived: 16, dialogue: true,
			wantMsg: `connection closed before "^SSH-" matched; got "220 mail ready\r\n"`},
		{name: "no match in the first 64 KiB", spec: probes.TCPSpec{Address: flood, Expect: mustPattern("b")},
			sentinel: probes.ErrExpectMismatch, wantReceived: 64 << 10, dialogue: true,
			wantMsg: `"b" did not match the first 65536 bytes`},
		{name: "match in the last byte of 64 KiB", spec: probes.TCPSpec{Address: edge, Expect: mustPattern("b")},
			ok: true, wantReceived: 64 << 10, dialogue: true},
		{name: "match one byte past 64 KiB", spec: probes.TCPSpec{Address: edge, Expect: mustPattern("bb")},
			sentinel: probes.ErrExpectMismatch, wantReceived: 64 << 10, dialogue: true},
		{name: "refused", spec: probes.TCPSpec{Address: refused}, sentinel: probes.ErrConnRefused},
		{name: "refused with expect", spec: probes.TCPSpec{Address: refused, Expect: mustPattern(".")}, sentinel: probes.ErrConnRefused},
		{name: "wrong ip version", spec: probes.TCPSpec{Address: echo, IPVersion: probes.IPv6}, sentinel: probes.ErrResolve},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := probeOnce(t, newTCP(t, tt.spec), 5*time.Second)
			wantOutcome(t, r, tt.ok, tt.sentinel)
			if r.Kind != probes.KindTCP || r.Target != tt.spec.Address || r.TLS != nil {
				t.Errorf("kind %q target %q tls %v", r.Kind, r.Target, r.TLS)
			}
			if tt.wantMsg != "" && !strings.Contains(r.Err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not contain %q", r.Err, tt.wantMsg)
			}
			if tt.sentinel == probes.ErrConnRefused || tt.sentinel == probes.ErrResolve {
				return
			}
			if r.TCP == nil || r.TCP.RemoteAddr != tt.spec.Address || r.TCP.Received != tt.wantReceived {
				t.Fatalf("detail %+v, want remote %s received %d", r.TCP, tt.spec.Address, tt.wantReceived)
			}
			if r.Phases.Connect <= 0 || (r.Phases.Processing > 0) != tt.dialogue || r.Duration < r.Phases.Connect {
				t.Errorf("phases %+v duration %s, want connect and dialogue=%v", r.Phases, r.Duration, tt.dialogue)
			}
		})
	}
}

func TestTCPTimeouts(t *testing.T) {
	const (
		timeout  = 300 * time.Millisecond
		slackTCP = 100 * time.Millisecond
	)
	ca := probestest.NewCA(t)
	hang := probestest.Hang(t)
	trickle := probestest.Trickle(t, []byte("HELLO "), time.Second)
	tlsSilent := probestest.StartTLS(t, ca.Issue(t, probestest.CertOptions{}), probestest.TLSOptions{}, func(c net.Conn) {
		_, _ = io.Copy(io.Discard, c) // handshake done, then never a byte
	})
	caFile := ca.WriteFile(t)
	tests := []struct {
		name         string
		spec         probes.TCPSpec
		phase        string
		wantReceived int
	}{
		{name: "accept and hang", spec: probes.TCPSpec{Address: hang, Expect: mustPattern("^ok")}, phase: "processing"},
		{name: "send, then hang", spec: probes.TCPSpec{Address: hang, Send: "hello\n", Expect: mustPattern("^ok")}, phase: "processing"},
		{name: "trickle never matches", spec: probes.TCPSpec{Address: trickle, Expect: mustPattern("^WORLD")}, phase: "processing", wantReceived: 6},
		{name: "tls handshake never answered", spec: probes.TCPSpec{Address: hang, TLS: true}, phase: "tls"},
		{name: "silent after tls handshake", spec: probes.TCPSpec{Address: tlsSilent, TLS: true,
			TLSConfig: probes.TLSOptions{CAFile: caFile}, Expect: mustPattern("^220")}, phase: "processing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newTCP(t, tt.spec)
			r, took := probeTimed(t, p, timeout)
			wantOutcome(t, r, false, probes.ErrTimeout)
			if took < timeout || took > timeout+slackTCP {
				t.Fatalf("probe took %s, want [%s, %s]", took, timeout, timeout+slackTCP)
			}
			if got := r.Err.Error(); got != "timeout during "+tt.phase || probes.ErrorClass(r.Err) != "timeout" {
				t.Fatalf("error %q (class %q), want timeout during %s", got, probes.ErrorClass(r.Err), tt.phase)
			}
			if r.TCP == nil || r.TCP.Received != tt.wantReceived {
				t.Errorf("detail %+v, want received %d", r.TCP, tt.wantReceived)
			}
		})
	}
}

func TestTCPTLS(t *testing.T) {
	ca, other := probestest.NewCA(t), probestest.NewCA(t)
	banner := func(c net.Conn) {
		_, _ = io.WriteString(c, "220 tls ready\r\n")
		_, _ = io.Copy(io.Discard, c)
	}
	bannerClose := func(c net.Conn) { _, _ = io.WriteString(c, "220 tls ready\r\n") }
	tests := []struct {
		name         string
		cert         func(testing.TB) tls.Certificate
		handle       func(net.Conn)
		spec         probes.TCPSpec // Address is filled in; CAFile "ca"/"other" name a CA
		ok           bool
		sentinel     error
		wantSubject  string // "" = no TLS detail
		wantVerified bool
		wantReceived int
	}{
		{name: "ca-issued, ca_file", cert: caCert(ca, probestest.CertOptions{}),
			spec: probes.TCPSpec{TLS: true, TLSConfig: probes.TLSOptions{CAFile: "ca"}},
			ok:   true, wantSubject: "CN=localhost", wantVerified: true},
		{name: "intermediate chain", cert: caCert(ca, probestest.CertOptions{Intermediate: true}),
			spec: probes.TCPSpec{TLS: true, TLSConfig: probes.TLSOptions{CAFile: "ca"}},
			ok:   true, wantSubject: "CN=localhost", wantVerified: true},
		{name: "self-signed, system roots", cert: selfCert(probestest.CertOptions{}),
			spec: probes.TCPSpec{TLS: true}, sentinel: probes.ErrCertInvalid},
		{name: "other ca", cert: caCert(ca, probestest.CertOptions{}),
			spec: probes.TCPSpec{TLS: true, TLSConfig: probes.TLSOptions{CAFile: "other"}}, sentinel: probes.ErrCertInvalid},
		{name: "name mismatch", cert: caCert(ca, probestest.CertOptions{DNSNames: []string{"svc.example.test"}}),
			spec: probes.TCPSpec{TLS: true, TLSConfig: probes.TLSOptions{CAFile: "ca"}}, sentinel: probes.ErrCertInvalid},
		{name: "server_name override", cert: caCert(ca, probestest.CertOptions{DNSNames: []string{"svc.example.test"}}),
			spec: probes.TCPSpec{TLS: true, TLSConfig: probes.TLSOptions{CAFile: "ca", ServerName: "svc.example.test"}},
			ok:   true, wantSubject: "CN=svc.example.test", wantVerified: true},
		{name: "insecure_skip_verify", cert: selfCert(probestest.CertOptions{CommonName: "self"}),
			spec: probes.TCPSpec{TLS: true, TLSConfig: probes.TLSOptions{InsecureSkipVerify: true}},
			ok:   true, wantSubject: "CN=self"},
		{name: "expect banner over tls", cert: caCert(ca, probestest.CertOptions{}), handle: banner,
			spec: probes.TCPSpec{TLS: true, TLSConfig: probes.TLSOptions{CAFile: "ca"}, Expect: mustPattern(`^220 `)},
			ok:   true, wantSubject: "CN=localhost", wantVerified: true, wantReceived: 15},
		{name: "expect over tls, server closes", cert: caCert(ca, probestest.CertOptions{}), handle: bannerClose,
			spec:     probes.TCPSpec{TLS: true, TLSConfig: probes.TLSOptions{CAFile: "ca"}, Expect: mustPattern(`^SSH-`)},
			sentinel: probes.ErrExpectMismatch, wantSubject: "CN=localhost", wantVerified: true, wantReceived: 15},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := tt.spec
			spec.Address = probestest.StartTLS(t, tt.cert(t), probestest.TLSOptions{}, tt.handle)
			switch spec.TLSConfig.CAFile {
			case "ca":
				spec.TLSConfig.CAFile = ca.WriteFile(t)
			case "other":
				spec.TLSConfig.CAFile = other.WriteFile(t)
			}
			r := probeOnce(t, newTCP(t, spec), 5*time.Second)
			wantOutcome(t, r, tt.ok, tt.sentinel)
			if r.Phases.Connect <= 0 || r.Phases.TLS <= 0 {
				t.Errorf("phases %+v, want connect and tls", r.Phases)
			}
			if tt.wantSubject == "" {
				if r.TLS != nil {
					t.Errorf("TLS detail %+v after a failed handshake", r.TLS)
				}
				return
			}
			d := r.TLS
			if d == nil || d.Version != "TLS 1.3" || d.Subject != tt.wantSubject || d.Verified != tt.wantVerified || d.DaysLeft != 89 {
				t.Fatalf("TLS detail %+v, want TLS 1.3 %q verified=%v 89 days left", d, tt.wantSubject, tt.wantVerified)
			}
			if r.TCP == nil || r.TCP.Received != tt.wantReceived {
				t.Errorf("TCP detail %+v, want received %d", r.TCP, tt.wantReceived)
			}
			if (r.Phases.Processing > 0) != !tt.spec.Expect.IsZero() || r.Degraded {
				t.Errorf("processing %s degraded %v", r.Phases.Processing, r.Degraded)
			}
		})
	}
}

func TestTCPValidate(t *testing.T) {
	tests := []struct {
		name string
		spec probes.TCPSpec
		want []string // prefixes of the error lines, in order; none = valid
	}{
		{name: "ipv4", spec: probes.TCPSpec{Address: "127.0.0.1:22"}},
		{name: "ipv6", spec: probes.TCPSpec{Address: "[::1]:22"}},
		{name: "host name", spec: probes.TCPSpec{Address: "mail.example.test:25"}},
		{name: "tls with tls_config", spec: probes.TCPSpec{Address: "mail.example.test:465", TLS: true, TLSConfig: probes.TLSOptions{ServerName: "mail"}}},
		{name: "missing", spec: probes.TCPSpec{}, want: []string{"address: required (host:port)"}},
		{name: "no port", spec: probes.TCPSpec{Address: "example.test"}, want: []string{`address: "example.test" is not host:port`}},
		{name: "bare ipv6", spec: probes.TCPSpec{Address: "::1"}, want: []string{`address: "::1" is not host:port`}},
		{name: "ipv6 without brackets", spec: probes.TCPSpec{Address: "::1:22"}, want: []string{`address: "::1:22" is not host:port`}},
		{name: "url", spec: probes.TCPSpec{Address: "tcp://example.test:22"}, want: []string{"address: "}},
		{name: "no host", spec: probes.TCPSpec{Address: ":22"}, want: []string{`address: ":22" has no host`}},
		{name: "empty port", spec: probes.TCPSpec{Address: "example.test:"}, want: []string{`address: "example.test:" has no valid port`}},
		{name: "port zero", spec: probes.TCPSpec{Address: "example.test:0"}, want: []string{`address: "example.test:0" has no valid port`}},
		{name: "port too big", spec: probes.TCPSpec{Address: "example.test:65536"}, want: []string{`address: "example.test:65536" has no valid port`}},
		{name: "port not a number", spec: probes.TCPSpec{Address: "example.test:no-such-service"}, want: []string{"address: "}},
		{name: "tls_config without tls", spec: probes.TCPSpec{Address: "example.test:443", TLSConfig: probes.TLSOptions{CAFile: "/ca.pem"}},
			want: []string{"tls_config: set tls: true to use TLS"}},
		{name: "cert without key", spec: probes.TCPSpec{Address: "example.test:443", TLS: true, TLSConfig: probes.TLSOptions{CertFile: "/c.pem"}},
			want: []string{"tls_config: cert_file and key_file must be set together"}},
		{name: "every problem reported", spec: probes.TCPSpec{Address: ":0", TLSConfig: probes.TLSOptions{KeyFile: "/k.pem"}},
			want: []string{"address: ", "tls_config: cert_file and key_file", "tls_config: set tls: true"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.spec.Validate()
			wantErrLines(t, err, tt.want)
			if _, nerr := probes.NewTCP(tt.spec); (nerr != nil) != (len(tt.want) > 0) {
				t.Fatalf("NewTCP error %v, Validate error %v", nerr, err)
			}
		})
	}
}

func TestNewTCPReadsTLSFilesOnce(t *testing.T) {
	tests := []struct {
		name    string
		opts    probes.TLSOptions
		wantMsg string
	}{
		{name: "missing ca_file", opts: probes.TLSOptions{CAFile: "/nonexistent/ca.pem"}, wantMsg: "read ca_file"},
		{name: "ca_file without PEM", opts: probes.TLSOptions{CAFile: "tcp_test.go"}, wantMsg: "no PEM certificates found"},
		{name: "missing client cert", opts: probes.TLSOptions{CertFile: "/nonexistent/c.pem", KeyFile: "/nonexistent/k.pem"}, wantMsg: "load client certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := probes.NewTCP(probes.TCPSpec{Address: "127.0.0.1:443", TLS: true, TLSConfig: tt.opts})
			if err == nil || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("NewTCP error %v, want %q", err, tt.wantMsg)
			}
		})
	}
}
