// Package config decodes vantage.yaml into typed structs composed from the
// components' own specs, applies defaults, and validates the whole file,
// reporting every problem as FILE:LINE:COL: path: message.
package config

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/vantageprobe/vantage/alerts"
	"github.com/vantageprobe/vantage/probes"
	"github.com/vantageprobe/vantage/results"
	"github.com/vantageprobe/vantage/statuspage"
	"github.com/vantageprobe/vantage/tracing"
)

// Defaults.
const (
	DefaultInterval = 60 * time.Second
	DefaultTimeout  = 10 * time.Second
	MinInterval     = time.Second
	DefaultListen   = "127.0.0.1:8080"
	// DefaultAdminListen is the admin listener's address unless
	// server.admin_listen sets another, or "off".
	DefaultAdminListen     = "127.0.0.1:8081"
	DefaultStoragePath     = "vantage.db"
	DefaultRawRetention    = 30 * 24 * time.Hour
	DefaultRollupRetention = 400 * 24 * time.Hour
	DefaultHourlyRetention = 90 * 24 * time.Hour
	// DefaultQueueSize bounds the results waiting for the database: 16 s
	// at 1,000 results a second, roughly 16 MB when full.
	DefaultQueueSize = 16384
	MaxQueueSize     = 10_000_000
)

// Config is a whole vantage.yaml.
type Config struct {
	Server   Server   `yaml:"server"`
	Storage  Storage  `yaml:"storage"`
	Browser  Browser  `yaml:"browser"`
	Regions  []Region `yaml:"regions"`
	Defaults Defaults `yaml:"defaults"`
	Checks   []Check  `yaml:"checks"`
	// Tracing exports a span per probe result over OTLP and/or Zipkin.
	Tracing tracing.Config `yaml:"tracing"`
	// ProbeEndpoint is GET /probe, blackbox_exporter's endpoint (off by default).
	ProbeEndpoint ProbeEndpoint `yaml:"probe_endpoint"`
	// Notifiers are the notification channels alert rules name.
	Notifiers []Notifier `yaml:"notifiers"`
	// Alerts are the alert rules (AlertDefaults fills what they leave
	// out); Silences and Maintenance mute them.
	Alerts        []alerts.Rule    `yaml:"alerts"`
	AlertDefaults alerts.Defaults  `yaml:"alert_defaults"`
	Silences      []alerts.Silence `yaml:"silences"`
	// Incidents are declared incidents (more come through the admin API).
	Incidents   []alerts.Incident    `yaml:"incidents"`
	Maintenance []alerts.Maintenance `yaml:"maintenance"`
	// StatusPage is the public status page at / (none when nil: / is then
	// the internal overview).
	StatusPage *statuspage.Config `yaml:"status_page"`
}

// LocalRegion is the server's own vantage point; it is always present.
const LocalRegion = "local"

// Region is a vantage point: the server itself (local) or an agent.
type Region struct {
	Name string `yaml:"name"`
	// Token authenticates the region's agent (token or token_file); the
	// local region has none.
	Token probes.Secret `yaml:"token"`
}

// Server configures the listeners of `vantage serve`.
type Server struct {
	Listen string `yaml:"listen"` // default 127.0.0.1:8080
	// AdminListen serves the admin routes, the JSON API's reads and
	// /metrics: default DefaultAdminListen, "off" for none (then empty
	// after Parse).
	AdminListen string `yaml:"admin_listen"`
	// ExternalURL is the server's public URL, for links in notifications.
	ExternalURL string `yaml:"external_url"`
	// AdminURL is the admin listener's URL as the people notified reach
	// it (through a VPN or a proxy): notifications link a check there
	// when the public listener does not serve the JSON API (PublicAPI).
	AdminURL string `yaml:"admin_url"`
	// AdminToken, when set, is required as a bearer token on every admin
	// route (admin_token_file reads it from a file).
	AdminToken probes.Secret `yaml:"admin_token"`
	// TraceURL links trace ids in the admin view to a tracing UI, with
	// {trace_id} replaced ("https://jaeger.example.com/trace/{trace_id}").
	TraceURL string `yaml:"trace_url"`
	// RateLimit bounds the requests each client address makes to the
	// public listener.
	RateLimit RateLimit `yaml:"rate_limit"`
	// PublicAPI serves the JSON API's reads (/api/v1/checks, results,
	// screenshots, regions, alerts, silences, SLOs, incidents, maintenance)
	// and the internal overview on the public listener too; default false:
	// they show targets and error texts, so only the admin listener serves
	// them.
	PublicAPI bool `yaml:"public_api"`
	// PublicMetrics serves /metrics on the public listener (the admin
	// listener always does); default true, as Prometheus expects. Use
	// MetricsPublic to read it.
	PublicMetrics *bool `yaml:"public_metrics"`
}

// MetricsPublic reports whether the public listener serves /metrics.
func (s Server) MetricsPublic() bool { return s.PublicMetrics == nil || *s.PublicMetrics }

// RateLimit is a token bucket per client address on the public listener:
// PerSecond requests a second on average, bursts of up to Burst.
type RateLimit struct {
	Disabled  bool    `yaml:"disabled"`
	PerSecond float64 `yaml:"per_second"` // default 20
	Burst     int     `yaml:"burst"`      // default 100
	// TrustedProxies are the addresses (IPs or CIDR prefixes) of reverse
	// proxies in front of Vantage: a request from one of them is counted
	// against the client named in its X-Forwarded-For header. Default:
	// loopback and the private ranges (DefaultTrustedProxies).
	TrustedProxies []string `yaml:"trusted_proxies"`
	// Proxies are TrustedProxies, parsed.
	Proxies []netip.Prefix `yaml:"-"`
}

// DefaultTrustedProxies are where reverse proxies and load balancers
// usually connect from: this machine and private networks.
func DefaultTrustedProxies() []string {
	return []string{"127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"}
}

// Rate limit defaults.
const (
	DefaultRateLimitPerSecond = 20
	DefaultRateLimitBurst     = 100
)

// Browser configures the shared Chromium of the browser checks. It comes
// from the deploy-time config only; nothing in the API can change it.
type Browser struct {
	ExecPath       string `yaml:"exec_path"`       // default: chromium, chromium-browser or google-chrome on PATH
	MaxConcurrency int    `yaml:"max_concurrency"` // concurrent browser runs, default 2
	MemoryLimitMB  int    `yaml:"memory_limit_mb"` // restart Chromium above this RSS, default 1024
}

// Options turns the config into the browser's options.
func (b Browser) Options() probes.BrowserOptions {
	return probes.BrowserOptions{ExecPath: b.ExecPath, MaxConcurrency: b.MaxConcurrency, MemoryLimit: int64(b.MemoryLimitMB) << 20}
}

// Storage configures the results database.
type Storage struct {
	Path      string    `yaml:"path"` // default vantage.db, relative to the config file
	Retention Retention `yaml:"retention"`
	// AlertsPath is the alert state and notification outbox (default: next
	// to Path, "vantage-alerts.db" for "vantage.db").
	AlertsPath string `yaml:"alerts_path"`
	// QueueSize bounds the results held in memory while the database is
	// slow or failing (a full disk); beyond it, results are dropped and
	// counted. Default DefaultQueueSize.
	QueueSize int `yaml:"queue_size"`
}

// Retention says how long results are kept.
type Retention struct {
	Raw     time.Duration `yaml:"raw"`     // default 30d
	Hourly  time.Duration `yaml:"hourly"`  // default 90d (at least raw, at most rollups)
	Rollups time.Duration `yaml:"rollups"` // default 400d
}

// Defaults apply to every check that does not set its own value.
type Defaults struct {
	Interval time.Duration `yaml:"interval"` // default 60s
	Timeout  time.Duration `yaml:"timeout"`  // default 10s
	Regions  []string      `yaml:"regions"`  // default [local]
}

// Check is one check: a name, a schedule and exactly one probe block.
type Check struct {
	Name     string        `yaml:"name"`
	Interval time.Duration `yaml:"interval"`
	Timeout  time.Duration `yaml:"timeout"`
	// Regions probe the check (default: defaults.regions).
	Regions []string `yaml:"regions"`
	// Quorum is how many regions must fail for the check to be down;
	// default: a majority of its regions.
	Quorum int `yaml:"quorum"`
	// HideTarget keeps the target (URL, address) out of the API.
	HideTarget bool                `yaml:"hide_target"`
	HTTP       *probes.HTTPSpec    `yaml:"http"`
	TCP        *probes.TCPSpec     `yaml:"tcp"`
	DNS        *probes.DNSSpec     `yaml:"dns"`
	TLS        *probes.TLSSpec     `yaml:"tls"`
	Browser    *probes.BrowserSpec `yaml:"browser"`
	// SLO is the check's service level objective (none when nil).
	SLO *results.SLOSpec `yaml:"slo"`
	// Alerting tunes the conditions of the rules watching the check.
	Alerting *alerts.CheckOverrides `yaml:"alerting"`
}

// InRegion reports whether region probes the check.
func (c Check) InRegion(region string) bool { return slices.Contains(c.Regions, region) }

// Kind returns the kind of the check's probe block ("" when none is set).
func (c Check) Kind() probes.Kind {
	switch {
	case c.HTTP != nil:
		return probes.KindHTTP
	case c.TCP != nil:
		return probes.KindTCP
	case c.DNS != nil:
		return probes.KindDNS
	case c.TLS != nil:
		return probes.KindTLS
	case c.Browser != nil:
		return probes.KindBrowser
	}
	return ""
}

// Target is a short description of what the check probes.
func (c Check) Target() string {
	switch {
	case c.HTTP != nil:
		return c.HTTP.URL
	case c.TCP != nil:
		return c.TCP.Address
	case c.DNS != nil:
		return c.DNS.Name + " @" + c.DNS.Server
	case c.TLS != nil:
		return c.TLS.Address
	case c.Browser != nil:
		return c.Browser.URL
	}
	return ""
}

// Prober builds the check's prober; browser checks run in b, which may be
// nil when the config has no browser check.
func (c Check) Prober(b *probes.Browser) (probes.Prober, error) {
	switch {
	case c.Browser != nil:
		return probes.NewBrowserProber(*c.Browser, b)
	case c.HTTP != nil:
		return probes.NewHTTP(*c.HTTP)
	case c.TCP != nil:
		return probes.NewTCP(*c.TCP)
	case c.DNS != nil:
		return probes.NewDNS(*c.DNS)
	case c.TLS != nil:
		return probes.NewTLS(*c.TLS)
	}
	return nil, errors.New("no probe block")
}

// Error is every problem found in one file.
type Error struct {
	File     string
	Problems []Problem
}

// Error lists the problems, one per line, as FILE:LINE:COL: path: message.
func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		sep := ":"
		if p.Line == 0 { // "file: message", as "file:3:5: message" reads
			sep = ": "
		}
		lines[i] = e.File + sep + p.Error()
	}
	return strings.Join(lines, "\n")
}

// Load reads, decodes and validates a config file. On failure the error is
// an *Error listing every problem.
func Load(path string) (*Config, error) {
	// Never more than the limit in memory, whatever the file (a 50 MB
	// mistake, /dev/zero): one byte over says it is too long.
	src, err := probes.ReadFileLimit(path, maxDocumentBytes)
	if tooLarge := (*probes.FileTooLargeError)(nil); errors.As(err, &tooLarge) {
		return nil, &Error{File: path, Problems: []Problem{{
			Msg: fmt.Sprintf("%s (%d MiB)", tooLarge, maxDocumentBytes>>20)}}}
	}
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, src, os.LookupEnv)
}

// Parse decodes and validates src; file names it in errors and anchors
// relative paths (ca_file, *_file secrets).
func Parse(file string, src []byte, lookupEnv func(string) (string, bool)) (*Config, error) {
	var c Config
	base := filepath.Dir(file)
	pos, problems, stopped := decode(src, &c, DecodeOptions{LookupEnv: lookupEnv, BaseDir: base})
	if stopped {
		return nil, &Error{File: file, Problems: problems} // half a document: nothing more to say about it
	}
	c.resolvePaths(base)
	problems = mergeProblems(problems, c.validate(pos))
	problems = mergeProblems(problems, c.validateProbeEndpoint(pos, base))
	problems = mergeProblems(problems, c.validateNotifiers(pos))
	problems = mergeProblems(problems, c.validateAlerting(pos))
	if len(problems) > 0 {
		return nil, &Error{File: file, Problems: problems}
	}
	return &c, nil
}

// mergeProblems adds the validation problems to the decoding ones, except
// those about a value that failed to decode (or lies inside one), which
// would only repeat the decoding problem. The result is sorted by position.
func mergeProblems(decoded, validated []Problem) []Problem {
	out := decoded
	for _, v := range validated {
		if !coveredBy(v.Path, decoded) {
			out = append(out, v)
		}
	}
	slices.SortStableFunc(out, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	return out
}

func coveredBy(path string, decoded []Problem) bool {
	for _, d := range decoded {
		if strings.HasPrefix(d.Msg, "unknown key") {
			// A typo covers only what it would have set on its mapping,
			// such as a missing probe block, not the mapping's other keys.
			if path == d.Path {
				return true
			}
			continue
		}
		if d.Path == "" || path == d.Path || strings.HasPrefix(path, d.Path+".") || strings.HasPrefix(path, d.Path+"[") ||
			strings.HasPrefix(d.Path, path+".") {
			return true
		}
	}
	return false
}

// resolvePaths makes relative file paths relative to the config's folder.
func (c *Config) resolvePaths(base string) {
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(base, *p)
		}
	}
	tlsOpts := func(o *probes.TLSOptions) {
		abs(&o.CAFile)
		abs(&o.CertFile)
		abs(&o.KeyFile)
	}
	if c.Storage.Path == "" {
		c.Storage.Path = DefaultStoragePath
	}
	abs(&c.Storage.Path)
	if c.Storage.AlertsPath == "" {
		ext := filepath.Ext(c.Storage.Path)
		c.Storage.AlertsPath = strings.TrimSuffix(c.Storage.Path, ext) + "-alerts" + cmp.Or(ext, ".db")
	}
	abs(&c.Storage.AlertsPath)
	for i := range c.Notifiers {
		if e := c.Notifiers[i].Email; e != nil {
			abs(&e.CAFile)
		}
	}
	if o := c.Tracing.OTLP; o != nil {
		abs(&o.TLS.CAFile)
	}
	if z := c.Tracing.Zipkin; z != nil {
		abs(&z.TLS.CAFile)
	}
	for i := range c.Checks {
		ch := &c.Checks[i]
		switch {
		case ch.HTTP != nil:
			tlsOpts(&ch.HTTP.TLSConfig)
		case ch.TCP != nil:
			tlsOpts(&ch.TCP.TLSConfig)
		case ch.DNS != nil:
			tlsOpts(&ch.DNS.TLSConfig)
		case ch.TLS != nil:
			tlsOpts(&ch.TLS.TLSOptions)
		}
	}
}

var checkName = regexp.MustCompile(`^[a-z0-9_-]{1,63}$`)

// validate applies defaults and cross-field rules, and validates every
// probe spec, returning every problem with its position.
func (c *Config) validate(pos Positions) []Problem {
	var ps []Problem
	at := func(path, format string, args ...any) {
		p := pos.Lookup(path)
		ps = append(ps, Problem{Line: p.Line, Column: p.Column, Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	ps = append(ps, c.validateServer(pos)...)
	ps = append(ps, c.validateRegions(pos)...)
	if c.Defaults.Interval == 0 {
		c.Defaults.Interval = DefaultInterval
	}
	if c.Defaults.Timeout == 0 {
		c.Defaults.Timeout = DefaultTimeout
	}
	if c.Defaults.Interval < MinInterval {
		at("defaults.interval", "must be at least %s", MinInterval)
	}
	if c.Defaults.Timeout <= 0 {
		at("defaults.timeout", "must be positive")
	}
	for _, e := range splitErrors(c.Tracing.Validate()) {
		field, msg := splitField(e.Error())
		at(strings.TrimSuffix("tracing."+field, "."), "%s", msg)
	}
	seen := make(map[string]int, len(c.Checks))
	for i := range c.Checks {
		path := fmt.Sprintf("checks[%d]", i)
		ch := &c.Checks[i]
		switch j, dup := seen[ch.Name]; {
		case ch.Name == "":
			at(path+".name", "required")
		case !checkName.MatchString(ch.Name):
			at(path+".name", "%q must be 1-63 characters of a-z, 0-9, _ and -", ch.Name)
		case dup:
			at(path+".name", "%q is already the name of checks[%d]", ch.Name, j)
		default:
			seen[ch.Name] = i
		}
		ps = append(ps, c.validateCheck(pos, path, ch)...)
	}
	return ps
}

// loopbackListen reports whether a listen address (host:port) takes
// connections from this machine only: a loopback IP or "localhost". An
// empty host, 0.0.0.0 and :: listen on every interface.
func loopbackListen(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return true // reported as not host:port
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// SameListener reports whether listening on a and on b would clash: the
// same port, and the same host, or either on every address (":8081",
// "0.0.0.0", "[::]"), or both on loopback ("localhost" is 127.0.0.1 and
// ::1). Addresses that do not parse never clash (they are reported as
// such).
func SameListener(a, b string) bool {
	ha, pa, err1 := net.SplitHostPort(a)
	hb, pb, err2 := net.SplitHostPort(b)
	if err1 != nil || err2 != nil || pa != pb {
		return false
	}
	wildcard := func(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" }
	switch {
	case strings.EqualFold(ha, hb), wildcard(ha), wildcard(hb):
		return true
	case strings.EqualFold(ha, "localhost") || strings.EqualFold(hb, "localhost"):
		return loopbackListen(a) && loopbackListen(b)
	}
	ia, err1 := netip.ParseAddr(ha)
	ib, err2 := netip.ParseAddr(hb)
	return err1 == nil && err2 == nil && ia.Unmap() == ib.Unmap()
}

// validateServer applies the server and storage defaults and checks them.
func (c *Config) validateServer(pos Positions) []Problem {
	var ps []Problem
	at := func(path, msg string) {
		p := pos.Lookup(path)
		ps = append(ps, Problem{Line: p.Line, Column: p.Column, Path: path, Msg: msg})
	}
	if c.Server.Listen == "" {
		c.Server.Listen = DefaultListen
	}
	adminDefault := false
	switch c.Server.AdminListen {
	case "":
		c.Server.AdminListen, adminDefault = DefaultAdminListen, true
	case "off":
		c.Server.AdminListen = ""
	}
	for path, addr := range map[string]string{"server.listen": c.Server.Listen, "server.admin_listen": c.Server.AdminListen} {
		if addr == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			at(path, fmt.Sprintf("%q is not host:port", addr))
		}
	}
	for path, u := range map[string]*string{"server.external_url": &c.Server.ExternalURL, "server.admin_url": &c.Server.AdminURL} {
		if *u == "" {
			continue
		}
		if p, err := url.Parse(*u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			at(path, fmt.Sprintf("%q must be an http(s) URL", *u))
		}
		*u = strings.TrimSuffix(*u, "/")
	}
	if t := c.Server.TraceURL; t != "" && (!strings.Contains(t, "{trace_id}") || !(strings.HasPrefix(t, "http://") || strings.HasPrefix(t, "https://"))) {
		at("server.trace_url", fmt.Sprintf("%q must be an http(s) URL containing {trace_id}", t))
	}
	if c.Server.AdminListen != "" && SameListener(c.Server.AdminListen, c.Server.Listen) {
		if adminDefault {
			at("server.listen", fmt.Sprintf("%s takes the admin listener's default address, %s: set server.admin_listen to another address, or off", c.Server.Listen, DefaultAdminListen))
		} else {
			at("server.admin_listen", "must differ from server.listen")
		}
	}
	switch tok := c.Server.AdminToken.Reveal(); {
	case tok == "" && c.Server.AdminListen != "" && !loopbackListen(c.Server.AdminListen):
		at("server.admin_listen", fmt.Sprintf("%q is reachable from other machines and no admin_token is set: "+
			"set server.admin_token (or admin_token_file), or listen on 127.0.0.1", c.Server.AdminListen))
	case tok != "" && len(tok) < minTokenLen:
		at("server.admin_token", fmt.Sprintf("is %d characters; use at least %d (e.g. the output of `openssl rand -hex 16`)", len(tok), minTokenLen))
	}
	rl := &c.Server.RateLimit
	switch {
	case rl.PerSecond < 0:
		at("server.rate_limit.per_second", "must not be negative (0 means the default, 20)")
	case rl.PerSecond == 0:
		rl.PerSecond = DefaultRateLimitPerSecond
	}
	switch {
	case rl.Burst < 0:
		at("server.rate_limit.burst", "must not be negative (0 means the default, 100)")
	case rl.Burst == 0:
		rl.Burst = DefaultRateLimitBurst
	}
	if len(rl.TrustedProxies) == 0 {
		rl.TrustedProxies = DefaultTrustedProxies()
	}
	rl.Proxies = nil
	for i, p := range rl.TrustedProxies {
		pfx, err := probes.ParsePrefix(p)
		if err != nil {
			at(fmt.Sprintf("server.rate_limit.trusted_proxies[%d]", i), fmt.Sprintf("%q is neither an IP address nor a CIDR prefix", p))
			continue
		}
		rl.Proxies = append(rl.Proxies, pfx)
	}
	if c.Browser.MaxConcurrency < 0 {
		at("browser.max_concurrency", "must not be negative (0 means the default, 2)")
	}
	if c.Browser.MemoryLimitMB < 0 {
		at("browser.memory_limit_mb", "must not be negative (0 means the default, 1024)")
	}
	switch q := c.Storage.QueueSize; {
	case q == 0:
		c.Storage.QueueSize = DefaultQueueSize
	case q < 100 || q > MaxQueueSize:
		at("storage.queue_size", fmt.Sprintf("%d: must be between 100 and %d (0 means the default, %d)", q, MaxQueueSize, DefaultQueueSize))
	}
	r := &c.Storage.Retention
	if r.Raw == 0 {
		r.Raw = DefaultRawRetention
	}
	if r.Rollups == 0 {
		r.Rollups = DefaultRollupRetention
	}
	if r.Raw < time.Hour {
		at("storage.retention.raw", "must be at least 1h")
	}
	if r.Rollups < r.Raw {
		at("storage.retention.rollups", fmt.Sprintf("%s must not be shorter than retention.raw %s", r.Rollups, r.Raw))
	}
	if r.Hourly == 0 {
		r.Hourly = min(max(DefaultHourlyRetention, r.Raw), r.Rollups)
	}
	if r.Hourly < r.Raw || r.Hourly > r.Rollups {
		at("storage.retention.hourly", fmt.Sprintf("%s must be between retention.raw %s and retention.rollups %s", r.Hourly, r.Raw, r.Rollups))
	}
	slices.SortFunc(ps, func(a, b Problem) int { return cmp.Compare(a.Line, b.Line) })
	return ps
}

func (c *Config) validateCheck(pos Positions, path string, ch *Check) []Problem {
	var ps []Problem
	at := func(p, msg string) {
		q := pos.Lookup(p)
		ps = append(ps, Problem{Line: q.Line, Column: q.Column, Path: p, Msg: msg})
	}
	ps = append(ps, c.validateCheckRegions(pos, path, ch)...)
	explicitTimeout := ch.Timeout != 0
	if ch.Interval == 0 {
		ch.Interval = c.Defaults.Interval
	}
	if ch.Timeout == 0 {
		ch.Timeout = min(c.Defaults.Timeout, ch.Interval)
	}
	switch {
	case ch.Interval < MinInterval:
		at(path+".interval", fmt.Sprintf("must be at least %s", MinInterval))
	case ch.Timeout <= 0:
		at(path+".timeout", "must be positive")
	case explicitTimeout && ch.Timeout > ch.Interval:
		at(path+".timeout", fmt.Sprintf("%s must not be longer than the interval %s", ch.Timeout, ch.Interval))
	}
	blocks := setBlocks(ch)
	switch len(blocks) {
	case 0:
		at(path, "needs exactly one probe block: http, tcp, dns, tls or browser")
		return ps
	case 1:
	default:
		at(path+"."+blocks[1], fmt.Sprintf("a check has exactly one probe block, this one already has %s", blocks[0]))
		return ps
	}
	kindPath := path + "." + blocks[0]
	err := validateSpec(ch)
	for _, e := range splitErrors(err) {
		field, msg := splitField(e.Error())
		p := kindPath
		if field != "" {
			p += "." + field
		}
		at(p, msg)
	}
	if err == nil && ch.Browser == nil { // a browser prober needs the browser, which validation does not start
		if _, err := ch.Prober(nil); err != nil {
			at(kindPath, err.Error())
		}
	}
	return ps
}

func setBlocks(ch *Check) []string {
	var out []string
	for _, b := range []struct {
		name string
		set  bool
	}{{"http", ch.HTTP != nil}, {"tcp", ch.TCP != nil}, {"dns", ch.DNS != nil}, {"tls", ch.TLS != nil}, {"browser", ch.Browser != nil}} {
		if b.set {
			out = append(out, b.name)
		}
	}
	return out
}

func validateSpec(ch *Check) error {
	switch {
	case ch.HTTP != nil:
		return ch.HTTP.Validate()
	case ch.TCP != nil:
		return ch.TCP.Validate()
	case ch.DNS != nil:
		return ch.DNS.Validate()
	case ch.TLS != nil:
		return ch.TLS.Validate()
	case ch.Browser != nil:
		return ch.Browser.Validate()
	}
	return nil
}

// splitErrors flattens errors.Join trees.
func splitErrors(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, splitErrors(e)...)
		}
		return out
	}
	return []error{err}
}

var fieldPrefix = regexp.MustCompile(`^([a-z0-9_]+(?:\[\d+\])?(?:\.[A-Za-z0-9_-]+(?:\[\d+\])?)*): (.*)$`)

// splitField splits "expect.status: message" into its field and message.
func splitField(s string) (field, msg string) {
	m := fieldPrefix.FindStringSubmatch(s)
	if m == nil {
		return "", s
	}
	return m[1], m[2]
}
