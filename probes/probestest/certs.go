package probestest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// CA is an in-memory certificate authority with an ECDSA P-256 key.
type CA struct {
	// Cert is the self-signed CA certificate.
	Cert *x509.Certificate
	// Key is the CA's private key.
	Key crypto.Signer
	// PEM is Cert, PEM encoded.
	PEM []byte
}

// CertOptions describes a certificate issued by CA.Issue or SelfSigned.
// The zero value gives a certificate for localhost and 127.0.0.1, valid from
// an hour ago for 90 days.
type CertOptions struct {
	// CommonName is the subject CN; default: the first DNS name or "localhost".
	CommonName string
	// DNSNames are the DNS SANs; default: ["localhost"] (and IP 127.0.0.1)
	// when DNSNames and IPs are both empty.
	DNSNames []string
	// IPs are the IP SANs.
	IPs []net.IP
	// NotBefore is the start of validity; zero means an hour ago.
	NotBefore time.Time
	// NotAfter is the end of validity; zero means 90 days from now.
	NotAfter time.Time
	// Intermediate, if true, signs the leaf with an intermediate CA (itself
	// signed by the CA) and puts the chain [leaf, intermediate] in the
	// returned certificate. Ignored by SelfSigned.
	Intermediate bool
	// IntermediateNotAfter is the end of the intermediate's validity; zero
	// means 5 years from now.
	IntermediateNotAfter time.Time
}

// NewCA returns a self-signed CA with CN "Vantage Test CA", valid from an
// hour ago for 10 years.
func NewCA(t testing.TB) *CA {
	t.Helper()
	now := time.Now()
	key := newKey(t)
	tmpl := caTemplate(t, "Vantage Test CA", now.Add(-time.Hour), now.AddDate(10, 0, 0))
	cert := createCert(t, tmpl, tmpl, key, key)
	return &CA{Cert: cert, Key: key, PEM: pemCert(cert.Raw)}
}

// WriteFile writes the CA certificate as PEM into t.TempDir() and returns
// the file's path.
func (ca *CA) WriteFile(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, ca.PEM, 0o600); err != nil {
		t.Fatalf("write CA file: %v", err)
	}
	return path
}

// Pool returns a certificate pool holding only the CA certificate.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// Issue returns a leaf certificate signed by the CA (or by a fresh
// intermediate when o.Intermediate is set), usable for both server and
// client authentication. Certificate holds the chain without the root; Leaf
// is set.
func (ca *CA) Issue(t testing.TB, o CertOptions) tls.Certificate {
	t.Helper()
	parent, parentKey := ca.Cert, ca.Key
	var chain [][]byte
	if o.Intermediate {
		now := time.Now()
		notAfter := o.IntermediateNotAfter
		if notAfter.IsZero() {
			notAfter = now.AddDate(5, 0, 0)
		}
		ikey := newKey(t)
		tmpl := caTemplate(t, "Vantage Test Intermediate CA", now.Add(-time.Hour), notAfter)
		tmpl.MaxPathLen, tmpl.MaxPathLenZero = 0, true
		parent = createCert(t, tmpl, ca.Cert, ikey, ca.Key)
		parentKey = ikey
		chain = append(chain, parent.Raw)
	}
	key := newKey(t)
	leaf := createCert(t, leafTemplate(t, o), parent, key, parentKey)
	return tls.Certificate{
		Certificate: append([][]byte{leaf.Raw}, chain...),
		PrivateKey:  key,
		Leaf:        leaf,
	}
}

// SelfSigned returns a self-signed leaf certificate (not a CA) described by
// o; o.Intermediate is ignored.
func SelfSigned(t testing.TB, o CertOptions) tls.Certificate {
	t.Helper()
	key := newKey(t)
	tmpl := leafTemplate(t, o)
	leaf := createCert(t, tmpl, tmpl, key, key)
	return tls.Certificate{Certificate: [][]byte{leaf.Raw}, PrivateKey: key, Leaf: leaf}
}

// WriteKeyPair writes c's chain and private key as PEM files into
// t.TempDir(), loadable with tls.LoadX509KeyPair.
func WriteKeyPair(t testing.TB, c tls.Certificate) (certFile, keyFile string) {
	t.Helper()
	var certPEM []byte
	for _, der := range c.Certificate {
		certPEM = append(certPEM, pemCert(der)...)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		t.Fatalf("marshal private key: %v", err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatalf("write cert file: %v", err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatalf("write key file: %v", err)
	}
	return certFile, keyFile
}

func caTemplate(t testing.TB, cn string, notBefore, notAfter time.Time) *x509.Certificate {
	t.Helper()
	return &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"Vantage Test"}},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
}

func leafTemplate(t testing.TB, o CertOptions) *x509.Certificate {
	t.Helper()
	now := time.Now()
	dnsNames, ips := o.DNSNames, o.IPs
	if len(dnsNames) == 0 && len(ips) == 0 {
		dnsNames, ips = []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	cn := o.CommonName
	if cn == "" {
		cn = "localhost"
		if len(dnsNames) > 0 {
			cn = dnsNames[0]
		}
	}
	notBefore, notAfter := o.NotBefore, o.NotAfter
	if notBefore.IsZero() {
		notBefore = now.Add(-time.Hour)
	}
	if notAfter.IsZero() {
		notAfter = now.AddDate(0, 0, 90)
	}
	return &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: cn},
		DNSNames:              dnsNames,
		IPAddresses:           ips,
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
}

func createCert(t testing.TB, tmpl, parent *x509.Certificate, key *ecdsa.PrivateKey, parentKey crypto.Signer) *x509.Certificate {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		t.Fatalf("create certificate %q: %v", tmpl.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("parse certificate %q: %v", tmpl.Subject.CommonName, err)
	}
	return cert
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generate key: %v", err)
	}
	return key
}

func serial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatalf("generate serial: %v", err)
	}
	return n
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
