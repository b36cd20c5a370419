package config_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/vantageprobe/vantage/config"
	"github.com/vantageprobe/vantage/probes"
)

// TestBlackboxDebianExample: the http and tcp modules of Debian's
// /etc/prometheus/blackbox.yml load as blackbox_exporter reads them.
func TestBlackboxDebianExample(t *testing.T) {
	mods, err := config.LoadBlackbox("testdata/blackbox/debian-supported.yml")
	if err != nil {
		t.Fatalf("LoadBlackbox: %v", err)
	}
	want := []string{"dns_udp", "http_2xx", "http_post_2xx", "irc_banner", "pop3s_banner", "ssh_banner", "tcp_connect"}
	if got := slices.Sorted(mapKeys(mods.Modules)); !slices.Equal(got, want) {
		t.Fatalf("modules %v, want %v", got, want)
	}
	h := mods.Modules["http_2xx"]
	if h.Kind != probes.KindHTTP || h.Timeout != 0 || h.HTTP == nil || h.TCP != nil || h.DNS != nil {
		t.Fatalf("http_2xx = %+v", h)
	}
	if got := h.HTTP.Expect.Status; len(got) != 1 || got[0] != (probes.StatusRange{Lo: 200, Hi: 299}) {
		t.Errorf("default valid_status_codes %v, want 2xx", got)
	}
	if h.HTTP.IPVersion != probes.IPAny || h.HTTP.PreferIPVersion != probes.IPv6 {
		t.Errorf("default IP protocol %q prefer %q, want any with IPv6 preferred", h.HTTP.IPVersion, h.HTTP.PreferIPVersion)
	}
	if *h.HTTP.FollowRedirects != true || *h.HTTP.Traceparent || h.HTTP.Compression != probes.CompressionIdentity {
		t.Errorf("http defaults: follow %v traceparent %v compression %q", *h.HTTP.FollowRedirects, *h.HTTP.Traceparent, h.HTTP.Compression)
	}
	if m := mods.Modules["http_post_2xx"].HTTP.Method; m != "POST" {
		t.Errorf("http_post_2xx method %q", m)
	}
	irc := mods.Modules["irc_banner"].TCP
	if len(irc.Dialogue) != 4 || irc.Dialogue[2].Send != "PONG ${1}\n" || irc.Dialogue[2].Expect.String() != "PING :([^ ]+)" || irc.Dialogue[0].Send != "NICK prober\n" {
		t.Errorf("irc_banner dialogue %+v", irc.Dialogue)
	}
	pop := mods.Modules["pop3s_banner"].TCP
	if !pop.TLS || pop.TLSConfig.MinVersion != 0x0303 || len(pop.Dialogue) != 1 {
		t.Errorf("pop3s_banner = %+v", pop)
	}
	d := mods.Modules["dns_udp"]
	if d.Timeout != 5*time.Second || uint16(d.DNS.Type) != dns.TypeA || d.DNS.Name != "www.prometheus.io" || *d.DNS.EDNS0 || *d.DNS.TCPFallback {
		t.Errorf("dns_udp = %+v", d.DNS)
	}
	a := d.DNS.Expect.AnswerRRs
	if len(a.NoneMatch) != 1 || len(a.EveryMatch) != 2 || len(a.SomeMatch) != 1 || a.MinRecords != 1 {
		t.Errorf("validate_answer_rrs = %+v", a)
	}
}

// TestBlackboxDebianFullFile: the whole Debian example names every module
// whose prober Vantage does not have, and nothing else.
func TestBlackboxDebianFullFile(t *testing.T) {
	_, err := config.LoadBlackbox("testdata/blackbox/debian.yml")
	var cerr *config.Error
	if !errors.As(err, &cerr) {
		t.Fatalf("error %v, want a *config.Error", err)
	}
	want := []string{
		`testdata/blackbox/debian.yml:19:13: modules.grpc.prober: "grpc" is not supported (http, tcp, dns)`,
		`testdata/blackbox/debian.yml:24:13: modules.grpc_plain.prober: "grpc" is not supported (http, tcp, dns)`,
		`testdata/blackbox/debian.yml:44:13: modules.icmp.prober: "icmp" is not supported (http, tcp, dns)`,
		`testdata/blackbox/debian.yml:46:13: modules.icmp_ttl5.prober: "icmp" is not supported (http, tcp, dns)`,
	}
	if got := strings.Split(err.Error(), "\n"); !slices.Equal(got, want) {
		t.Fatalf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestBlackboxEveryProblem: one pass reports every problem of a file, each
// with its line, column and key path, columns true to the file even after
// a ${1}.
func TestBlackboxEveryProblem(t *testing.T) {
	_, err := config.LoadBlackbox("testdata/blackbox/bad.yml")
	if err == nil {
		t.Fatal("no error")
	}
	f := "testdata/blackbox/bad.yml:"
	want := []string{
		f + `3:13: modules.icmp.prober: "icmp" is not supported (http, tcp, dns)`,
		f + `6:13: modules.grpc.prober: "grpc" is not supported (http, tcp, dns)`,
		f + `9:5: modules.noprober.prober: required (http, tcp, dns)`,
		f + `13:7: modules.typo.http: unknown key "valid_status_code" (did you mean "valid_status_codes"?)`,
		f + `17:15: modules.client.http.oauth2: is not supported by vantage`,
		f + `18:18: modules.client.http.proxy_url: is not supported by vantage`,
		f + `19:29: modules.client.http.authorization.type: "Basic" is not supported by vantage (Bearer)`,
		f + `20:21: modules.client.http.enable_http2: false is not supported by vantage (HTTP/2 is always offered over TLS)`,
		f + `21:19: modules.client.http.tls_config: cert_file and key_file must be set together`,
		f + `21:33: modules.client.http.tls_config.min_version: "TLS14" is not a TLS version (TLS10, TLS11, TLS12, TLS13)`,
		f + `21:53: modules.client.http.tls_config.max_version: is not supported by vantage`,
		f + `25:20: modules.body.http.compression: "br" is not supported by vantage (gzip, deflate, identity)`,
		f + `26:24: modules.body.http.body_size_limit: "100" is not a size such as 10MB (units B, KB, MB, GB …, each 1024 of the one before)`,
		f + `28:24: modules.body.http.fail_if_not_ssl: fail_if_ssl and fail_if_not_ssl together fail every probe`,
		f + `29:29: modules.body.http.valid_http_versions[0]: "HTTP/2" is not supported by vantage (HTTP/1.0, HTTP/1.1, HTTP/2.0)`,
		f + `30:30: modules.body.http.preferred_ip_protocol: "ipv5" is not an IP protocol (ip4, ip6)`,
		f + `31:32: modules.body.http.fail_if_header_matches[0].regexp: required`,
		f + "36:39: modules.tcp.tcp.query_response[0].expect: invalid regular expression: error parsing regexp: missing closing ): `(`",
		f + `37:26: modules.tcp.tcp.source_ip_address: "nope" is not an IP address`,
		f + `41:7: modules.dns.dns.query_name: required`,
		f + `41:19: modules.dns.dns.query_type: "a" is not a DNS type`,
		f + `42:20: modules.dns.dns.query_class: "XX" is not a DNS class (IN, CH, HS, NONE, ANY)`,
		f + `43:21: modules.dns.dns.dns_over_tls: needs transport_protocol: tcp`,
		f + `44:22: modules.dns.dns.valid_rcodes[0]: "NOERR" is not a DNS rcode (NOERROR, NXDOMAIN, SERVFAIL, REFUSED …)`,
		f + `48:7: modules.dns_empty.dns.query_name: required`,
		f + `48:19: modules.dns_empty.dns.query_type: "AXFR" is not supported by vantage`,
		f + `49:21: modules.dns_empty.dns.valid_rcodes: an empty list accepts no response code`,
	}
	if got := strings.Split(err.Error(), "\n"); !slices.Equal(got, want) {
		t.Fatalf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestBlackboxConversion: each blackbox_exporter option lands on the spec
// field that has its meaning.
func TestBlackboxConversion(t *testing.T) {
	dir := t.TempDir()
	token := filepath.Join(dir, "token")
	if err := os.WriteFile(token, []byte("s3cret-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := fmt.Sprintf(`modules:
  h:
    prober: http
    timeout: 3s
    http:
      valid_status_codes: [200, 204]
      valid_http_versions: ["HTTP/1.1", "HTTP/2.0"]
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
      no_follow_redirects: true
      fail_if_ssl: true
      headers: {Host: example.org, X-A: "b"}
      fail_if_body_matches_regexp: ["error", "down"]
      fail_if_body_not_matches_regexp: ["ok"]
      fail_if_header_matches: [{header: Server, regexp: IIS}]
      fail_if_header_not_matches: [{header: X-Version, regexp: "^v2$", allow_missing: true}]
      compression: GZIP
      body_size_limit: 1.5KiB
      bearer_token_file: %s
      skip_resolve_phase_with_proxy: true
      tls_config: {min_version: TLS13, insecure_skip_verify: true}
  b:
    prober: http
    http:
      basic_auth: {username: u, password: "pa$${x}ss"}
      follow_redirects: false
      preferred_ip_protocol: ip4
  t:
    prober: tcp
    tcp:
      source_ip_address: 127.0.0.2
      query_response:
        - {expect: "^220", send: "EHLO ${1}"}
        - {starttls: true}
      tls_config: {server_name: mail.example}
  d:
    prober: dns
    dns:
      query_name: example.org
      query_type: MX
      query_class: CH
      transport_protocol: tcp
      dns_over_tls: true
      recursion_desired: false
      valid_rcodes: [NOERROR, NXDOMAIN]
      validate_authority_rrs: {fail_if_all_match_regexp: [SOA]}
`, token)
	mods, err := config.ParseBlackbox("bb.yml", []byte(src))
	if err != nil {
		t.Fatalf("ParseBlackbox: %v", err)
	}
	h := mods.Modules["h"].HTTP
	e := h.Expect
	checks := []struct {
		name string
		ok   bool
	}{
		{"timeout", mods.Modules["h"].Timeout == 3*time.Second},
		{"status", slices.Equal(e.Status, []probes.StatusRange{{Lo: 200, Hi: 200}, {Lo: 204, Hi: 204}})},
		{"versions", slices.Equal(e.Versions, []string{"HTTP/1.1", "HTTP/2.0"})},
		{"ip4 only", h.IPVersion == probes.IPv4 && h.PreferIPVersion == ""},
		{"no follow", !*h.FollowRedirects},
		{"fail_if_ssl", e.TLS != nil && !*e.TLS},
		{"server name from Host", h.TLSConfig.ServerName == "example.org" && h.Headers["X-A"] == "b"},
		{"body none", len(e.BodyNone) == 2 && e.BodyNone[1].String() == "down"},
		{"body all", len(e.BodyAll) == 1 && e.BodyAll[0].String() == "ok"},
		{"header rules", len(e.HeaderRules) == 2 && e.HeaderRules[0].NotMatches.String() == "IIS" && e.HeaderRules[1].Matches.String() == "^v2$" && e.HeaderRules[1].AllowMissing},
		{"compression", h.Compression == probes.CompressionGzip},
		{"body size", e.BodySizeLimit == 1536},
		{"bearer from file", h.BearerToken.Reveal() == "s3cret-token" && fmt.Sprint(h.BearerToken) == "<redacted>"},
		{"tls", h.TLSConfig.MinVersion == 0x0304 && h.TLSConfig.InsecureSkipVerify},
	}
	b := mods.Modules["b"].HTTP
	checks = append(checks,
		struct {
			name string
			ok   bool
		}{"basic auth, $ kept", b.BasicAuth.Username == "u" && b.BasicAuth.Password.Reveal() == "pa$${x}ss" && fmt.Sprintf("%v", b.BasicAuth.Password) == "<redacted>"},
		struct {
			name string
			ok   bool
		}{"follow_redirects false", !*b.FollowRedirects && b.IPVersion == probes.IPAny && b.PreferIPVersion == probes.IPv4},
	)
	tc := mods.Modules["t"].TCP
	d := mods.Modules["d"].DNS
	checks = append(checks, []struct {
		name string
		ok   bool
	}{
		{"tcp", tc.SourceIP == "127.0.0.2" && len(tc.Dialogue) == 2 && tc.Dialogue[0].Send == "EHLO ${1}\n" && tc.Dialogue[1].StartTLS && tc.TLSConfig.ServerName == "mail.example"},
		{"dns query", uint16(d.Type) == dns.TypeMX && d.Class.Code() == dns.ClassCHAOS && d.Transport == probes.DNSTCPTLS && !*d.Recursion},
		{"dns rcodes", len(d.Expect.Rcodes) == 2 && d.Expect.Rcodes[1].Code() == dns.RcodeNameError},
		{"dns authority", len(d.Expect.AuthorityRRs.EveryMatch) == 1 && d.Expect.AuthorityRRs.MinRecords == 0},
	}...)
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s: not converted as expected", c.name)
		}
	}
}

// TestBlackboxTargets: targets are read as blackbox_exporter reads them.
func TestBlackboxTargets(t *testing.T) {
	mods, err := config.ParseBlackbox("bb.yml", []byte(`modules:
  h: {prober: http}
  t: {prober: tcp}
  d: {prober: dns, dns: {query_name: example.org}}
  dot: {prober: dns, dns: {query_name: example.org, transport_protocol: tcp, dns_over_tls: true}}
`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		module, target string
		want           string // the Result's target; "" for an error
	}{
		{"h", "localhost", "http://localhost"},
		{"h", "127.0.0.1:8080/health?x=1", "http://127.0.0.1:8080/health?x=1"},
		{"h", "https://localhost/", "https://localhost/"},
		{"h", "HTTPS://localhost/", "http://HTTPS://localhost/"}, // only lower-case schemes count, as in blackbox_exporter
		{"h", "http://user:pw@localhost/", ""},
		{"t", "127.0.0.1:22", "127.0.0.1:22"},
		{"t", "localhost", ""},
		{"d", "127.0.0.1", "example.org @127.0.0.1:53"},
		{"d", "127.0.0.1:5353", "example.org @127.0.0.1:5353"},
		{"d", "::1", "example.org @[::1]:53"},
		{"dot", "127.0.0.1", "example.org @127.0.0.1:853"},
		{"d", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.module+"/"+tt.target, func(t *testing.T) {
			p, err := mods.Modules[tt.module].Prober(tt.target, probes.WithGuard(denyAll(t)))
			if tt.want == "" {
				if err == nil || p != nil {
					t.Fatalf("Prober(%q) = %v, %v; want an error", tt.target, p, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Prober(%q): %v", tt.target, err)
			}
			// The guard denies every address (all are loopback ones anyway):
			// the probe resolves the target as read and goes nowhere.
			res, err := p.Probe(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if res.Target != tt.want {
				t.Errorf("target %q, want %q", res.Target, tt.want)
			}
		})
	}
}

// denyAll is a guard that lets no probe connect anywhere.
func denyAll(t *testing.T) *probes.Guard {
	t.Helper()
	g, err := probes.NewGuard(nil, []string{"0.0.0.0/0", "::/0"})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestBlackboxEmptyAndMissing(t *testing.T) {
	mods, err := config.ParseBlackbox("empty.yml", nil)
	if err != nil || len(mods.Modules) != 0 {
		t.Fatalf("empty file: %v, %v", mods, err)
	}
	if _, err := config.LoadBlackbox(filepath.Join(t.TempDir(), "nope.yml")); err == nil || !strings.Contains(err.Error(), "read blackbox modules") {
		t.Fatalf("missing file: %v", err)
	}
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
