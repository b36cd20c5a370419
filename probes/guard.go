package probes

import (
	"errors"
	"fmt"
	"net/netip"
	"path"
	"strings"
)

// ErrAddressDenied says a probe was not allowed to connect to an address.
var ErrAddressDenied = errors.New("address denied")

// DefaultDeny lists what a guarded probe never connects to, whatever its
// allow list says: link-local (cloud metadata services at 169.254.169.254
// and fd00:ec2::254 among them), "this network", multicast and broadcast.
func DefaultDeny() []string {
	return []string{
		"0.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4", "255.255.255.255/32", "100.100.100.200/32",
		"::/128", "fe80::/10", "ff00::/8", "fd00:ec2::254/128",
	}
}

// Option adjusts a prober at construction.
type Option func(*dialer)

// WithGuard makes every connection of the prober pass g.
func WithGuard(g *Guard) Option { return func(d *dialer) { d.guard = g } }

// Guard decides, at dial time and after name resolution, which addresses a
// probe may connect to. Every connection of a guarded prober is checked,
// redirects included. A nil *Guard allows everything.
type Guard struct {
	allow, deny []netip.Prefix
	allowHosts  []string // glob patterns of host names, e.g. *.example.com
}

// NewGuard builds a guard. allow holds CIDRs, IPs and host-name globs
// (empty: every address not denied); deny holds CIDRs and IPs added to
// DefaultDeny.
func NewGuard(allow, deny []string) (*Guard, error) {
	g := &Guard{}
	for _, a := range allow {
		if p, err := ParsePrefix(a); err == nil {
			g.allow = append(g.allow, p)
			continue
		}
		if _, err := path.Match(strings.ToLower(a), ""); err != nil || a == "" || strings.ContainsAny(a, "/ ") {
			return nil, fmt.Errorf("allow %q: not a CIDR, an IP or a host-name pattern", a)
		}
		g.allowHosts = append(g.allowHosts, strings.ToLower(a))
	}
	for _, d := range append(DefaultDeny(), deny...) {
		p, err := ParsePrefix(d)
		if err != nil {
			return nil, fmt.Errorf("deny %q: %w", d, err)
		}
		g.deny = append(g.deny, p)
	}
	return g, nil
}

// ParsePrefix reads a CIDR prefix, or an IP address as a prefix of that
// one address (an IPv4-mapped IPv6 address as the IPv4 address, as Check
// and the rate limit judge them).
func ParsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	ip = ip.Unmap()
	return netip.PrefixFrom(ip, ip.BitLen()), nil
}

// Check allows or denies connecting to ip, resolved from host. An
// IPv4-mapped IPv6 address is judged as the IPv4 address it carries.
func (g *Guard) Check(host string, ip netip.Addr) error {
	if g == nil {
		return nil
	}
	ip = ip.Unmap().WithZone("")
	for _, p := range g.deny {
		if p.Contains(ip) {
			return fmt.Errorf("%w: %s (%s) is in %s", ErrAddressDenied, host, ip, p)
		}
	}
	if len(g.allow) == 0 && len(g.allowHosts) == 0 {
		return nil
	}
	for _, p := range g.allow {
		if p.Contains(ip) {
			return nil
		}
	}
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	for _, pat := range g.allowHosts {
		if ok, _ := path.Match(pat, h); ok {
			return nil
		}
	}
	return fmt.Errorf("%w: %s (%s) is not in the allow list", ErrAddressDenied, host, ip)
}
