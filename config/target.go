package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/vantageprobe/vantage/probes"
)

// TargetOptions are the knobs of an ad-hoc check (the flags of
// `vantage check`). Zero values keep each probe's defaults.
type TargetOptions struct {
	Method       string   // HTTP method
	Headers      []string // "Name: value"
	Data         string   // HTTP request body, or TCP bytes to send
	ExpectStatus string   // comma-separated codes or ranges
	ExpectBody   string   // regex the HTTP body (or TCP reply) must match
	CAFile       string
	Insecure     bool
	IPVersion    string // 4, 6 or ""
	NoFollow     bool
	Type         string // "" (from the scheme) or "browser" for an http(s) URL
	Screenshot   bool   // browser: always take a screenshot
}

// ParseTarget turns a target URL into a check named "adhoc":
//
//	http://… https://…          HTTP
//	tcp://host:port             TCP
//	tls://host:port             TLS
//	dns://SERVER[:PORT]/NAME?type=TYPE   DNS (RFC 4501; dns:NAME uses /etc/resolv.conf)
func ParseTarget(target string, o TargetOptions) (Check, error) {
	c := Check{Name: "adhoc"}
	u, err := url.Parse(target)
	if err != nil {
		return c, fmt.Errorf("target %q: %w", target, errors.Unwrap(err))
	}
	var ipv probes.IPVersion
	if err := ipv.UnmarshalText([]byte(o.IPVersion)); err != nil {
		return c, fmt.Errorf("--ip: %w", err)
	}
	switch o.Type {
	case "", "browser":
	default:
		return c, fmt.Errorf("--type %q: want browser (or leave it out: the scheme decides)", o.Type)
	}
	if o.Type == "browser" && u.Scheme != "http" && u.Scheme != "https" {
		return c, fmt.Errorf("target %q: a browser check needs an http:// or https:// URL", target)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		if o.Type == "browser" {
			c.Browser, err = browserTarget(target, o)
			break
		}
		c.HTTP, err = httpTarget(target, ipv, o)
	case "tcp":
		c.TCP, err = tcpTarget(u, ipv, o)
	case "tls":
		c.TLS, err = tlsTarget(u, ipv, o)
	case "dns":
		c.DNS, err = dnsTarget(u, ipv, o)
	case "":
		return c, fmt.Errorf("target %q: missing scheme (http://, https://, tcp://, tls://, dns://)", target)
	default:
		return c, fmt.Errorf("target %q: unsupported scheme %q (http, https, tcp, tls, dns)", target, u.Scheme)
	}
	if err != nil {
		return c, fmt.Errorf("target %q: %w", target, err)
	}
	if err := validateSpec(&c); err != nil {
		return c, fmt.Errorf("target %q: %w", target, err)
	}
	return c, nil
}

func httpTarget(target string, ipv probes.IPVersion, o TargetOptions) (*probes.HTTPSpec, error) {
	s := &probes.HTTPSpec{URL: target, Method: strings.ToUpper(o.Method), Body: o.Data, IPVersion: ipv}
	s.TLSConfig = probes.TLSOptions{CAFile: o.CAFile, InsecureSkipVerify: o.Insecure}
	if o.NoFollow {
		f := false
		s.FollowRedirects = &f
	}
	if len(o.Headers) > 0 {
		s.Headers = make(map[string]string, len(o.Headers))
	}
	for _, h := range o.Headers {
		k, v, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("--header %q: want Name: value", h)
		}
		s.Headers[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	if o.ExpectStatus != "" {
		for _, part := range strings.Split(o.ExpectStatus, ",") {
			var r probes.StatusRange
			if err := r.UnmarshalText([]byte(part)); err != nil {
				return nil, fmt.Errorf("--expect-status: %w", err)
			}
			s.Expect.Status = append(s.Expect.Status, r)
		}
	}
	if o.ExpectBody != "" {
		if err := s.Expect.Body.UnmarshalText([]byte(o.ExpectBody)); err != nil {
			return nil, fmt.Errorf("--expect-body: %w", err)
		}
	}
	return s, nil
}

func browserTarget(target string, o TargetOptions) (*probes.BrowserSpec, error) {
	s := &probes.BrowserSpec{URL: target}
	if o.Screenshot {
		if err := s.Screenshot.UnmarshalText([]byte("always")); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func hostPort(u *url.URL) (string, error) {
	if u.Opaque != "" || u.Host == "" {
		return "", errors.New("want SCHEME://host:port")
	}
	if u.Port() == "" {
		return "", errors.New("missing port")
	}
	if p := strings.Trim(u.Path, "/"); p != "" {
		return "", fmt.Errorf("unexpected path %q", u.Path)
	}
	return u.Host, nil
}

func tcpTarget(u *url.URL, ipv probes.IPVersion, o TargetOptions) (*probes.TCPSpec, error) {
	addr, err := hostPort(u)
	if err != nil {
		return nil, err
	}
	s := &probes.TCPSpec{Address: addr, IPVersion: ipv, Send: o.Data}
	if o.ExpectBody != "" {
		if err := s.Expect.UnmarshalText([]byte(o.ExpectBody)); err != nil {
			return nil, fmt.Errorf("--expect-body: %w", err)
		}
	}
	return s, nil
}

func tlsTarget(u *url.URL, ipv probes.IPVersion, o TargetOptions) (*probes.TLSSpec, error) {
	addr, err := hostPort(u)
	if err != nil {
		return nil, err
	}
	return &probes.TLSSpec{Address: addr, IPVersion: ipv,
		TLSOptions: probes.TLSOptions{CAFile: o.CAFile, InsecureSkipVerify: o.Insecure}}, nil
}

// dnsTarget parses RFC 4501: dns://server:port/name?type=A;class=IN.
func dnsTarget(u *url.URL, ipv probes.IPVersion, o TargetOptions) (*probes.DNSSpec, error) {
	name := u.Opaque
	if name == "" {
		name = strings.TrimPrefix(u.Path, "/")
	}
	if name == "" || strings.Contains(name, "/") {
		return nil, errors.New("want dns://SERVER[:PORT]/NAME?type=TYPE")
	}
	s := &probes.DNSSpec{Server: u.Host, Name: name, IPVersion: ipv}
	if u.User != nil {
		return nil, errors.New("user info is not allowed")
	}
	if h := u.Hostname(); u.Host != "" && net.ParseIP(h) == nil && strings.ContainsAny(h, "[]") {
		return nil, fmt.Errorf("bad server %q", u.Host)
	}
	for _, el := range strings.FieldsFunc(u.RawQuery, func(r rune) bool { return r == ';' || r == '&' }) {
		k, v, _ := strings.Cut(el, "=")
		v, _ = url.QueryUnescape(v)
		var err error
		switch strings.ToLower(k) {
		case "type":
			err = s.Type.UnmarshalText([]byte(v))
		case "class":
			if !strings.EqualFold(v, "IN") {
				err = fmt.Errorf("class %q: only IN is supported", v)
			}
		case "transport":
			err = s.Transport.UnmarshalText([]byte(v))
		default:
			err = fmt.Errorf("unknown query parameter %q (type, class, transport)", k)
		}
		if err != nil {
			return nil, err
		}
	}
	if s.Transport == probes.DNSTCPTLS {
		s.TLSConfig = probes.TLSOptions{CAFile: o.CAFile, InsecureSkipVerify: o.Insecure}
	}
	return s, nil
}
