package probestest

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"testing"
	"time"
)

func TestNewCA(t *testing.T) {
	ca := NewCA(t)
	if !ca.Cert.IsCA || ca.Cert.Subject.CommonName != "Vantage Test CA" {
		t.Fatalf("CA cert: IsCA=%v CN=%q", ca.Cert.IsCA, ca.Cert.Subject.CommonName)
	}
	now := time.Now()
	if !ca.Cert.NotBefore.Before(now.Add(-50*time.Minute)) || ca.Cert.NotAfter.Before(now.AddDate(9, 11, 0)) {
		t.Errorf("CA validity %v .. %v, want now-1h .. now+10y", ca.Cert.NotBefore, ca.Cert.NotAfter)
	}
	block, _ := pem.Decode(ca.PEM)
	if block == nil || block.Type != "CERTIFICATE" || !bytes.Equal(block.Bytes, ca.Cert.Raw) {
		t.Fatalf("PEM does not hold the CA certificate")
	}
	data, err := os.ReadFile(ca.WriteFile(t))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !bytes.Equal(data, ca.PEM) || !pool.AppendCertsFromPEM(data) {
		t.Fatalf("WriteFile wrote %q, want the CA PEM", data)
	}
}

func TestIssueVerify(t *testing.T) {
	ca, other := NewCA(t), NewCA(t)
	now := time.Now()
	tests := []struct {
		name    string
		opts    CertOptions
		host    string
		roots   *x509.CertPool
		noInter bool // do not pass the served intermediate to Verify
		wantCN  string
		wantLen int // expected verified chain length
		wantErr verifyErr
	}{
		{name: "default localhost", host: "localhost", wantCN: "localhost", wantLen: 2},
		{name: "default ip", host: "127.0.0.1", wantCN: "localhost", wantLen: 2},
		{name: "dns names", opts: CertOptions{DNSNames: []string{"a.example", "b.example"}}, host: "b.example", wantCN: "a.example", wantLen: 2},
		{name: "explicit cn", opts: CertOptions{CommonName: "probe", IPs: []net.IP{net.ParseIP("::1")}}, host: "::1", wantCN: "probe", wantLen: 2},
		{name: "wrong host", host: "other.example", wantErr: errHostname},
		{name: "names given, no default ip", opts: CertOptions{DNSNames: []string{"a.example"}}, host: "127.0.0.1", wantErr: errHostname},
		{name: "expired", opts: CertOptions{NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-24 * time.Hour)}, host: "localhost", wantErr: errExpired},
		{name: "not yet valid", opts: CertOptions{NotBefore: now.Add(24 * time.Hour)}, host: "localhost", wantErr: errExpired},
		{name: "other ca", host: "localhost", roots: other.Pool(), wantErr: errUnknownAuthority},
		{name: "intermediate", opts: CertOptions{Intermediate: true}, host: "localhost", wantCN: "localhost", wantLen: 3},
		{name: "intermediate not sent", opts: CertOptions{Intermediate: true}, host: "localhost", noInter: true, wantErr: errUnknownAuthority},
		{name: "intermediate expired", opts: CertOptions{Intermediate: true, IntermediateNotAfter: now.Add(-time.Minute)}, host: "localhost", wantErr: errExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ca.Issue(t, tt.opts)
			wantChain := 1
			if tt.opts.Intermediate {
				wantChain = 2
			}
			if len(c.Certificate) != wantChain || c.Leaf == nil || !bytes.Equal(c.Leaf.Raw, c.Certificate[0]) {
				t.Fatalf("chain has %d certs (want %d), Leaf set: %v", len(c.Certificate), wantChain, c.Leaf != nil)
			}
			if c.Leaf.IsCA {
				t.Errorf("leaf is a CA")
			}
			roots := tt.roots
			if roots == nil {
				roots = ca.Pool()
			}
			inter := x509.NewCertPool()
			if !tt.noInter {
				for _, der := range c.Certificate[1:] {
					ic, err := x509.ParseCertificate(der)
					if err != nil {
						t.Fatal(err)
					}
					inter.AddCert(ic)
				}
			}
			chains, err := c.Leaf.Verify(x509.VerifyOptions{DNSName: tt.host, Roots: roots, Intermediates: inter})
			checkVerify(t, chains, err, tt.wantErr, tt.wantLen)
			if err == nil && c.Leaf.Subject.CommonName != tt.wantCN {
				t.Errorf("CN = %q, want %q", c.Leaf.Subject.CommonName, tt.wantCN)
			}
		})
	}
}

// verifyErr names the outcome expected from x509 verification.
type verifyErr int

const (
	verifyOK            verifyErr = iota
	errHostname                   // x509.HostnameError
	errExpired                    // x509.CertificateInvalidError with Reason Expired
	errUnknownAuthority           // x509.UnknownAuthorityError
)

// checkVerify asserts the outcome of x509 verification: success with a chain
// of wantLen, or an error of the wanted type.
func checkVerify(t *testing.T, chains [][]*x509.Certificate, err error, want verifyErr, wantLen int) {
	t.Helper()
	var (
		hostErr    x509.HostnameError
		invalidErr x509.CertificateInvalidError
		unknownErr x509.UnknownAuthorityError
	)
	switch want {
	case verifyOK:
		if err != nil {
			t.Fatalf("verify: %v", err)
		}
		if len(chains) == 0 || len(chains[0]) != wantLen {
			t.Fatalf("verified chain %v, want length %d", chains, wantLen)
		}
	case errHostname:
		if !errors.As(err, &hostErr) {
			t.Fatalf("verify error = %T %v, want x509.HostnameError", err, err)
		}
	case errExpired:
		if !errors.As(err, &invalidErr) || invalidErr.Reason != x509.Expired {
			t.Fatalf("verify error = %T %v, want x509.CertificateInvalidError (Expired)", err, err)
		}
	case errUnknownAuthority:
		if !errors.As(err, &unknownErr) {
			t.Fatalf("verify error = %T %v, want x509.UnknownAuthorityError", err, err)
		}
	}
}

func TestSelfSigned(t *testing.T) {
	ca := NewCA(t)
	c := SelfSigned(t, CertOptions{DNSNames: []string{"self.example"}})
	if c.Leaf == nil || c.Leaf.IsCA || len(c.Certificate) != 1 {
		t.Fatalf("self-signed: Leaf=%v chain=%d", c.Leaf, len(c.Certificate))
	}
	if err := c.Leaf.CheckSignatureFrom(c.Leaf); err == nil {
		t.Errorf("a non-CA certificate must not be accepted as its own issuer")
	}
	if err := c.Leaf.CheckSignature(c.Leaf.SignatureAlgorithm, c.Leaf.RawTBSCertificate, c.Leaf.Signature); err != nil {
		t.Errorf("not signed by its own key: %v", err)
	}
	_, err := c.Leaf.Verify(x509.VerifyOptions{DNSName: "self.example", Roots: ca.Pool()})
	checkVerify(t, nil, err, errUnknownAuthority, 0)
	pinned := x509.NewCertPool()
	pinned.AddCert(c.Leaf)
	chains, err := c.Leaf.Verify(x509.VerifyOptions{DNSName: "self.example", Roots: pinned})
	checkVerify(t, chains, err, verifyOK, 1)
}

func TestWriteKeyPair(t *testing.T) {
	ca := NewCA(t)
	for _, inter := range []bool{false, true} {
		c := ca.Issue(t, CertOptions{Intermediate: inter})
		certFile, keyFile := WriteKeyPair(t, c)
		got, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			t.Fatalf("load key pair: %v", err)
		}
		if len(got.Certificate) != len(c.Certificate) {
			t.Fatalf("loaded %d certs, want %d", len(got.Certificate), len(c.Certificate))
		}
		for i := range got.Certificate {
			if !bytes.Equal(got.Certificate[i], c.Certificate[i]) {
				t.Errorf("cert %d differs", i)
			}
		}
	}
}
