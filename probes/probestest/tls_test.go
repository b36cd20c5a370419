package probestest

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestStartTLS(t *testing.T) {
	ca, other := NewCA(t), NewCA(t)
	hello := func(c net.Conn) { _, _ = io.WriteString(c, "hello\n") }
	goodClient := ca.Issue(t, CertOptions{CommonName: "client"})
	badClient := other.Issue(t, CertOptions{CommonName: "client"})
	tests := []struct {
		name          string
		opts          TLSOptions
		handle        func(net.Conn)
		clientCert    *tls.Certificate
		clientMax     uint16
		wantHandshake bool // handshake must succeed
		wantRead      string
		wantEOF       bool   // first read gets io.EOF
		wantAlert     string // first read gets this TLS alert from the server
		wantVersion   uint16
	}{
		{name: "handle runs", handle: hello, wantHandshake: true, wantRead: "hello\n", wantVersion: tls.VersionTLS13},
		{name: "nil handle closes", wantHandshake: true, wantEOF: true},
		{name: "client cert missing", opts: TLSOptions{ClientCA: ca}, handle: hello, wantHandshake: true, wantAlert: "certificate required"},
		{name: "client cert valid", opts: TLSOptions{ClientCA: ca}, handle: hello, clientCert: &goodClient, wantHandshake: true, wantRead: "hello\n"},
		{name: "client cert other ca", opts: TLSOptions{ClientCA: ca}, handle: hello, clientCert: &badClient, wantHandshake: true, wantAlert: "unknown certificate authority"},
		{name: "client cert missing tls12", opts: TLSOptions{ClientCA: ca, MaxVersion: tls.VersionTLS12}, handle: hello},
		{name: "max tls12", opts: TLSOptions{MaxVersion: tls.VersionTLS12}, handle: hello, wantHandshake: true, wantRead: "hello\n", wantVersion: tls.VersionTLS12},
		{name: "min tls13 vs client tls12", opts: TLSOptions{MinVersion: tls.VersionTLS13}, handle: hello, clientMax: tls.VersionTLS12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := StartTLS(t, ca.Issue(t, CertOptions{Intermediate: true}), tt.opts, tt.handle)
			cfg := &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost", MaxVersion: tt.clientMax}
			if tt.clientCert != nil {
				cfg.Certificates = []tls.Certificate{*tt.clientCert}
			}
			d := &tls.Dialer{Config: cfg}
			conn, err := d.DialContext(t.Context(), "tcp", addr)
			if !tt.wantHandshake {
				if err == nil {
					conn.Close()
					t.Fatalf("handshake succeeded, want failure")
				}
				return
			}
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer conn.Close()
			tc := conn.(*tls.Conn)
			if got := len(tc.ConnectionState().VerifiedChains[0]); got != 3 {
				t.Errorf("verified chain length %d, want 3 (leaf, intermediate, root)", got)
			}
			if tt.wantVersion != 0 && tc.ConnectionState().Version != tt.wantVersion {
				t.Errorf("version %x, want %x", tc.ConnectionState().Version, tt.wantVersion)
			}
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			line, err := bufio.NewReader(conn).ReadString('\n')
			switch {
			case tt.wantRead != "":
				if err != nil || line != tt.wantRead {
					t.Fatalf("read %q, %v; want %q", line, err, tt.wantRead)
				}
			case tt.wantEOF:
				if !errors.Is(err, io.EOF) {
					t.Fatalf("read %q, %v; want EOF", line, err)
				}
			default: // rejected client certificate: an alert, not data or EOF
				if err == nil || !strings.Contains(err.Error(), "remote error: tls: "+tt.wantAlert) {
					t.Fatalf("read %q, %v; want alert %q", line, err, tt.wantAlert)
				}
			}
		})
	}
}

func TestStartHTTPS(t *testing.T) {
	ca := NewCA(t)
	srv := StartHTTPS(t, ca.Issue(t, CertOptions{Intermediate: true}), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Proto)
	}))
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}, ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	tests := []struct {
		name   string
		client *http.Client
		want   string
	}{
		{name: "ca-trusting client", client: &http.Client{Transport: tr}, want: "HTTP/2.0"},
		{name: "server client", client: srv.Client(), want: "HTTP/2.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := tt.client.Do(req)
			if err != nil {
				t.Fatalf("get: %v", err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil || string(body) != tt.want {
				t.Fatalf("body %q, %v; want %q", body, err, tt.want)
			}
			if resp.TLS == nil || len(resp.TLS.PeerCertificates) != 2 {
				t.Fatalf("peer sent %v, want leaf and intermediate", resp.TLS)
			}
		})
	}
}
