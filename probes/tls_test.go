package probes_test

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/probes"
	"github.com/vantageprobe/vantage/probes/probestest"
)

func newTLS(t testing.TB, spec probes.TLSSpec) *probes.TLSProber {
	t.Helper()
	p, err := probes.NewTLS(spec)
	if err != nil {
		t.Fatalf("NewTLS: %v", err)
	}
	return p
}

// certCase is one certificate served to both the TLS and the HTTP probe.
type certCase struct {
	name     string
	cert     func(t testing.TB, ca *probestest.CA) tls.Certificate
	trustCA  bool // ca_file set
	insecure bool
	minDays  *int
	ok       bool
	degraded bool
	sentinel error // failure (or warning when degraded)
	msg      string
}

func certCases() []certCase {
	now := time.Now()
	return []certCase{
		{name: "valid", cert: func(t testing.TB, ca *probestest.CA) tls.Certificate { return ca.Issue(t, probestest.CertOptions{}) }, trustCA: true, ok: true},
		{name: "valid via intermediate", cert: func(t testing.TB, ca *probestest.CA) tls.Certificate {
			return ca.Issue(t, probestest.CertOptions{Intermediate: true})
		}, trustCA: true, ok: true},
		{name: "expiring in 5 days", cert: func(t testing.TB, ca *probestest.CA) tls.Certificate {
			return ca.Issue(t, probestest.CertOptions{NotAfter: now.Add(5*24*time.Hour + time.Hour)})
		}, trustCA: true, ok: true, degraded: true, sentinel: probes.ErrCertExpiring, msg: "in 5 days, fewer than 14"},
		{name: "expiring in 5 days, warning off", cert: func(t testing.TB, ca *probestest.CA) tls.Certificate {
			return ca.Issue(t, probestest.CertOptions{NotAfter: now.Add(5*24*time.Hour + time.Hour)})
		}, trustCA: true, minDays: intp(0), ok: true},
		{name: "intermediate expiring first", cert: func(t testing.TB, ca *probestest.CA) tls.Certificate {
			return ca.Issue(t, probestest.CertOptions{Intermediate: true, IntermediateNotAfter: now.Add(3*24*time.Hour + time.Hour)})
		}, trustCA: true, ok: true, degraded: true, sentinel: probes.ErrCertExpiring, msg: "in 3 days"},
		{name: "expired", cert: func(t testing.TB, ca *probestest.CA) tls.Certificate {
			return ca.Issue(t, probestest.CertOptions{NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-24 * time.Hour)})
		}, trustCA: true, sentinel: probes.ErrCertInvalid, msg: "expired"},
		{name: "wrong host", cert: func(t testing.TB, ca *probestest.CA) tls.Certificate {
			return ca.Issue(t, probestest.CertOptions{DNSNames: []string{"other.example"}})
		}, trustCA: true, sentinel: probes.ErrCertInvalid, msg: "127.0.0.1"},
		{name: "self-signed", cert: func(t testing.TB, _ *probestest.CA) tls.Certificate {
			return probestest.SelfSigned(t, probestest.CertOptions{})
		},
			trustCA: true, sentinel: probes.ErrCertInvalid, msg: "unknown authority"},
		{name: "untrusted CA (system roots)", cert: func(t testing.TB, ca *probestest.CA) tls.Certificate { return ca.Issue(t, probestest.CertOptions{}) },
			sentinel: probes.ErrCertInvalid},
		{name: "self-signed, insecure_skip_verify", cert: func(t testing.TB, _ *probestest.CA) tls.Certificate {
			return probestest.SelfSigned(t, probestest.CertOptions{})
		},
			insecure: true, ok: true},
	}
}

func TestTLSProbeCertificates(t *testing.T) {
	ca := probestest.NewCA(t)
	caFile := ca.WriteFile(t)
	for _, tt := range certCases() {
		t.Run(tt.name, func(t *testing.T) {
			addr := probestest.StartTLS(t, tt.cert(t, ca), probestest.TLSOptions{}, nil)
			spec := probes.TLSSpec{Address: addr, MinDaysLeft: tt.minDays,
				TLSOptions: probes.TLSOptions{InsecureSkipVerify: tt.insecure}}
			if tt.trustCA {
				spec.TLSOptions.CAFile = caFile
			}
			r := probeOnce(t, newTLS(t, spec), 5*time.Second)
			checkCertOutcome(t, tt, r)
			if r.TLS == nil || r.TLS.Subject == "" || r.TLS.NotAfter.IsZero() || r.TLS.Version == "" {
				t.Fatalf("certificate not described: %+v", r.TLS)
			}
			if r.Phases.TLS <= 0 || r.Phases.Connect <= 0 {
				t.Fatalf("phases: %+v", r.Phases)
			}
		})
	}
}

func checkCertOutcome(t *testing.T, tt certCase, r probes.Result) {
	t.Helper()
	if r.OK != tt.ok || r.Degraded != tt.degraded {
		t.Fatalf("ok=%v degraded=%v err=%v warning=%v; want ok=%v degraded=%v", r.OK, r.Degraded, r.Err, r.Warning, tt.ok, tt.degraded)
	}
	got := r.Err
	if tt.degraded {
		got = r.Warning
	}
	if tt.sentinel != nil {
		wantErrIs(t, got, tt.sentinel)
		if !strings.Contains(got.Error(), tt.msg) {
			t.Fatalf("%q does not mention %q", got, tt.msg)
		}
	} else if got != nil {
		t.Fatalf("unexpected error %v", got)
	}
}

func TestHTTPSCertificates(t *testing.T) {
	ca := probestest.NewCA(t)
	caFile := ca.WriteFile(t)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	for _, tt := range certCases() {
		if tt.degraded || tt.minDays != nil {
			continue // expiry warnings are the TLS check's; HTTP has cert_min_days (below)
		}
		t.Run(tt.name, func(t *testing.T) {
			srv := probestest.StartHTTPS(t, tt.cert(t, ca), ok)
			spec := probes.HTTPSpec{URL: srv.URL, TLSConfig: probes.TLSOptions{InsecureSkipVerify: tt.insecure}}
			if tt.trustCA {
				spec.TLSConfig.CAFile = caFile
			}
			r := probeOnce(t, newHTTP(t, spec), 5*time.Second)
			checkCertOutcome(t, tt, r)
			if tt.ok && (r.HTTP.Version != "HTTP/2.0" || r.TLS == nil || r.Phases.TLS <= 0) {
				t.Fatalf("want HTTP/2 over TLS with TLS detail: %+v %+v %+v", r.HTTP, r.TLS, r.Phases)
			}
		})
	}
}

func TestHTTPSCertMinDays(t *testing.T) {
	ca := probestest.NewCA(t)
	cert := ca.Issue(t, probestest.CertOptions{NotAfter: time.Now().Add(5*24*time.Hour + time.Hour)})
	srv := probestest.StartHTTPS(t, cert, http.NotFoundHandler())
	spec := probes.HTTPSpec{URL: srv.URL, TLSConfig: probes.TLSOptions{CAFile: ca.WriteFile(t)},
		Expect: probes.HTTPExpect{Status: status("404"), CertMinDays: 30}}
	r := probeOnce(t, newHTTP(t, spec), 5*time.Second)
	wantOutcome(t, r, false, probes.ErrCertExpiring)
	if r.TLS.DaysLeft != 5 {
		t.Fatalf("days left %d, want 5", r.TLS.DaysLeft)
	}
	spec.Expect.CertMinDays = 3
	wantOutcome(t, probeOnce(t, newHTTP(t, spec), 5*time.Second), true, nil)
}

func TestHTTPSClientCertificate(t *testing.T) {
	ca := probestest.NewCA(t)
	srv := startMTLS(t, ca)
	certFile, keyFile := probestest.WriteKeyPair(t, ca.Issue(t, probestest.CertOptions{CommonName: "vantage"}))
	with := probes.HTTPSpec{URL: srv, TLSConfig: probes.TLSOptions{CAFile: ca.WriteFile(t), CertFile: certFile, KeyFile: keyFile}}
	wantOutcome(t, probeOnce(t, newHTTP(t, with), 5*time.Second), true, nil)
	without := probes.HTTPSpec{URL: srv, TLSConfig: probes.TLSOptions{CAFile: ca.WriteFile(t)}}
	if r := probeOnce(t, newHTTP(t, without), 5*time.Second); r.OK {
		t.Fatal("a server requiring a client certificate accepted a probe without one")
	}
}

func startMTLS(t *testing.T, ca *probestest.CA) string {
	t.Helper()
	addr := probestest.StartTLS(t, ca.Issue(t, probestest.CertOptions{}), probestest.TLSOptions{ClientCA: ca}, func(c net.Conn) {
		buf := make([]byte, 4096)
		if _, err := c.Read(buf); err != nil {
			return
		}
		_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"))
	})
	return "https://" + addr + "/"
}

func TestTLSMinVersion(t *testing.T) {
	ca := probestest.NewCA(t)
	addr := probestest.StartTLS(t, ca.Issue(t, probestest.CertOptions{}), probestest.TLSOptions{MaxVersion: tls.VersionTLS12}, nil)
	var v13 probes.TLSVersion
	if err := v13.UnmarshalText([]byte("1.3")); err != nil {
		t.Fatal(err)
	}
	spec := probes.TLSSpec{Address: addr, MinVersion: v13, TLSOptions: probes.TLSOptions{CAFile: ca.WriteFile(t)}}
	r := probeOnce(t, newTLS(t, spec), 5*time.Second)
	wantOutcome(t, r, false, probes.ErrTLSVersion)
	if !strings.Contains(r.Err.Error(), "negotiated TLS 1.2, want at least TLS 1.3") {
		t.Fatalf("message: %v", r.Err)
	}
	spec.MinVersion = 0
	wantOutcome(t, probeOnce(t, newTLS(t, spec), 5*time.Second), true, nil)
}

func TestTLSDetail(t *testing.T) {
	ca := probestest.NewCA(t)
	notAfter := time.Now().Add(40 * 24 * time.Hour).Truncate(time.Second)
	cert := ca.Issue(t, probestest.CertOptions{CommonName: "svc.test", DNSNames: []string{"svc.test", "localhost"}, NotAfter: notAfter})
	addr := probestest.StartTLS(t, cert, probestest.TLSOptions{}, nil)
	r := probeOnce(t, newTLS(t, probes.TLSSpec{Address: addr, TLSOptions: probes.TLSOptions{CAFile: ca.WriteFile(t), ServerName: "svc.test"}}), 5*time.Second)
	wantOutcome(t, r, true, nil)
	d := r.TLS
	switch {
	case d.Subject != "CN=svc.test", !strings.Contains(d.Issuer, "Vantage Test CA"),
		strings.Join(d.SANs, ",") != "svc.test,localhost", !d.NotAfter.Equal(notAfter.UTC()),
		d.DaysLeft != 39 && d.DaysLeft != 40, d.Version != "TLS 1.3", d.Cipher == "", !d.Verified,
		!d.EarliestChainExpiry.Equal(notAfter.UTC()):
		t.Fatalf("detail = %+v (want not after %s)", d, notAfter.UTC())
	}
}

func TestTLSValidate(t *testing.T) {
	tests := []struct {
		spec probes.TLSSpec
		want string
	}{
		{probes.TLSSpec{}, "address: required"},
		{probes.TLSSpec{Address: "example.com"}, "is not host:port"},
		{probes.TLSSpec{Address: ":443"}, "has no host"},
		{probes.TLSSpec{Address: "example.com:https", MinDaysLeft: intp(-1)}, "min_days_left: must be 0 or more"},
		{probes.TLSSpec{Address: "example.com:99999"}, "no valid port"},
		{probes.TLSSpec{Address: "example.com:443", TLSOptions: probes.TLSOptions{KeyFile: "k"}}, "cert_file and key_file"},
	}
	for _, tt := range tests {
		if err := tt.spec.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate(%+v) = %v, want %q", tt.spec, err, tt.want)
		}
	}
}
