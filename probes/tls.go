package probes

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"
)

// DefaultMinDaysLeft is the certificate-expiry warning threshold of a TLS
// check: fewer days left mark the check degraded.
const DefaultMinDaysLeft = 14

// TLSSpec configures a TLS check: handshake, chain and hostname
// verification, expiry.
type TLSSpec struct {
	Address    string     `yaml:"address"` // host:port
	IPVersion  IPVersion  `yaml:"ip_version"`
	MinVersion TLSVersion `yaml:"min_version"`
	// MinDaysLeft: fewer days before the earliest expiry in the chain mark
	// the check degraded. nil means DefaultMinDaysLeft; 0 disables.
	MinDaysLeft *int       `yaml:"min_days_left"`
	TLSOptions  TLSOptions `yaml:",inline"`
}

// Validate reports every problem of the spec, each starting with its field.
func (s TLSSpec) Validate() error {
	var errs []error
	if err := validateAddress(s.Address); err != nil {
		errs = append(errs, fmt.Errorf("address: %w", err))
	}
	if s.MinDaysLeft != nil && *s.MinDaysLeft < 0 {
		errs = append(errs, fmt.Errorf("min_days_left: must be 0 or more, got %d", *s.MinDaysLeft))
	}
	if err := s.TLSOptions.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// validateAddress checks a host:port with a non-empty host and a port.
func validateAddress(a string) error {
	if a == "" {
		return errors.New("required (host:port)")
	}
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return fmt.Errorf("%q is not host:port", a)
	}
	if host == "" {
		return fmt.Errorf("%q has no host", a)
	}
	if p, err := net.LookupPort("tcp", port); err != nil || p == 0 {
		return fmt.Errorf("%q has no valid port", a)
	}
	return nil
}

// TLSVersion is a minimum TLS protocol version: "1.0", "1.1", "1.2", "1.3".
type TLSVersion uint16

// UnmarshalText parses "1.2" or "TLS1.2".
func (v *TLSVersion) UnmarshalText(b []byte) error {
	s := strings.TrimPrefix(strings.ToUpper(strings.ReplaceAll(string(b), " ", "")), "TLS")
	switch s {
	case "1.0", "10":
		*v = tls.VersionTLS10
	case "1.1", "11":
		*v = tls.VersionTLS11
	case "1.2", "12":
		*v = tls.VersionTLS12
	case "1.3", "13":
		*v = tls.VersionTLS13
	default:
		return fmt.Errorf("%q is not a TLS version (1.0, 1.1, 1.2, 1.3)", b)
	}
	return nil
}

// String names the version as "TLS 1.2".
func (v TLSVersion) String() string { return tls.VersionName(uint16(v)) }

// MarshalText writes the version as "1.2", as UnmarshalText reads it.
func (v TLSVersion) MarshalText() ([]byte, error) {
	return []byte(strings.TrimPrefix(v.String(), "TLS ")), nil
}

// TLSDetail describes a TLS session and its certificate chain.
type TLSDetail struct {
	Version             string // "TLS 1.3"
	Cipher              string
	Subject             string // leaf subject
	Issuer              string // leaf issuer
	SANs                []string
	NotAfter            time.Time // leaf
	DaysLeft            int       // whole days until NotAfter, negative when expired
	EarliestChainExpiry time.Time // earliest NotAfter in the (verified) chain
	// LastChainExpiry is the latest of the earliest expiries of each
	// verified chain (blackbox_exporter's probe_ssl_last_chain_expiry).
	LastChainExpiry time.Time
	Verified        bool
	// PresentedExpiry is the earliest NotAfter among the certificates the
	// server presented, verified or not (blackbox_exporter's
	// probe_ssl_earliest_cert_expiry).
	PresentedExpiry time.Time
	Fingerprint     string   // SHA-256 of the leaf certificate (DER), lower-case hex
	DNSNames        []string // the leaf's DNS SANs alone (SANs also holds IPs, e-mails and URIs)
}

// TLSProber runs TLS checks.
type TLSProber struct {
	spec    TLSSpec
	dialer  *dialer
	config  *tls.Config
	roots   *x509.CertPool // nil: system roots
	minDays int
	now     func() time.Time
}

// NewTLS builds a TLS prober from a validated spec.
func NewTLS(spec TLSSpec, opts ...Option) (*TLSProber, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	host, _, _ := net.SplitHostPort(spec.Address)
	cfg, err := spec.TLSOptions.config(host)
	if err != nil {
		return nil, err
	}
	roots := cfg.RootCAs
	// Verify by hand after the handshake, so that an invalid chain is
	// still described (expiry, subject) and not only rejected.
	cfg.InsecureSkipVerify = true //nolint:gosec // verified in verifyChain
	minDays := DefaultMinDaysLeft
	if spec.MinDaysLeft != nil {
		minDays = *spec.MinDaysLeft
	}
	return &TLSProber{spec: spec, dialer: newDialer(spec.IPVersion, opts), config: cfg, roots: roots, minDays: minDays, now: time.Now}, nil
}

// Probe handshakes with the target and checks its chain.
func (p *TLSProber) Probe(ctx context.Context) (Result, error) {
	r := Result{Kind: KindTLS, Target: p.spec.Address, Started: time.Now(), OK: true}
	p.run(ctx, &r)
	r.Duration = time.Since(r.Started)
	return r, nil
}

func (p *TLSProber) run(ctx context.Context, r *Result) {
	var t dialTimes
	conn, err := p.dialer.dial(ctx, p.spec.Address, &t)
	r.Phases.Resolve, r.Phases.Connect = t.resolve, t.connect
	if err != nil {
		r.fail(err)
		return
	}
	defer conn.Close()
	tc, took, err := handshake(ctx, conn, p.config)
	r.Phases.TLS = took
	if err != nil {
		r.fail(err)
		return
	}
	state := tc.ConnectionState()
	r.TLS = describeTLS(state)
	p.check(r, state)
}

// check applies verification, version and expiry assertions.
func (p *TLSProber) check(r *Result, state tls.ConnectionState) {
	now := p.now()
	chains, err := verifyChain(state.PeerCertificates, p.roots, p.config.ServerName, now)
	if err == nil {
		r.TLS.Verified = true
		setChainExpiry(r.TLS, chains)
	}
	switch {
	case err != nil && !p.spec.TLSOptions.InsecureSkipVerify:
		r.fail(fmt.Errorf("%w: %w", ErrCertInvalid, err))
	case p.spec.MinVersion != 0 && state.Version < uint16(p.spec.MinVersion):
		r.fail(fmt.Errorf("%w: negotiated %s, want at least %s", ErrTLSVersion, tls.VersionName(state.Version), p.spec.MinVersion))
	default:
		checkExpiry(r, now, p.minDays, false)
	}
}

// handshake runs a client TLS handshake on conn, bounded by ctx.
func handshake(ctx context.Context, conn net.Conn, cfg *tls.Config) (*tls.Conn, time.Duration, error) {
	start := time.Now()
	tc := tls.Client(conn, cfg)
	err := tc.HandshakeContext(ctx)
	took := time.Since(start)
	if err != nil {
		return nil, took, netError(ctx, PhaseTLS, err)
	}
	return tc, took, nil
}

// verifyChain verifies the presented chain against roots (nil: system
// roots) for name at now.
func verifyChain(certs []*x509.Certificate, roots *x509.CertPool, name string, now time.Time) ([][]*x509.Certificate, error) {
	if len(certs) == 0 {
		return nil, errors.New("no certificate presented")
	}
	opts := x509.VerifyOptions{Roots: roots, DNSName: name, CurrentTime: now, Intermediates: x509.NewCertPool()}
	for _, c := range certs[1:] {
		opts.Intermediates.AddCert(c)
	}
	return certs[0].Verify(opts)
}

// describeTLS summarises a session; the expiry fields come from the
// presented chain until a verified chain replaces them.
func describeTLS(state tls.ConnectionState) *TLSDetail {
	d := &TLSDetail{Version: tls.VersionName(state.Version), Cipher: tls.CipherSuiteName(state.CipherSuite)}
	if len(state.PeerCertificates) == 0 {
		return d
	}
	leaf := state.PeerCertificates[0]
	d.Subject = leaf.Subject.String()
	d.Issuer = leaf.Issuer.String()
	d.SANs = sans(leaf)
	d.NotAfter = leaf.NotAfter.UTC()
	d.EarliestChainExpiry = earliest(state.PeerCertificates)
	d.LastChainExpiry = d.EarliestChainExpiry
	d.PresentedExpiry = d.EarliestChainExpiry
	sum := sha256.Sum256(leaf.Raw)
	d.Fingerprint = hex.EncodeToString(sum[:])
	d.DNSNames = slices.Clone(leaf.DNSNames)
	if len(state.VerifiedChains) > 0 {
		d.Verified = true
		setChainExpiry(d, state.VerifiedChains)
	}
	return d
}

func sans(c *x509.Certificate) []string {
	out := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		out = append(out, ip.String())
	}
	out = append(out, c.EmailAddresses...)
	for _, u := range c.URIs {
		out = append(out, u.String())
	}
	return out
}

// setChainExpiry sets the earliest expiry over all verified chains and the
// latest of each chain's earliest expiry.
func setChainExpiry(d *TLSDetail, chains [][]*x509.Certificate) {
	for i, chain := range chains {
		e := earliest(chain)
		if i == 0 || e.Before(d.EarliestChainExpiry) {
			d.EarliestChainExpiry = e
		}
		if i == 0 || e.After(d.LastChainExpiry) {
			d.LastChainExpiry = e
		}
	}
}

func earliest(chain []*x509.Certificate) time.Time {
	var t time.Time
	for i, c := range chain {
		if i == 0 || c.NotAfter.Before(t) {
			t = c.NotAfter
		}
	}
	return t.UTC()
}

// checkExpiry sets DaysLeft and marks r degraded (or failed when fail is
// set, as HTTP's cert_min_days does) when the earliest expiry in the chain
// is fewer than minDays away. minDays 0 disables the check.
func checkExpiry(r *Result, now time.Time, minDays int, fail bool) {
	d := r.TLS
	if d == nil || d.NotAfter.IsZero() {
		return
	}
	d.DaysLeft = daysUntil(now, d.NotAfter)
	left := daysUntil(now, d.EarliestChainExpiry)
	if minDays <= 0 || left >= minDays {
		return
	}
	err := fmt.Errorf("%w: certificate chain expires %s (in %d days, fewer than %d)",
		ErrCertExpiring, d.EarliestChainExpiry.Format(time.RFC3339), left, minDays)
	if fail {
		r.fail(err)
		return
	}
	r.degrade(err)
}

// daysUntil returns whole days from now until t, rounded towards minus
// infinity (an expired certificate has a negative count).
func daysUntil(now, t time.Time) int {
	d := t.Sub(now)
	days := int(d / (24 * time.Hour))
	if d < 0 && d%(24*time.Hour) != 0 {
		days--
	}
	return days
}
