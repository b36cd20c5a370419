package probes_test

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"net"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/probes"
	"github.com/vantageprobe/vantage/probes/probestest"
)

// TestTLSMinVersionOffered: tls_config.min_version bounds the handshake.
func TestTLSMinVersionOffered(t *testing.T) {
	ca := probestest.NewCA(t)
	caFile := ca.WriteFile(t)
	old := probestest.StartTLS(t, ca.Issue(t, probestest.CertOptions{}), probestest.TLSOptions{MaxVersion: tls.VersionTLS12}, nil)
	tests := []struct {
		name     string
		min      probes.TLSVersion
		sentinel error
		version  string
	}{
		{name: "default", version: "TLS 1.2"},
		{name: "1.2 allowed", min: tls.VersionTLS12, version: "TLS 1.2"},
		{name: "1.3 required", min: tls.VersionTLS13, sentinel: probes.ErrTLSHandshake},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := probes.TCPSpec{Address: old, TLS: true, TLSConfig: probes.TLSOptions{CAFile: caFile, MinVersion: tt.min}}
			r := probeOnce(t, newTCP(t, spec), 5*time.Second)
			wantOutcome(t, r, tt.sentinel == nil, tt.sentinel)
			if tt.sentinel == nil && r.TLS.Version != tt.version {
				t.Fatalf("version %q, want %q", r.TLS.Version, tt.version)
			}
		})
	}
}

// TestTLSLeafDetail: the leaf's fingerprint and DNS names, and the earliest
// expiry among the presented certificates, verified or not.
func TestTLSLeafDetail(t *testing.T) {
	ca := probestest.NewCA(t)
	leafExpiry := time.Now().Add(30 * 24 * time.Hour).Truncate(time.Second)
	cert := ca.Issue(t, probestest.CertOptions{DNSNames: []string{"localhost", "alt.test"}, NotAfter: leafExpiry, Intermediate: true,
		IntermediateNotAfter: time.Now().Add(20 * 24 * time.Hour).Truncate(time.Second)})
	addr := probestest.StartTLS(t, cert, probestest.TLSOptions{}, nil)
	for _, verify := range []bool{true, false} {
		spec := probes.TCPSpec{Address: "localhost:" + portOf(t, addr), TLS: true, TLSConfig: probes.TLSOptions{InsecureSkipVerify: !verify}}
		if verify {
			spec.TLSConfig.CAFile = ca.WriteFile(t)
		}
		r := probeOnce(t, newTCP(t, spec), 5*time.Second)
		wantOutcome(t, r, true, nil)
		sum := sha256.Sum256(cert.Leaf.Raw)
		d := r.TLS
		if d.Fingerprint != hex.EncodeToString(sum[:]) || len(d.DNSNames) != 2 || d.DNSNames[1] != "alt.test" || d.Verified != verify {
			t.Fatalf("verify %v: detail %+v", verify, d)
		}
		if want := time.Now().Add(20 * 24 * time.Hour); d.PresentedExpiry.After(want) || d.PresentedExpiry.Before(want.Add(-time.Minute)) {
			t.Fatalf("presented expiry %s, want the intermediate's, about %s", d.PresentedExpiry, want)
		}
		if rep := probes.NewReport("c", r); rep.TLS.Fingerprint != d.Fingerprint {
			t.Fatalf("report fingerprint %q", rep.TLS.Fingerprint)
		}
	}
}

func portOf(t *testing.T, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return port
}
