package config

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/vantageprobe/vantage/probes"
)

// bbConv turns decoded modules into specs, collecting problems.
type bbConv struct {
	pos   Positions
	probs []Problem
}

func (c *bbConv) at(path, format string, args ...any) {
	p := c.pos.Lookup(path)
	c.probs = append(c.probs, Problem{Line: p.Line, Column: p.Column, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// unsupported reports a key that Vantage cannot honour.
func (c *bbConv) unsupported(path string) { c.at(path, "is not supported by vantage") }

func (c *bbConv) module(key string, raw bbModule) (BlackboxModule, bool) {
	path := keyPath("modules", key)
	m := BlackboxModule{Name: key, Kind: probes.Kind(raw.Prober), Timeout: raw.Timeout}
	if raw.Timeout < 0 {
		c.at(path+".timeout", "must not be negative")
	}
	before := len(c.probs)
	switch m.Kind {
	case probes.KindHTTP:
		m.HTTP = c.http(path+".http", cmpPtr(raw.HTTP))
	case probes.KindTCP:
		m.TCP = c.tcp(path+".tcp", cmpPtr(raw.TCP))
	case probes.KindDNS:
		m.DNS = c.dns(path+".dns", cmpPtr(raw.DNS))
	case "":
		c.at(path+".prober", "required (http, tcp, dns)")
	default:
		c.at(path+".prober", "%q is not supported (http, tcp, dns)", raw.Prober)
	}
	return m, len(c.probs) == before
}

// cmpPtr returns *p, or the zero value for nil.
func cmpPtr[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// ipVersions maps preferred_ip_protocol and ip_protocol_fallback (default
// ip6 with fallback, as blackbox_exporter) to ip_version and
// prefer_ip_version.
func (c *bbConv) ipVersions(path string, ip bbIP) (version, prefer probes.IPVersion) {
	family := probes.IPv6
	switch ip.Protocol {
	case "", "ip6":
	case "ip4":
		family = probes.IPv4
	default:
		c.at(path+".preferred_ip_protocol", "%q is not an IP protocol (ip4, ip6)", ip.Protocol)
	}
	if ip.Fallback != nil && !*ip.Fallback {
		return family, ""
	}
	return probes.IPAny, family
}

// tlsOptions converts a tls_config; Go's default minimum version of TLS
// 1.2, which blackbox_exporter keeps, applies when min_version is unset.
func (c *bbConv) tlsOptions(path string, t bbTLS) probes.TLSOptions {
	o := probes.TLSOptions{CAFile: t.CAFile, CertFile: t.CertFile, KeyFile: t.KeyFile,
		ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify, MinVersion: probes.TLSVersion(0x0303)}
	versions := map[string]probes.TLSVersion{"TLS10": 0x0301, "TLS11": 0x0302, "TLS12": 0x0303, "TLS13": 0x0304}
	if t.MinVersion != "" {
		v, ok := versions[t.MinVersion]
		if !ok {
			c.at(path+".min_version", "%q is not a TLS version (TLS10, TLS11, TLS12, TLS13)", t.MinVersion)
		}
		o.MinVersion = v
	}
	if t.MaxVersion != "" {
		c.unsupported(path + ".max_version")
	}
	return o
}

// http converts an http block.
func (c *bbConv) http(path string, h bbHTTP) *probes.HTTPSpec {
	s := &probes.HTTPSpec{
		Method: h.Method, Headers: h.Headers, Body: h.Body, MaxBodyBytes: blackboxMaxBody,
		Traceparent: new(bool), Compression: probes.CompressionIdentity, Cookies: true,
	}
	s.IPVersion, s.PreferIPVersion = c.ipVersions(path, h.IP)
	s.TLSConfig = c.tlsOptions(path+".tls_config", h.Client.TLSConfig)
	for name, value := range h.Headers {
		if http.CanonicalHeaderKey(name) == "Host" && s.TLSConfig.ServerName == "" {
			s.TLSConfig.ServerName = value // as blackbox_exporter: verify the name the request is for
		}
	}
	c.httpClient(path, h.Client, s)
	follow := h.Client.FollowRedirects == nil || *h.Client.FollowRedirects
	if h.NoFollowRedirects != nil {
		follow = !*h.NoFollowRedirects
	}
	s.FollowRedirects = &follow
	c.httpExpect(path, h, &s.Expect)
	c.httpBody(path, h, s)
	c.validate(path, s.Validate())
	return s
}

// httpClient converts prometheus/common's client settings.
func (c *bbConv) httpClient(path string, h bbHTTPClient, s *probes.HTTPSpec) {
	if h.BasicAuth != nil {
		s.BasicAuth = &probes.BasicAuth{Username: h.BasicAuth.Username, Password: h.BasicAuth.Password}
	}
	s.BearerToken = probes.Secret(strings.TrimSpace(h.BearerToken.Reveal()))
	if a := h.Authorization; a != nil {
		switch {
		case a.Type != "" && !strings.EqualFold(a.Type, "Bearer"):
			c.at(path+".authorization.type", "%q is not supported by vantage (Bearer)", a.Type)
		case s.BearerToken != "":
			c.at(path+".authorization", "set either authorization or bearer_token, not both")
		default:
			s.BearerToken = probes.Secret(strings.TrimSpace(a.Credentials.Reveal()))
		}
	}
	if s.BasicAuth != nil && s.BearerToken != "" {
		c.at(path+".basic_auth", "set at most one of basic_auth, authorization and bearer_token")
		s.BasicAuth = nil
	}
	if h.OAuth2 != nil {
		c.unsupported(path + ".oauth2")
	}
	if h.ProxyURL != "" {
		c.unsupported(path + ".proxy_url")
	}
	if len(h.ProxyConnectHeader) > 0 {
		c.unsupported(path + ".proxy_connect_header")
	}
	if h.EnableHTTP2 != nil && !*h.EnableHTTP2 {
		c.at(path+".enable_http2", "false is not supported by vantage (HTTP/2 is always offered over TLS)")
	}
}

// httpExpect converts the assertions of an http block.
func (c *bbConv) httpExpect(path string, h bbHTTP, e *probes.HTTPExpect) {
	e.Status = []probes.StatusRange{{Lo: 200, Hi: 299}}
	if len(h.ValidStatusCodes) > 0 {
		e.Status = make([]probes.StatusRange, len(h.ValidStatusCodes))
		for i, code := range h.ValidStatusCodes {
			e.Status[i] = probes.StatusRange{Lo: code, Hi: code}
		}
	}
	known := []string{"HTTP/1.0", "HTTP/1.1", "HTTP/2.0"}
	for i, v := range h.ValidHTTPVersions {
		if !slices.Contains(known, v) {
			c.at(fmt.Sprintf("%s.valid_http_versions[%d]", path, i), "%q is not supported by vantage (%s)", v, strings.Join(known, ", "))
			continue
		}
		e.Versions = append(e.Versions, v)
	}
	switch {
	case h.FailIfSSL && h.FailIfNotSSL:
		c.at(path+".fail_if_not_ssl", "fail_if_ssl and fail_if_not_ssl together fail every probe")
	case h.FailIfSSL:
		e.TLS = new(bool)
	case h.FailIfNotSSL:
		e.TLS = &h.FailIfNotSSL
	}
	e.BodyNone, e.BodyAll = h.FailIfBodyMatches, h.FailIfBodyNotMatches
	for i, m := range h.FailIfHeaderMatches {
		c.headerRule(e, fmt.Sprintf("%s.fail_if_header_matches[%d]", path, i), m, true)
	}
	for i, m := range h.FailIfHeaderNotMatches {
		c.headerRule(e, fmt.Sprintf("%s.fail_if_header_not_matches[%d]", path, i), m, false)
	}
}

// headerRule adds the rule of one fail_if_header_(not_)matches item.
func (c *bbConv) headerRule(e *probes.HTTPExpect, path string, m bbHeaderMatch, failIfMatches bool) {
	if m.Header == "" {
		c.at(path+".header", "required")
	}
	if m.Regexp.IsZero() {
		c.at(path+".regexp", "required")
	}
	if m.Header == "" || m.Regexp.IsZero() {
		return
	}
	r := probes.HeaderRule{Header: m.Header, AllowMissing: m.AllowMissing}
	if failIfMatches {
		r.NotMatches = m.Regexp
	} else {
		r.Matches = m.Regexp
	}
	e.HeaderRules = append(e.HeaderRules, r)
}

// httpBody converts compression and body_size_limit.
func (c *bbConv) httpBody(path string, h bbHTTP, s *probes.HTTPSpec) {
	switch comp := strings.ToLower(h.Compression); comp {
	case "", "identity":
	case "gzip", "deflate":
		s.Compression = probes.Compression(comp)
	case "br":
		c.at(path+".compression", "%q is not supported by vantage (gzip, deflate, identity)", h.Compression)
	default:
		c.at(path+".compression", "%q is not a compression (gzip, br, deflate, identity)", h.Compression)
	}
	if h.BodySizeLimit != "" {
		n, err := parseBase2Bytes(h.BodySizeLimit)
		if err != nil {
			c.at(path+".body_size_limit", "%v", err)
		}
		s.Expect.BodySizeLimit = n
	}
}

// tcp converts a tcp block.
func (c *bbConv) tcp(path string, t bbTCP) *probes.TCPSpec {
	s := &probes.TCPSpec{SourceIP: t.SourceIP, TLS: t.TLS}
	s.IPVersion, s.PreferIPVersion = c.ipVersions(path, t.IP)
	for i, qr := range t.QueryResponse {
		st := probes.TCPStep{Expect: qr.Expect, StartTLS: qr.StartTLS}
		if qr.Send != "" {
			st.Send = qr.Send + "\n" // blackbox_exporter ends every send with a newline
		}
		if qr.StartTLS && t.TLS {
			c.at(fmt.Sprintf("%s.query_response[%d].starttls", path, i), "the connection already uses TLS (tls: true)")
		}
		s.Dialogue = append(s.Dialogue, st)
	}
	if s.TLS || slices.ContainsFunc(s.Dialogue, func(st probes.TCPStep) bool { return st.StartTLS }) {
		s.TLSConfig = c.tlsOptions(path+".tls_config", t.TLSConfig)
	}
	c.validate(path, s.Validate())
	return s
}

// dns converts a dns block.
func (c *bbConv) dns(path string, d bbDNS) *probes.DNSSpec {
	off := false
	recursion := d.Recursion == nil || *d.Recursion
	s := &probes.DNSSpec{Name: d.QueryName, SourceIP: d.SourceIP, Recursion: &recursion, EDNS0: &off, TCPFallback: &off}
	s.IPVersion, s.PreferIPVersion = c.ipVersions(path, d.IP)
	s.Type = c.dnsType(path+".query_type", cmp.Or(d.QueryType, "ANY"))
	if d.QueryClass != "" {
		if _, ok := dns.StringToClass[d.QueryClass]; !ok || s.Class.UnmarshalText([]byte(d.QueryClass)) != nil {
			c.at(path+".query_class", "%q is not a DNS class (IN, CH, HS, NONE, ANY)", d.QueryClass)
		}
	}
	switch d.TransportProtocol {
	case "", "udp":
		s.Transport = probes.DNSUDP
	case "tcp":
		s.Transport = probes.DNSTCP
	default:
		c.at(path+".transport_protocol", "%q is not a transport (udp, tcp)", d.TransportProtocol)
	}
	if d.DNSOverTLS {
		if s.Transport != probes.DNSTCP {
			c.at(path+".dns_over_tls", "needs transport_protocol: tcp")
		}
		s.Transport = probes.DNSTCPTLS
		s.TLSConfig = c.tlsOptions(path+".tls_config", d.TLSConfig)
	}
	s.Expect.Rcodes = c.rcodes(path+".valid_rcodes", d.ValidRcodes)
	s.Expect.AnswerRRs = rrExpect(d.ValidateAnswer)
	s.Expect.AuthorityRRs = rrExpect(d.ValidateAuthority)
	s.Expect.AdditionalRRs = rrExpect(d.ValidateAdditional)
	c.validate(path, s.Validate())
	return s
}

// dnsType parses query_type as blackbox_exporter does (upper-case
// mnemonics only).
func (c *bbConv) dnsType(path, name string) probes.DNSType {
	var t probes.DNSType
	if _, ok := dns.StringToType[name]; !ok {
		c.at(path, "%q is not a DNS type", name)
		return t
	}
	if err := t.UnmarshalText([]byte(name)); err != nil {
		c.at(path, "%q is not supported by vantage", name)
	}
	return t
}

func (c *bbConv) rcodes(path string, names *[]string) []probes.DNSRcode {
	if names == nil {
		return nil
	}
	if len(*names) == 0 {
		c.at(path, "an empty list accepts no response code")
	}
	out := make([]probes.DNSRcode, len(*names))
	for i, n := range *names {
		_, ok := dns.StringToRcode[n]
		if !ok || out[i].UnmarshalText([]byte(n)) != nil {
			c.at(fmt.Sprintf("%s[%d]", path, i), "%q is not a DNS rcode (NOERROR, NXDOMAIN, SERVFAIL, REFUSED …)", n)
		}
	}
	return out
}

// rrExpect converts one validate_*_rrs block. blackbox_exporter 0.23 fails
// fail_if_all_match_regexp unless every record matches every pattern (an
// empty section passes), and fail_if_not_matches_regexp the same way
// except that an empty section fails.
func rrExpect(v bbRRValidator) probes.RRExpect {
	e := probes.RRExpect{
		NoneMatch:  v.FailIfMatches,
		EveryMatch: slices.Concat(v.FailIfAllMatch, v.FailIfNotMatches),
		SomeMatch:  v.FailIfNoneMatches,
	}
	if len(v.FailIfNotMatches) > 0 {
		e.MinRecords = 1
	}
	return e
}

// validate reports what a spec's own validation finds, at the block's
// path, naming blackbox_exporter's key where it has the same meaning.
func (c *bbConv) validate(path string, err error) {
	rename := map[string]string{"name": "query_name", "source_ip": "source_ip_address"}
	for _, e := range splitErrors(err) {
		field, msg := splitField(e.Error())
		root, rest, _ := strings.Cut(field, ".")
		switch root {
		case "url", "address", "server":
			continue // the target, set per request
		case "method", "headers", "body", "tls_config", "name", "source_ip":
			c.at(strings.TrimSuffix(path+"."+cmp.Or(rename[root], root)+"."+rest, "."), "%s", msg)
		case "":
			c.at(path, "%s", msg)
		default:
			c.at(path, "%s: %s", field, msg)
		}
	}
}
