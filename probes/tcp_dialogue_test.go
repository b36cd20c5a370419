package probes_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/probes"
	"github.com/vantageprobe/vantage/probes/probestest"
)

// ircServer pings each client with a token and welcomes the client that
// answers with the same token; any other answer closes the connection.
func ircServer(t *testing.T) string {
	t.Helper()
	return probestest.ServeTCP(t, func(_ context.Context, c net.Conn) {
		r := bufio.NewReader(c)
		if _, err := io.WriteString(c, ":srv NOTICE * :hi\r\nPING :tok3n\r\n"); err != nil {
			return
		}
		line, err := r.ReadString('\n')
		if err != nil || line != "PONG tok3n\n" {
			return
		}
		_, _ = io.WriteString(c, ":srv 001 prober :Welcome\r\n")
		_, _ = io.Copy(io.Discard, c)
	})
}

// startTLSServer answers STARTTLS with a TLS handshake using cert.
func startTLSServer(t *testing.T, cert tls.Certificate) string {
	t.Helper()
	return probestest.ServeTCP(t, func(_ context.Context, c net.Conn) {
		r := bufio.NewReader(c)
		if _, err := io.WriteString(c, "220 ready\r\n"); err != nil {
			return
		}
		if line, err := r.ReadString('\n'); err != nil || line != "STARTTLS\r\n" {
			return
		}
		if _, err := io.WriteString(c, "220 go ahead\r\n"); err != nil {
			return
		}
		tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}})
		if err := tc.Handshake(); err != nil {
			return
		}
		_, _ = io.WriteString(tc, "250 secure\r\n")
		_, _ = io.Copy(io.Discard, tc)
	})
}

func TestTCPDialogue(t *testing.T) {
	ca := probestest.NewCA(t)
	caFile := ca.WriteFile(t)
	irc := ircServer(t)
	starttls := startTLSServer(t, ca.Issue(t, probestest.CertOptions{}))
	lines := tcpBannerThenClose(t, "a first line\r\nb second line\r\nc third\r\n")
	long := tcpBannerThenClose(t, strings.Repeat("x", 70<<10)+"\n")
	step := func(expect, send string, starttls bool) probes.TCPStep {
		st := probes.TCPStep{Send: send, StartTLS: starttls}
		if expect != "" {
			st.Expect = mustPattern(expect)
		}
		return st
	}
	tests := []struct {
		name     string
		addr     string
		steps    []probes.TCPStep
		tlsCA    string
		ok       bool
		sentinel error
		msg      string
		wantTLS  bool
	}{
		{name: "back-reference", addr: irc, steps: []probes.TCPStep{step(`PING :(\S+)`, "PONG ${1}\n", false), step("^:srv 001", "", false)}, ok: true},
		{name: "short back-reference", addr: irc, steps: []probes.TCPStep{step(`PING :(\S+)`, "PONG $1\n", false), step("^:srv 001", "", false)}, ok: true},
		{name: "named back-reference", addr: irc, steps: []probes.TCPStep{step(`PING :(?P<tok>\S+)`, "PONG ${tok}\n", false), step(" 001 ", "", false)}, ok: true},
		{name: "wrong answer", addr: irc, steps: []probes.TCPStep{step(`PING :(\S+)`, "PONG x$1\n", false), step("^:srv 001", "", false)},
			sentinel: probes.ErrExpectMismatch, msg: `dialogue[1]: no line matched "^:srv 001" before the connection closed`},
		{name: "matches per line, without the line ending", addr: lines, steps: []probes.TCPStep{step("^b second line$", "", false), step("^c", "", false)}, ok: true},
		{name: "lines are not read again", addr: lines, steps: []probes.TCPStep{step("^b", "", false), step("^a", "", false)},
			sentinel: probes.ErrExpectMismatch, msg: `(last line "c third")`},
		{name: "starttls", addr: starttls, tlsCA: caFile, steps: []probes.TCPStep{step("^220 ", "STARTTLS\r\n", false), step("^220 go ahead", "", true), step("^250 secure", "", false)},
			ok: true, wantTLS: true},
		{name: "starttls, untrusted certificate", addr: starttls, steps: []probes.TCPStep{step("^220 ", "STARTTLS\r\n", false), step("^220 go ahead", "", true)},
			sentinel: probes.ErrCertInvalid},
		{name: "line too long", addr: long, steps: []probes.TCPStep{step("y", "", false)}, sentinel: probes.ErrProtocol, msg: "token too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := probes.TCPSpec{Address: tt.addr, Dialogue: tt.steps, TLSConfig: probes.TLSOptions{CAFile: tt.tlsCA}}
			r := probeOnce(t, newTCP(t, spec), 5*time.Second)
			wantOutcome(t, r, tt.ok, tt.sentinel)
			if tt.msg != "" && !strings.Contains(r.Err.Error(), tt.msg) {
				t.Fatalf("error %q does not contain %q", r.Err, tt.msg)
			}
			if (r.TLS != nil) != tt.wantTLS {
				t.Fatalf("TLS detail %+v, want one: %v", r.TLS, tt.wantTLS)
			}
			if tt.wantTLS && (!r.TLS.Verified || r.Phases.TLS <= 0 || r.TLS.DNSNames[0] != "localhost" || len(r.TLS.Fingerprint) != 64) {
				t.Fatalf("TLS detail %+v, phases %+v", r.TLS, r.Phases)
			}
			if r.TCP == nil || r.TCP.Received == 0 || r.Phases.Processing <= 0 {
				t.Fatalf("detail %+v phases %+v: nothing received or timed", r.TCP, r.Phases)
			}
		})
	}
}

// TestTCPDialogueTimeout: a step waiting for a line honours the deadline.
func TestTCPDialogueTimeout(t *testing.T) {
	addr := probestest.Hang(t)
	p := newTCP(t, probes.TCPSpec{Address: addr, Dialogue: []probes.TCPStep{{Expect: mustPattern("never")}}})
	r, took := probeTimed(t, p, 200*time.Millisecond)
	wantOutcome(t, r, false, probes.ErrTimeout)
	if took > 300*time.Millisecond {
		t.Fatalf("took %s", took)
	}
}

// TestTCPSourceIP: the connection comes from source_ip.
func TestTCPSourceIP(t *testing.T) {
	var (
		mu   sync.Mutex
		from string
	)
	addr := probestest.ServeTCP(t, func(_ context.Context, c net.Conn) {
		mu.Lock()
		from, _, _ = net.SplitHostPort(c.RemoteAddr().String())
		mu.Unlock()
	})
	r := probeOnce(t, newTCP(t, probes.TCPSpec{Address: addr, SourceIP: "127.0.0.2"}), 5*time.Second)
	wantOutcome(t, r, true, nil)
	if r.RemoteAddr != addr {
		t.Errorf("RemoteAddr %q, want %q", r.RemoteAddr, addr)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		mu.Lock()
		got := from
		mu.Unlock()
		if got == "127.0.0.2" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("connection came from %q, want 127.0.0.2", got)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestTCPDialogueValidate(t *testing.T) {
	tests := []struct {
		spec probes.TCPSpec
		want string
	}{
		{probes.TCPSpec{Address: "a:1", Send: "x", Dialogue: []probes.TCPStep{{Send: "y"}}}, "dialogue: set either send and expect or a dialogue"},
		{probes.TCPSpec{Address: "a:1", Dialogue: []probes.TCPStep{{}}}, "dialogue[0]: set expect, send or starttls"},
		{probes.TCPSpec{Address: "a:1", TLS: true, Dialogue: []probes.TCPStep{{StartTLS: true}}}, "dialogue[0].starttls: the connection already uses TLS"},
		{probes.TCPSpec{Address: "a:1", SourceIP: "nope"}, `source_ip: "nope" is not an IP address`},
		{probes.TCPSpec{Address: "a:1", IPVersion: probes.IPv4, SourceIP: "::1"}, "source_ip: ::1 is not an IPv4 address"},
		{probes.TCPSpec{Address: "a:1", IPVersion: probes.IPv4, PreferIPVersion: probes.IPv6}, "prefer_ip_version: IPv6 contradicts ip_version 4"},
	}
	for _, tt := range tests {
		err := tt.spec.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate(%+v) = %v, want %q", tt.spec, err, tt.want)
		}
	}
	ok := probes.TCPSpec{Address: "a:1", TLSConfig: probes.TLSOptions{ServerName: "x"}, Dialogue: []probes.TCPStep{{StartTLS: true}}}
	if err := ok.Validate(); err != nil {
		t.Errorf("tls_config with starttls: %v", err)
	}
}
