package probes

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// DNS defaults.
const (
	DefaultDNSUDPSize = 1232 // the DNS flag day 2020 recommendation
	resolvConf        = "/etc/resolv.conf"
)

// DNSSpec configures a DNS check.
type DNSSpec struct {
	// Server is host[:port] of the server to ask (port 53, or 853 for
	// tcp-tls). Empty: the first nameserver of /etc/resolv.conf.
	Server    string       `yaml:"server"`
	Name      string       `yaml:"name"`
	Type      DNSType      `yaml:"type"`      // default A
	Class     DNSClass     `yaml:"class"`     // default IN
	Transport DNSTransport `yaml:"transport"` // udp (default), tcp, tcp-tls
	// TCPFallback retries a truncated UDP answer over TCP (default true).
	TCPFallback *bool     `yaml:"tcp_fallback"`
	IPVersion   IPVersion `yaml:"ip_version"`
	// PreferIPVersion is the family used when ip_version is any and the
	// server's name has addresses of both (default 4).
	PreferIPVersion IPVersion `yaml:"prefer_ip_version"`
	// SourceIP is the local address to send the query from (default: any).
	SourceIP  string     `yaml:"source_ip"`
	Recursion *bool      `yaml:"recursion"` // RD flag, default true
	EDNS0     *bool      `yaml:"edns0"`     // default true
	UDPSize   uint16     `yaml:"udp_size"`  // EDNS0 buffer size, default 1232
	TLSConfig TLSOptions `yaml:"tls_config"`
	Expect    DNSExpect  `yaml:"expect"`
}

// DNSType is a query type: A, AAAA, CNAME, MX, TXT, NS, SOA, SRV, CAA, PTR.
type DNSType uint16

var dnsTypes = map[string]uint16{
	"A": dns.TypeA, "AAAA": dns.TypeAAAA, "CNAME": dns.TypeCNAME, "MX": dns.TypeMX,
	"TXT": dns.TypeTXT, "NS": dns.TypeNS, "SOA": dns.TypeSOA, "SRV": dns.TypeSRV,
	"CAA": dns.TypeCAA, "PTR": dns.TypePTR,
}

// UnmarshalText parses a type mnemonic (case-insensitive): the common
// ones above, ANY, or any other data type miekg/dns knows (HTTPS, TLSA,
// DNSKEY …); not the other meta types (AXFR, IXFR, OPT …).
func (t *DNSType) UnmarshalText(b []byte) error {
	name := strings.ToUpper(string(b))
	v, ok := dnsTypes[name]
	if !ok {
		v, ok = dns.StringToType[name]
		ok = ok && v != dns.TypeNone && v != dns.TypeOPT && (v < dns.TypeTKEY || v > dns.TypeMAILA)
	}
	if !ok {
		return fmt.Errorf("%q is not a supported DNS type (A, AAAA, CNAME, MX, TXT, NS, SOA, SRV, CAA, PTR)", b)
	}
	*t = DNSType(v)
	return nil
}

// String returns the mnemonic.
func (t DNSType) String() string { return dns.TypeToString[uint16(t)] }

// DNSTransport is how the query travels.
type DNSTransport string

// DNS transports.
const (
	DNSUDP    DNSTransport = "udp"
	DNSTCP    DNSTransport = "tcp"
	DNSTCPTLS DNSTransport = "tcp-tls"
)

// UnmarshalText accepts udp, tcp, tcp-tls (or dot).
func (t *DNSTransport) UnmarshalText(b []byte) error {
	switch s := strings.ToLower(string(b)); s {
	case "udp", "tcp", "tcp-tls":
		*t = DNSTransport(s)
	case "dot", "tls":
		*t = DNSTCPTLS
	default:
		return fmt.Errorf("%q is not a DNS transport (udp, tcp, tcp-tls)", b)
	}
	return nil
}

// DNSRcode is a response code, written as its mnemonic (NOERROR, NXDOMAIN…).
type DNSRcode struct{ code int }

// UnmarshalText parses an rcode mnemonic.
func (c *DNSRcode) UnmarshalText(b []byte) error {
	v, ok := dns.StringToRcode[strings.ToUpper(string(b))]
	if !ok {
		return fmt.Errorf("%q is not a DNS rcode (NOERROR, NXDOMAIN, SERVFAIL, REFUSED …)", b)
	}
	c.code = v + 1 // keep the zero value meaning "unset"
	return nil
}

// Code returns the numeric rcode, NOERROR when unset.
func (c DNSRcode) Code() int {
	if c.code == 0 {
		return dns.RcodeSuccess
	}
	return c.code - 1
}

// String returns the mnemonic.
func (c DNSRcode) String() string { return dns.RcodeToString[c.Code()] }

// Validate reports every problem of the spec, each starting with its field.
func (s DNSSpec) Validate() error {
	var errs []error
	if s.Name == "" {
		errs = append(errs, errors.New("name: required"))
	} else if a, err := asciiName(s.Name); err != nil {
		errs = append(errs, fmt.Errorf("name: %w", err))
	} else if _, ok := dns.IsDomainName(a); !ok {
		errs = append(errs, fmt.Errorf("name: %q is not a domain name", s.Name))
	}
	if s.Server != "" {
		if host, _, err := splitHostPortDefault(s.Server, "53"); err != nil {
			errs = append(errs, fmt.Errorf("server: %w", err))
		} else if _, err := asciiHost(host); err != nil {
			errs = append(errs, fmt.Errorf("server: %w", err))
		}
	}
	if s.UDPSize != 0 && s.UDPSize < dns.MinMsgSize {
		errs = append(errs, fmt.Errorf("udp_size: must be at least %d, got %d", dns.MinMsgSize, s.UDPSize))
	}
	if err := s.TLSConfig.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("tls_config: %w", err))
	}
	if s.Transport != DNSTCPTLS && s.TLSConfig != (TLSOptions{}) {
		errs = append(errs, errors.New("tls_config: only used with transport: tcp-tls"))
	}
	errs = append(errs, validateAddressing(s.IPVersion, s.PreferIPVersion, s.SourceIP)...)
	errs = append(errs, s.Expect.validate()...)
	return errors.Join(errs...)
}

// splitHostPortDefault splits host[:port], adding def when there is no
// port. The host is a name or an IP address; an IPv6 address needs
// brackets when a port follows.
func splitHostPortDefault(s, def string) (host, port string, err error) {
	if strings.Contains(s, "/") {
		return "", "", fmt.Errorf("%q is not host[:port]", s)
	}
	host, port, err = net.SplitHostPort(s)
	if err != nil { // no port
		host, port = s, def
		if inner, ok := strings.CutPrefix(s, "["); ok {
			if host, ok = strings.CutSuffix(inner, "]"); !ok || !strings.Contains(host, ":") {
				return "", "", fmt.Errorf("%q is not host[:port]", s)
			}
		}
	}
	if !validHost(host) {
		return "", "", fmt.Errorf("%q is not host[:port]", s)
	}
	if p, err := net.LookupPort("tcp", port); err != nil || p == 0 {
		return "", "", fmt.Errorf("%q has no valid port", s)
	}
	return host, port, nil
}

// validHost accepts a domain name or an IP address. Only IPv6 addresses
// (with an optional zone) contain colons.
func validHost(h string) bool {
	if strings.Contains(h, ":") {
		_, err := netip.ParseAddr(h)
		return err == nil
	}
	_, ok := dns.IsDomainName(h)
	return ok && h != "" && !strings.ContainsAny(h, " []")
}

// DNSProber runs DNS checks.
type DNSProber struct {
	spec    DNSSpec
	server  string // host:port
	dialer  *dialer
	tls     *tls.Config
	query   *dns.Msg // template; copied per probe
	udpSize uint16   // receive buffer for UDP replies
}

// NewDNS builds a DNS prober from a spec.
func NewDNS(spec DNSSpec, opts ...Option) (*DNSProber, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	p := &DNSProber{spec: spec, dialer: newDialer(spec.IPVersion, opts).withAddressing(spec.PreferIPVersion, spec.SourceIP)}
	port := "53"
	if spec.Transport == DNSTCPTLS {
		port = "853"
	}
	server := spec.Server
	if server == "" {
		var err error
		if server, err = systemNameserver(); err != nil {
			return nil, err
		}
	}
	host, port, err := splitHostPortDefault(server, port)
	if err == nil {
		host, err = asciiHost(host) // resolved and checked in its ASCII form
	}
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	p.server = net.JoinHostPort(host, port)
	if spec.Transport == DNSTCPTLS {
		if p.tls, err = spec.TLSConfig.config(host); err != nil {
			return nil, err
		}
	}
	p.query = buildQuery(spec)
	p.udpSize = dns.MinMsgSize
	if opt := p.query.IsEdns0(); opt != nil {
		p.udpSize = max(opt.UDPSize(), dns.MinMsgSize)
	}
	return p, nil
}

// systemNameserver returns the first nameserver of /etc/resolv.conf.
func systemNameserver() (string, error) {
	cc, err := dns.ClientConfigFromFile(resolvConf)
	if err != nil {
		return "", fmt.Errorf("no server set: %w", err)
	}
	if len(cc.Servers) == 0 {
		return "", fmt.Errorf("no server set and no nameserver in %s", resolvConf)
	}
	return cc.Servers[0], nil
}

func buildQuery(spec DNSSpec) *dns.Msg {
	name, _ := asciiName(spec.Name) // validated
	if spec.Type == DNSType(dns.TypePTR) && net.ParseIP(name) != nil {
		name, _ = dns.ReverseAddr(name)
	}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), uint16(cmp.Or(spec.Type, DNSType(dns.TypeA))))
	m.Question[0].Qclass = spec.Class.Code()
	m.RecursionDesired = spec.Recursion == nil || *spec.Recursion
	if spec.EDNS0 == nil || *spec.EDNS0 {
		m.SetEdns0(cmp.Or(spec.UDPSize, DefaultDNSUDPSize), false)
	}
	return m
}

// Probe sends the query (retrying over TCP when a UDP answer is truncated)
// and checks the answer.
func (p *DNSProber) Probe(ctx context.Context) (Result, error) {
	r := Result{Kind: KindDNS, Target: p.spec.Name + " @" + p.server, Started: time.Now(), OK: true}
	transport := cmp.Or(p.spec.Transport, DNSUDP)
	resp, err := p.exchange(ctx, transport, &r)
	if err == nil && resp.Truncated && transport == DNSUDP {
		r.DNS.Truncated = true
		if p.spec.TCPFallback == nil || *p.spec.TCPFallback {
			resp, err = p.exchange(ctx, DNSTCP, &r)
		}
	}
	if err != nil {
		r.fail(err)
	} else {
		p.check(&r, resp)
	}
	r.Duration = time.Since(r.Started)
	return r, nil
}

// exchange sends one query over transport, adding to r's phases.
func (p *DNSProber) exchange(ctx context.Context, transport DNSTransport, r *Result) (*dns.Msg, error) {
	if r.DNS == nil {
		r.DNS = &DNSDetail{}
	}
	r.DNS.Transport = string(transport)
	conn, err := p.connect(ctx, transport, r)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	// Only the probe's context bounds the exchange. Its deadline is set
	// before the cancellation hook, so that a cancellation (deadline now)
	// cannot be overwritten.
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	q := p.query.Copy()
	q.Id = dns.Id()
	start := time.Now()
	resp, err := roundTrip(&dns.Conn{Conn: conn, UDPSize: p.udpSize}, q)
	r.Phases.Processing += time.Since(start)
	if err != nil {
		return nil, netError(ctx, PhaseProcessing, err)
	}
	return resp, nil
}

// roundTrip writes q and reads its reply. Over UDP, replies with another id
// (late answers to earlier queries) are skipped. It sets no deadlines.
func roundTrip(co *dns.Conn, q *dns.Msg) (*dns.Msg, error) {
	if err := co.WriteMsg(q); err != nil {
		return nil, fmt.Errorf("write query: %w", err)
	}
	_, udp := co.Conn.(net.PacketConn)
	for {
		resp, err := co.ReadMsg()
		if err != nil {
			return nil, fmt.Errorf("read reply: %w", err)
		}
		if resp.Id == q.Id {
			return resp, nil
		}
		if !udp {
			return nil, fmt.Errorf("read reply: %w", dns.ErrId)
		}
	}
}

// connect resolves the server and opens a connection for transport.
func (p *DNSProber) connect(ctx context.Context, transport DNSTransport, r *Result) (net.Conn, error) {
	host, port, _ := net.SplitHostPort(p.server)
	start := time.Now()
	ip, err := p.dialer.resolve(ctx, host)
	resolved := time.Now()
	r.Phases.Resolve += resolved.Sub(start)
	if err != nil {
		return nil, netError(ctx, PhaseResolve, err)
	}
	if err := p.dialer.guard.Check(host, ip); err != nil {
		return nil, err
	}
	network := "tcp"
	if transport == DNSUDP {
		network = "udp"
	}
	remote := net.JoinHostPort(ip.String(), port)
	if r.RemoteAddr == "" {
		r.RemoteAddr = remote
	}
	conn, err := p.dialer.netDialer(network).DialContext(ctx, network, remote)
	r.Phases.Connect += time.Since(resolved)
	if err != nil {
		return nil, netError(ctx, PhaseConnect, err)
	}
	if transport != DNSTCPTLS {
		return conn, nil
	}
	tc, took, err := handshake(ctx, conn, p.tls)
	r.Phases.TLS += took
	if err != nil {
		conn.Close()
		return nil, err
	}
	return tc, nil
}

// MarshalText returns the mnemonic.
func (t DNSType) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// MarshalText returns the mnemonic.
func (c DNSRcode) MarshalText() ([]byte, error) { return []byte(c.String()), nil }
