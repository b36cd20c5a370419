package probestest

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TLSOptions configures StartTLS.
type TLSOptions struct {
	// ClientCA, if set, makes the server require a client certificate
	// signed by this CA.
	ClientCA *CA
	// MinVersion and MaxVersion bound the TLS versions offered (tls.VersionTLS12,
	// tls.VersionTLS13, …); zero uses crypto/tls defaults.
	MinVersion, MaxVersion uint16
}

// StartTLS listens on 127.0.0.1, completes a TLS handshake with cert on each
// accepted connection and then runs handle with the *tls.Conn in its own
// goroutine; the connection is closed when handle returns. A nil handle
// closes the connection right after the handshake; connections whose
// handshake fails are closed. handle must return once its connection is
// closed, which cleanup does. It returns "127.0.0.1:PORT".
//
// With TLS 1.3 a missing or rejected client certificate is reported to the
// client on its first read, not by its Handshake.
func StartTLS(t testing.TB, cert tls.Certificate, o TLSOptions, handle func(net.Conn)) string {
	t.Helper()
	cfg := &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   o.MinVersion,
		MaxVersion:   o.MaxVersion,
	}
	if o.ClientCA != nil {
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
		cfg.ClientCAs = o.ClientCA.Pool()
	}
	return serveTCP(t, func(ctx context.Context, c net.Conn) {
		tc := tls.Server(c, cfg)
		defer tc.Close() // sends close_notify when the handshake succeeded
		if err := tc.HandshakeContext(ctx); err != nil {
			return
		}
		if handle != nil {
			handle(tc)
		}
	})
}

// StartHTTPS starts an httptest.Server for h serving TLS with cert and
// offering HTTP/2 and HTTP/1.1 via ALPN; it is closed on cleanup. The
// server's Client() trusts cert's leaf directly.
func StartHTTPS(t testing.TB, cert tls.Certificate, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.EnableHTTP2 = true
	srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{cert},
		NextProtos:   []string{"h2", "http/1.1"},
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}
