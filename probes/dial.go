package probes

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"
)

// dialer resolves a host:port with the chosen IP version and connects,
// timing both steps. It is built once per prober and is safe for
// concurrent use.
type dialer struct {
	ipVersion IPVersion
	prefer    IPVersion  // with IPAny, the family chosen when a name has both (default IPv4)
	source    netip.Addr // local address to dial from; invalid: any
	resolver  *net.Resolver
	net       net.Dialer
	guard     *Guard // nil: every address
}

func newDialer(v IPVersion, opts []Option) *dialer {
	// A probe's connection carries one exchange: TCP keep-alive, on by
	// default in Go and four setsockopt calls a dial, would never fire.
	d := &dialer{ipVersion: v, resolver: net.DefaultResolver, net: net.Dialer{KeepAlive: -1}}
	for _, o := range opts {
		o(d)
	}
	return d
}

// withAddressing sets the preferred family and the source address, from a
// spec's prefer_ip_version and source_ip (both validated).
func (d *dialer) withAddressing(prefer IPVersion, source string) *dialer {
	d.prefer = prefer
	if source != "" {
		d.source, _ = netip.ParseAddr(source)
	}
	return d
}

// netDialer returns the dialer for network ("tcp" or "udp"), bound to the
// source address when one is set.
func (d *dialer) netDialer(network string) *net.Dialer {
	nd := d.net
	if d.source.IsValid() {
		ip := net.IP(d.source.AsSlice())
		if network == "udp" {
			nd.LocalAddr = &net.UDPAddr{IP: ip}
		} else {
			nd.LocalAddr = &net.TCPAddr{IP: ip}
		}
	}
	return &nd
}

// dialTimes receives the duration of each step of one dial.
type dialTimes struct {
	resolve, connect time.Duration
	remote           string
	onConnect        func() // called when resolving is done and connecting starts
}

// dial resolves address and connects to the first address of the chosen
// family. A failure is classified with the phase it happened in.
func (d *dialer) dial(ctx context.Context, address string, t *dialTimes) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConnect, err)
	}
	start := time.Now()
	if host, err = asciiHost(host); err != nil { // the guard and the resolver see the ASCII form
		return nil, fmt.Errorf("%w: %w", ErrResolve, err)
	}
	ip, err := d.resolve(ctx, host)
	resolved := time.Now()
	t.resolve += resolved.Sub(start)
	if err != nil {
		return nil, netError(ctx, PhaseResolve, err)
	}
	if err := d.guard.Check(host, ip); err != nil {
		return nil, err
	}
	remote := net.JoinHostPort(ip.String(), port)
	if t.onConnect != nil {
		t.onConnect()
	}
	conn, err := d.netDialer("tcp").DialContext(ctx, "tcp", remote)
	t.connect += time.Since(resolved)
	t.remote = remote
	if err != nil {
		return nil, netError(ctx, PhaseConnect, err)
	}
	return conn, nil
}

// resolve returns the address to connect to; host is in its ASCII form
// (asciiHost). IP literals skip the resolver.
func (d *dialer) resolve(ctx context.Context, host string) (netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		if !d.ipVersion.allows(ip) {
			return netip.Addr{}, fmt.Errorf("%s is not an IPv%s address", host, d.ipVersion)
		}
		return ip.Unmap(), nil
	}
	if numericName(host) {
		// 2130706435, 0x7f.1, 127.1: browsers and curl read these as IPv4
		// addresses, Go's resolver would ask DNS. Neither is right for a
		// probe, and asking DNS would leak the name and dodge the guard.
		return netip.Addr{}, fmt.Errorf("%w: %q is neither a host name nor an IP address in standard form (write IPv4 as four decimal numbers)", ErrAddressDenied, host)
	}
	ips, err := d.resolver.LookupNetIP(ctx, d.ipVersion.network(), host)
	if err != nil {
		return netip.Addr{}, err
	}
	if len(ips) == 0 {
		return netip.Addr{}, fmt.Errorf("no %s address for %s", d.ipVersion.network(), host)
	}
	// For "any", prefer IPv4 unless told otherwise, as browsers do when IPv6
	// is not known to work; fall back to the other family.
	prefer := cmp.Or(d.prefer, IPv4)
	for _, ip := range ips {
		if prefer.allows(ip) {
			return ip.Unmap(), nil
		}
	}
	return ips[0].Unmap(), nil
}

// validateAddressing checks prefer_ip_version and source_ip against
// ip_version v; each problem starts with its field.
func validateAddressing(v, prefer IPVersion, source string) []error {
	var errs []error
	if prefer != "" && prefer != IPAny && v != "" && v != IPAny && prefer != v {
		errs = append(errs, fmt.Errorf("prefer_ip_version: IPv%s contradicts ip_version %s", prefer, v))
	}
	if source == "" {
		return errs
	}
	ip, err := netip.ParseAddr(source)
	switch {
	case err != nil || ip.Zone() != "":
		errs = append(errs, fmt.Errorf("source_ip: %q is not an IP address", source))
	case !v.allows(ip):
		errs = append(errs, fmt.Errorf("source_ip: %s is not an IPv%s address", source, v))
	}
	return errs
}

// allows reports whether ip belongs to the chosen family.
func (v IPVersion) allows(ip netip.Addr) bool {
	switch v {
	case IPv4:
		return ip.Unmap().Is4()
	case IPv6:
		return ip.Is6() && !ip.Is4In6()
	}
	return true
}

// TLSOptions configure a TLS client. They are shared by the HTTP, TCP and
// TLS probes.
type TLSOptions struct {
	CAFile             string `yaml:"ca_file"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
	ServerName         string `yaml:"server_name"`
	CertFile           string `yaml:"cert_file"`
	KeyFile            string `yaml:"key_file"`
	// MinVersion is the lowest TLS version the client offers (default 1.0);
	// a server that only speaks older versions fails the handshake.
	MinVersion TLSVersion `yaml:"min_version"`
}

// Validate checks that a client certificate comes with its key.
func (o TLSOptions) Validate() error {
	if (o.CertFile == "") != (o.KeyFile == "") {
		return fmt.Errorf("cert_file and key_file must be set together")
	}
	return nil
}

// config builds a *tls.Config: the CA file and client certificate are
// read now, once. host is the default server name.
func (o TLSOptions) config(host string) (*tls.Config, error) {
	host = cmp.Or(o.ServerName, host)
	if a, err := asciiHost(host); err == nil { // SNI and the certificate's names are ASCII
		host = a
	}
	c := &tls.Config{
		ServerName:         host,
		InsecureSkipVerify: o.InsecureSkipVerify, //nolint:gosec // the user asked for it
		MinVersion:         tls.VersionTLS10,
	}
	if o.MinVersion != 0 {
		c.MinVersion = uint16(o.MinVersion)
	}
	if o.CAFile != "" {
		pool, err := loadCAFile(o.CAFile)
		if err != nil {
			return nil, err
		}
		c.RootCAs = pool
	}
	if o.CertFile != "" {
		certPEM, err := ReadPEMFile(o.CertFile)
		if err != nil {
			return nil, fmt.Errorf("load client certificate: %w", err)
		}
		keyPEM, err := ReadPEMFile(o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("load client certificate: %w", err)
		}
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("load client certificate %s: %w", o.CertFile, err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// MaxPEMFileBytes bounds a certificate or key file: a CA bundle of a few
// hundred certificates is well under a megabyte.
const MaxPEMFileBytes = 8 << 20

// ReadPEMFile reads a certificate or key file of at most MaxPEMFileBytes.
func ReadPEMFile(path string) ([]byte, error) { return ReadFileLimit(path, MaxPEMFileBytes) }

func loadCAFile(path string) (*x509.CertPool, error) {
	pem, err := ReadPEMFile(path)
	if err != nil {
		return nil, fmt.Errorf("read ca_file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("ca_file %s: no PEM certificates found", path)
	}
	return pool, nil
}

// numericName reports whether host is not a DNS name but a number: its
// last label (no top-level domain is numeric) is all digits or hex with a
// 0x prefix, as in the shorthand IPv4 forms inet_aton accepts.
func numericName(host string) bool {
	host = strings.TrimSuffix(host, ".")
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" {
		return false
	}
	if h, ok := strings.CutPrefix(strings.ToLower(last), "0x"); ok {
		last = h
		return strings.Trim(last, "0123456789abcdef") == ""
	}
	return strings.Trim(last, "0123456789") == ""
}
