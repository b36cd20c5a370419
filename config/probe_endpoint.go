package config

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/vantageprobe/vantage/probes"
)

// Defaults of the /probe endpoint.
const (
	DefaultProbeConcurrency = 16
	// DefaultProbeTimeout bounds a probe when neither the module nor the
	// scraper (X-Prometheus-Scrape-Timeout-Seconds) gives a timeout, as
	// blackbox_exporter does.
	DefaultProbeTimeout = 120 * time.Second
)

// ProbeEndpoint configures GET /probe, the blackbox_exporter-compatible
// endpoint: one fresh probe of a module against a target, as metrics.
type ProbeEndpoint struct {
	Enabled bool `yaml:"enabled"` // default false
	// ModulesFile is a blackbox_exporter modules file (blackbox.yml),
	// relative to the config file.
	ModulesFile string `yaml:"modules_file"`
	// AllowTargets lists the CIDRs, IPs and host-name globs (*.example.com)
	// a probe may connect to, checked at dial time after name resolution,
	// on every redirect too; empty allows every address not denied.
	AllowTargets []string `yaml:"allow_targets"`
	// DenyTargets are CIDRs and IPs never connected to, on top of the
	// link-local and metadata ranges that are always denied. Default:
	// loopback (the server's own listeners) and the private ranges
	// (DefaultProbeDeny), so an open /probe cannot map the network behind
	// it; setting the key replaces that default.
	DenyTargets []string `yaml:"deny_targets"`
	// Auth, when set, is required of every /probe request.
	Auth ProbeAuth `yaml:"auth"`
	// MaxConcurrent probes at once; more wait, then get 503 (default 16).
	MaxConcurrent int `yaml:"max_concurrent"`

	// Modules are the modules read from ModulesFile.
	Modules *BlackboxModules `yaml:"-"`
	// Guard is built from AllowTargets and DenyTargets.
	Guard *probes.Guard `yaml:"-"`
}

// ProbeAuth is the optional authentication of /probe: a bearer token, HTTP
// basic auth, or either.
type ProbeAuth struct {
	BearerToken probes.Secret   `yaml:"bearer_token"` // or bearer_token_file
	BasicAuth   *ProbeBasicAuth `yaml:"basic_auth"`
}

// ProbeBasicAuth is a user name and password for /probe.
type ProbeBasicAuth struct {
	Username string        `yaml:"username"`
	Password probes.Secret `yaml:"password"` // or password_file
}

// Required reports whether any credential is configured.
func (a ProbeAuth) Required() bool { return a.BearerToken != "" || a.BasicAuth != nil }

// DefaultProbeDeny is deny_targets when the key is not set: loopback, the
// private IPv4 ranges (RFC 1918), shared address space (RFC 6598) and
// IPv6 unique local addresses.
func DefaultProbeDeny() []string {
	return []string{"127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"}
}

// validateProbeEndpoint applies the defaults, builds the guard and reads
// the modules file.
func (c *Config) validateProbeEndpoint(pos Positions, base string) []Problem {
	pe := &c.ProbeEndpoint
	var ps []Problem
	at := func(path, msg string) {
		p := pos.Lookup(path)
		ps = append(ps, Problem{Line: p.Line, Column: p.Column, Path: path, Msg: msg})
	}
	if !pos.Has("probe_endpoint.deny_targets") {
		pe.DenyTargets = DefaultProbeDeny()
	}
	if pe.MaxConcurrent == 0 {
		pe.MaxConcurrent = DefaultProbeConcurrency
	}
	if pe.MaxConcurrent < 0 {
		at("probe_endpoint.max_concurrent", "must be positive")
	}
	if b := pe.Auth.BasicAuth; b != nil && (b.Username == "" || b.Password == "") {
		at("probe_endpoint.auth.basic_auth", "needs username and password (or password_file)")
	}
	g, err := probes.NewGuard(pe.AllowTargets, pe.DenyTargets)
	if err != nil {
		field := "probe_endpoint.allow_targets"
		if strings.HasPrefix(err.Error(), "deny") {
			field = "probe_endpoint.deny_targets"
		}
		at(field, err.Error())
	}
	pe.Guard = g
	if !pe.Enabled {
		return ps
	}
	if pe.ModulesFile == "" {
		at("probe_endpoint.modules_file", "required when the endpoint is enabled")
		return ps
	}
	if !filepath.IsAbs(pe.ModulesFile) {
		pe.ModulesFile = filepath.Join(base, pe.ModulesFile)
	}
	mods, err := LoadBlackbox(pe.ModulesFile)
	if err != nil {
		at("probe_endpoint.modules_file", fmt.Sprintf("%v", err))
		return ps
	}
	pe.Modules = mods
	return ps
}
