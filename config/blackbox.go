package config

import (
	"bytes"
	"fmt"
	"maps"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/miekg/dns"

	"github.com/vantageprobe/vantage/probes"
)

// BlackboxModules is a blackbox_exporter modules file (blackbox.yml), read
// as blackbox_exporter 0.23-0.25 reads it, for GET /probe.
type BlackboxModules struct {
	Modules map[string]BlackboxModule
}

// BlackboxModule is one module: a prober and its settings as a Vantage
// probe spec whose target is left empty (set per request by Prober).
type BlackboxModule struct {
	Name string
	// Kind is the module's prober: probes.KindHTTP, KindTCP or KindDNS
	// (named Kind since Prober is the method that builds one).
	Kind    probes.Kind
	Timeout time.Duration // 0 when the file gives none
	// The spec of the module's prober; the others are nil.
	HTTP *probes.HTTPSpec
	TCP  *probes.TCPSpec
	DNS  *probes.DNSSpec
}

// blackboxMaxBody stands for blackbox_exporter's unlimited body (no
// body_size_limit): bodies are read whole, as it does.
const blackboxMaxBody = 1 << 40

// LoadBlackbox reads a blackbox_exporter modules file.
func LoadBlackbox(path string) (*BlackboxModules, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read blackbox modules: %w", err)
	}
	return ParseBlackbox(path, data)
}

// ParseBlackbox parses one; name is used in error positions. Every problem
// is reported, as an *Error. Relative file names (ca_file,
// bearer_token_file …) are relative to the working directory, as for
// blackbox_exporter; ${…} is taken literally, since blackbox_exporter
// expands no variables (and query_response sends use ${1}).
func ParseBlackbox(name string, data []byte) (*BlackboxModules, error) {
	escaped, shifts := escapeDollars(data)
	var raw bbFile
	pos, decoded := Decode(escaped, &raw, DecodeOptions{})
	c := &bbConv{pos: pos}
	out := &BlackboxModules{Modules: make(map[string]BlackboxModule, len(raw.Modules))}
	for _, key := range slices.Sorted(maps.Keys(raw.Modules)) {
		if m, ok := c.module(key, raw.Modules[key]); ok {
			out.Modules[key] = m
		}
	}
	problems := mergeProblems(decoded, c.probs)
	for i := range problems {
		problems[i].Column = shifts.unshift(problems[i].Line, problems[i].Column)
	}
	if len(problems) > 0 {
		return nil, &Error{File: name, Problems: problems}
	}
	return out, nil
}

// Prober builds a prober for one target, interpreting the target exactly
// as blackbox_exporter does for the module's prober: http, a URL ("http://"
// is added when it starts with neither http:// nor https://); tcp,
// host:port; dns, the server as host[:port] (port 53, or 853 with
// dns_over_tls). opts (probes.WithGuard …) are passed to the probe's
// constructor. An error means the target cannot be probed at all, which
// blackbox_exporter reports as a failed probe.
func (m BlackboxModule) Prober(target string, opts ...probes.Option) (probes.Prober, error) {
	if target == "" {
		return nil, fmt.Errorf("module %s: empty target", m.Name)
	}
	var (
		p   probes.Prober
		err error
	)
	switch m.Kind {
	case probes.KindHTTP:
		p, err = m.httpProber(target, opts)
	case probes.KindTCP:
		s := *m.TCP
		s.Address = target
		p, err = nilIfErr(probes.NewTCP(s, opts...))
	case probes.KindDNS:
		s := *m.DNS
		s.Server = target
		p, err = nilIfErr(probes.NewDNS(s, opts...))
	default:
		return nil, fmt.Errorf("module %s: prober %q is not supported", m.Name, m.Kind)
	}
	if err != nil {
		return nil, fmt.Errorf("module %s, target %q: %w", m.Name, target, err)
	}
	return p, nil
}

func (m BlackboxModule) httpProber(target string, opts []probes.Option) (probes.Prober, error) {
	if !strings.HasPrefix(target, "http://") && !strings.HasPrefix(target, "https://") {
		target = "http://" + target
	}
	s := *m.HTTP
	s.URL = target
	return nilIfErr(probes.NewHTTP(s, opts...))
}

// nilIfErr turns a constructor's typed result into a Prober that is a true
// nil on error.
func nilIfErr[P probes.Prober](p P, err error) (probes.Prober, error) {
	if err != nil {
		return nil, err
	}
	return p, nil
}

// The file as blackbox_exporter 0.23 declares it; icmp and grpc blocks are
// decoded only so that a module using them is reported as unsupported.
type (
	bbFile struct {
		Modules map[string]bbModule `yaml:"modules"`
	}
	bbModule struct {
		Prober  string        `yaml:"prober"`
		Timeout time.Duration `yaml:"timeout"`
		HTTP    *bbHTTP       `yaml:"http"`
		TCP     *bbTCP        `yaml:"tcp"`
		DNS     *bbDNS        `yaml:"dns"`
		ICMP    *bbICMP       `yaml:"icmp"`
		GRPC    *bbGRPC       `yaml:"grpc"`
	}
	bbIP struct {
		Protocol string `yaml:"preferred_ip_protocol"`
		Fallback *bool  `yaml:"ip_protocol_fallback"`
	}
	bbTLS struct {
		CAFile             string `yaml:"ca_file"`
		CertFile           string `yaml:"cert_file"`
		KeyFile            string `yaml:"key_file"`
		ServerName         string `yaml:"server_name"`
		InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
		MinVersion         string `yaml:"min_version"`
		MaxVersion         string `yaml:"max_version"`
	}
	bbHTTP struct {
		IP                        bbIP              `yaml:",inline"`
		Client                    bbHTTPClient      `yaml:",inline"`
		ValidStatusCodes          []int             `yaml:"valid_status_codes"`
		ValidHTTPVersions         []string          `yaml:"valid_http_versions"`
		NoFollowRedirects         *bool             `yaml:"no_follow_redirects"`
		FailIfSSL                 bool              `yaml:"fail_if_ssl"`
		FailIfNotSSL              bool              `yaml:"fail_if_not_ssl"`
		Method                    string            `yaml:"method"`
		Headers                   map[string]string `yaml:"headers"`
		FailIfBodyMatches         []probes.Pattern  `yaml:"fail_if_body_matches_regexp"`
		FailIfBodyNotMatches      []probes.Pattern  `yaml:"fail_if_body_not_matches_regexp"`
		FailIfHeaderMatches       []bbHeaderMatch   `yaml:"fail_if_header_matches"`
		FailIfHeaderNotMatches    []bbHeaderMatch   `yaml:"fail_if_header_not_matches"`
		Body                      string            `yaml:"body"`
		Compression               string            `yaml:"compression"`
		BodySizeLimit             string            `yaml:"body_size_limit"`
		SkipResolvePhaseWithProxy bool              `yaml:"skip_resolve_phase_with_proxy"`
	}
	// bbHTTPClient is prometheus/common's HTTPClientConfig, inlined.
	bbHTTPClient struct {
		BasicAuth          *bbBasicAuth        `yaml:"basic_auth"`
		Authorization      *bbAuthorization    `yaml:"authorization"`
		OAuth2             *bbOAuth2           `yaml:"oauth2"`
		BearerToken        probes.Secret       `yaml:"bearer_token"`
		ProxyURL           string              `yaml:"proxy_url"`
		ProxyConnectHeader map[string][]string `yaml:"proxy_connect_header"`
		TLSConfig          bbTLS               `yaml:"tls_config"`
		FollowRedirects    *bool               `yaml:"follow_redirects"`
		EnableHTTP2        *bool               `yaml:"enable_http2"`
	}
	bbBasicAuth struct {
		Username string        `yaml:"username"`
		Password probes.Secret `yaml:"password"`
	}
	bbAuthorization struct {
		Type        string        `yaml:"type"`
		Credentials probes.Secret `yaml:"credentials"`
	}
	bbOAuth2 struct {
		ClientID       string            `yaml:"client_id"`
		ClientSecret   probes.Secret     `yaml:"client_secret"`
		Scopes         []string          `yaml:"scopes"`
		TokenURL       string            `yaml:"token_url"`
		EndpointParams map[string]string `yaml:"endpoint_params"`
		TLSConfig      bbTLS             `yaml:"tls_config"`
		ProxyURL       string            `yaml:"proxy_url"`
	}
	bbHeaderMatch struct {
		Header       string         `yaml:"header"`
		Regexp       probes.Pattern `yaml:"regexp"`
		AllowMissing bool           `yaml:"allow_missing"`
	}
	bbTCP struct {
		IP            bbIP              `yaml:",inline"`
		SourceIP      string            `yaml:"source_ip_address"`
		QueryResponse []bbQueryResponse `yaml:"query_response"`
		TLS           bool              `yaml:"tls"`
		TLSConfig     bbTLS             `yaml:"tls_config"`
	}
	bbQueryResponse struct {
		Expect   probes.Pattern `yaml:"expect"`
		Send     string         `yaml:"send"`
		StartTLS bool           `yaml:"starttls"`
	}
	bbDNS struct {
		IP                 bbIP          `yaml:",inline"`
		SourceIP           string        `yaml:"source_ip_address"`
		TransportProtocol  string        `yaml:"transport_protocol"`
		DNSOverTLS         bool          `yaml:"dns_over_tls"`
		TLSConfig          bbTLS         `yaml:"tls_config"`
		QueryName          string        `yaml:"query_name"`
		QueryType          string        `yaml:"query_type"`
		QueryClass         string        `yaml:"query_class"`
		Recursion          *bool         `yaml:"recursion_desired"`
		ValidRcodes        *[]string     `yaml:"valid_rcodes"`
		ValidateAnswer     bbRRValidator `yaml:"validate_answer_rrs"`
		ValidateAuthority  bbRRValidator `yaml:"validate_authority_rrs"`
		ValidateAdditional bbRRValidator `yaml:"validate_additional_rrs"`
	}
	bbRRValidator struct {
		FailIfMatches     []probes.Pattern `yaml:"fail_if_matches_regexp"`
		FailIfAllMatch    []probes.Pattern `yaml:"fail_if_all_match_regexp"`
		FailIfNotMatches  []probes.Pattern `yaml:"fail_if_not_matches_regexp"`
		FailIfNoneMatches []probes.Pattern `yaml:"fail_if_none_matches_regexp"`
	}
	bbICMP struct {
		IP           bbIP   `yaml:",inline"`
		SourceIP     string `yaml:"source_ip_address"`
		PayloadSize  int    `yaml:"payload_size"`
		DontFragment bool   `yaml:"dont_fragment"`
		TTL          int    `yaml:"ttl"`
	}
	bbGRPC struct {
		IP        bbIP   `yaml:",inline"`
		Service   string `yaml:"service"`
		TLS       bool   `yaml:"tls"`
		TLSConfig bbTLS  `yaml:"tls_config"`
	}
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
	s.Type = c.dnsType(path+".query_type", cmpOr(d.QueryType, "ANY"))
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

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
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
			c.at(strings.TrimSuffix(path+"."+cmpOr(rename[root], root)+"."+rest, "."), "%s", msg)
		case "":
			c.at(path, "%s", msg)
		default:
			c.at(path, "%s: %s", field, msg)
		}
	}
}

// parseBase2Bytes parses a size as blackbox_exporter's body_size_limit
// (alecthomas/units): "0", or numbers each with a unit, B, KB/KiB, MB/MiB,
// GB/GiB, TB/TiB, PB/PiB or EB/EiB, all powers of 1024 ("1.5MB", "1GB512MB").
func parseBase2Bytes(s string) (int64, error) {
	if s == "0" {
		return 0, nil
	}
	units := map[string]float64{"B": 1}
	for i, p := range []string{"K", "M", "G", "T", "P", "E"} {
		units[p+"B"] = float64(int64(1) << (10 * (i + 1)))
		units[p+"iB"] = units[p+"B"]
	}
	var total float64
	for rest := s; rest != ""; {
		num := strings.TrimLeft(rest, "0123456789.")
		unit := strings.TrimLeft(num, "ABEGKMPTi")
		n, err := strconv.ParseFloat(rest[:len(rest)-len(num)], 64)
		mult, ok := units[num[:len(num)-len(unit)]]
		if err != nil || !ok {
			return 0, fmt.Errorf("%q is not a size such as 10MB (units B, KB, MB, GB …, each 1024 of the one before)", s)
		}
		total += n * mult
		rest = unit
	}
	if total >= 1<<62 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return int64(total), nil
}

// dollarShifts records, per line, the columns at which escapeDollars
// inserted a "$".
type dollarShifts map[int][]int

// escapeDollars doubles the "$" of every "${" in src, so that Decode, which
// expands ${VAR}, leaves it as written.
func escapeDollars(src []byte) ([]byte, dollarShifts) {
	if !bytes.Contains(src, []byte("${")) {
		return src, nil
	}
	shifts := dollarShifts{}
	var out bytes.Buffer
	for i, line := range bytes.SplitAfter(src, []byte("\n")) {
		for {
			j := bytes.Index(line, []byte("${"))
			if j < 0 {
				break
			}
			out.Write(line[:j])
			out.WriteByte('$')
			shifts[i+1] = append(shifts[i+1], utf8.RuneCount(out.Bytes()[bytes.LastIndexByte(out.Bytes(), '\n')+1:]))
			out.WriteString("${")
			line = line[j+2:]
		}
		out.Write(line)
	}
	return out.Bytes(), shifts
}

// unshift maps a column of the escaped text back to the original.
func (s dollarShifts) unshift(line, col int) int {
	n := 0
	for _, at := range s[line] {
		if at < col {
			n++
		}
	}
	return col - n
}
