package probes

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// maxExpectBytes bounds what a TCP probe reads while waiting for expect.
const maxExpectBytes = 64 << 10

// TCPSpec configures a TCP check: connect, optional TLS, and an optional
// send/expect dialogue.
type TCPSpec struct {
	Address   string    `yaml:"address"` // host:port
	IPVersion IPVersion `yaml:"ip_version"`
	// PreferIPVersion is the family used when ip_version is any and the
	// host has addresses of both (default 4).
	PreferIPVersion IPVersion `yaml:"prefer_ip_version"`
	// SourceIP is the local address to connect from (default: any).
	SourceIP  string     `yaml:"source_ip"`
	TLS       bool       `yaml:"tls"`
	TLSConfig TLSOptions `yaml:"tls_config"`
	Send      string     `yaml:"send"`   // written after connecting
	Expect    Pattern    `yaml:"expect"` // must match what the server sends (first 64 KiB)
	// Dialogue is a line-based exchange run after connecting, instead of
	// send and expect (blackbox_exporter's query_response).
	Dialogue []TCPStep `yaml:"dialogue"`
}

// Validate reports every problem of the spec, each starting with its field.
func (s TCPSpec) Validate() error {
	var errs []error
	if err := validateAddress(s.Address); err != nil {
		errs = append(errs, fmt.Errorf("address: %w", err))
	}
	if err := s.TLSConfig.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("tls_config: %w", err))
	}
	if !s.TLS && !s.startTLS() && s.TLSConfig != (TLSOptions{}) {
		errs = append(errs, errors.New("tls_config: set tls: true to use TLS"))
	}
	errs = append(errs, validateAddressing(s.IPVersion, s.PreferIPVersion, s.SourceIP)...)
	errs = append(errs, s.validateDialogue()...)
	return errors.Join(errs...)
}

// TCPProber runs TCP checks.
type TCPProber struct {
	spec   TCPSpec
	dialer *dialer
	tls    *tls.Config
}

// NewTCP builds a TCP prober from a spec.
func NewTCP(spec TCPSpec, opts ...Option) (*TCPProber, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	p := &TCPProber{spec: spec, dialer: newDialer(spec.IPVersion, opts).withAddressing(spec.PreferIPVersion, spec.SourceIP)}
	if spec.TLS || spec.startTLS() {
		host, _, _ := net.SplitHostPort(spec.Address)
		cfg, err := spec.TLSConfig.config(host)
		if err != nil {
			return nil, err
		}
		p.tls = cfg
	}
	return p, nil
}

// Probe connects and runs the dialogue.
func (p *TCPProber) Probe(ctx context.Context) (Result, error) {
	r := Result{Kind: KindTCP, Target: p.spec.Address, Started: time.Now(), OK: true}
	p.run(ctx, &r)
	r.Duration = time.Since(r.Started)
	return r, nil
}

func (p *TCPProber) run(ctx context.Context, r *Result) {
	var t dialTimes
	conn, err := p.dialer.dial(ctx, p.spec.Address, &t)
	r.Phases.Resolve, r.Phases.Connect = t.resolve, t.connect
	r.RemoteAddr = t.remote
	if err != nil {
		r.fail(err)
		return
	}
	defer conn.Close()
	r.TCP = &TCPDetail{RemoteAddr: t.remote}
	if p.spec.TLS {
		if conn, _, err = p.startTLS(ctx, conn, r); err != nil {
			r.fail(err)
			return
		}
	}
	if len(p.spec.Dialogue) > 0 {
		p.runDialogue(ctx, conn, r)
		return
	}
	if p.spec.Send == "" && p.spec.Expect.IsZero() {
		return
	}
	start := time.Now()
	err = p.dialogue(ctx, conn, r.TCP)
	r.Phases.Processing = time.Since(start)
	if err != nil {
		r.fail(err)
	}
}

// dialogue writes Send and reads until Expect matches, bounded by ctx.
func (p *TCPProber) dialogue(ctx context.Context, conn net.Conn, d *TCPDetail) error {
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	if p.spec.Send != "" {
		if _, err := io.WriteString(conn, p.spec.Send); err != nil {
			return netError(ctx, PhaseProcessing, err)
		}
	}
	if p.spec.Expect.IsZero() {
		return nil
	}
	buf := make([]byte, 0, 4096)
	for len(buf) < maxExpectBytes {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := conn.Read(buf[len(buf):min(cap(buf), maxExpectBytes)])
		buf = buf[:len(buf)+n]
		d.Received = len(buf)
		if p.spec.Expect.Match(buf) {
			return nil
		}
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%w: connection closed before %q matched; got %q", ErrExpectMismatch, p.spec.Expect, truncate(string(buf), 100))
		}
		if err != nil {
			return netError(ctx, PhaseProcessing, err)
		}
	}
	return fmt.Errorf("%w: %q did not match the first %d bytes", ErrExpectMismatch, p.spec.Expect, maxExpectBytes)
}

// startTLS runs the TLS handshake on conn (tls: true, or a STARTTLS step),
// adds its time to the tls phase and records what was negotiated.
func (p *TCPProber) startTLS(ctx context.Context, conn net.Conn, r *Result) (net.Conn, time.Duration, error) {
	tc, took, err := handshake(ctx, conn, p.tls)
	r.Phases.TLS += took
	if err != nil {
		return conn, took, err
	}
	r.TLS = describeTLS(tc.ConnectionState())
	checkExpiry(r, time.Now(), 0, false)
	return tc, took, nil
}
