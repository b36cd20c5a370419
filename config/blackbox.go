package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

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
	data, err := probes.ReadFileLimit(path, maxDocumentBytes)
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
