package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/config"
	"github.com/vantageprobe/vantage/probes"
)

func noEnv(string) (string, bool) { return "", false }

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestExampleIsValid(t *testing.T) {
	cfg, err := config.Load("../examples/vantage.yaml")
	if err != nil {
		t.Fatalf("examples/vantage.yaml: %v", err)
	}
	if len(cfg.Checks) != 6 {
		t.Fatalf("%d checks", len(cfg.Checks))
	}
	api := cfg.Checks[0]
	if api.Interval != 30*time.Second || api.Timeout != 5*time.Second || api.Kind() != probes.KindHTTP {
		t.Fatalf("api = %+v", api)
	}
	if got := cfg.Checks[1].HTTP.BasicAuth.Password.Reveal(); got != "changeme" {
		t.Fatalf("default from ${VAR:-default}: %q", got)
	}
	if db := cfg.Checks[2]; db.Interval != time.Minute || db.Timeout != 10*time.Second {
		t.Fatalf("defaults not applied: %+v", db)
	}
}

// TestEveryProblemWithItsLine: a broken file reports all its problems,
// decoding and validation alike, each at the line and column of the
// offending value, without repeating a value that failed to decode.
func TestEveryProblemWithItsLine(t *testing.T) {
	src := `defaults: {interval: 30s}
checks:
  - name: api
    interval: 10s
    timeout: 20s
    http:
      url: https://api.example.com/
      expect: {status: [700]}
  - name: api
    tcp: {address: "db:5432"}
  - name: Bad Name
    dns: {name: example.com, type: AXFR}
  - name: both
    tcp: {address: "a:1"}
    tls: {address: "a:1"}
  - name: none
  - name: typo
    intervl: 5s
    http: {url: "ftp://x/"}
  - name: cert
    tls: {address: "example.com", min_days_left: -1}
  - name: env
    http: {url: "${NOPE}"}
  - name: keyonly
    http: {url: "https://x/", tls_config: {cert_file: c.pem}}
`
	_, err := config.Parse("vantage.yaml", []byte(src), noEnv)
	want := []string{
		`vantage.yaml:5:14: checks[0].timeout: 20s must not be longer than the interval 10s`,
		`vantage.yaml:8:25: checks[0].http.expect.status[0]: 700 is not an HTTP status (100-599)`,
		`vantage.yaml:9:11: checks[1].name: "api" is already the name of checks[0]`,
		`vantage.yaml:11:11: checks[2].name: "Bad Name" must be 1-63 characters of a-z, 0-9, _ and -`,
		`vantage.yaml:12:36: checks[2].dns.type: "AXFR" is not a supported DNS type (A, AAAA, CNAME, MX, TXT, NS, SOA, SRV, CAA, PTR)`,
		`vantage.yaml:15:10: checks[3].tls: a check has exactly one probe block, this one already has tcp`,
		`vantage.yaml:16:5: checks[4]: needs exactly one probe block: http, tcp, dns, tls or browser`,
		`vantage.yaml:18:5: checks[5]: unknown key "intervl" (did you mean "interval"?)`,
		`vantage.yaml:19:17: checks[5].http.url: "ftp://x/": scheme must be http or https`,
		`vantage.yaml:21:20: checks[6].tls.address: "example.com" is not host:port`,
		`vantage.yaml:21:50: checks[6].tls.min_days_left: must be 0 or more, got -1`,
		`vantage.yaml:23:17: checks[7].http.url: environment variable "NOPE" is not set`,
		`vantage.yaml:25:43: checks[8].http.tls_config: cert_file and key_file must be set together`,
	}
	checkProblems(t, err, want)
}

func checkProblems(t *testing.T, err error, want []string) {
	t.Helper()
	var ce *config.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v is not a *config.Error", err)
	}
	got := strings.Split(ce.Error(), "\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestSecretsFromFilesAndEnv(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := `checks:
  - name: a
    http:
      url: "https://${HOST}/"
      basic_auth: {username: u, password_file: pw}
  - name: b
    http: {url: "https://x/", bearer_token: "${TOKEN}"}
`
	cfg, err := config.Parse(filepath.Join(dir, "vantage.yaml"), []byte(src), env(map[string]string{"HOST": "h.example", "TOKEN": "t0k"}))
	if err != nil {
		t.Fatal(err)
	}
	a, b := cfg.Checks[0].HTTP, cfg.Checks[1].HTTP
	if a.URL != "https://h.example/" || a.BasicAuth.Password.Reveal() != "s3cret" || b.BearerToken.Reveal() != "t0k" {
		t.Fatalf("a=%+v b=%+v", a, b)
	}
	for _, s := range []string{a.BasicAuth.Password.String(), b.BearerToken.String()} {
		if s != "<redacted>" {
			t.Fatalf("secret prints as %q", s)
		}
	}
}

func TestRelativePathsFollowTheConfig(t *testing.T) {
	src := "checks:\n  - name: a\n    tls: {address: \"x:443\", ca_file: certs/ca.pem}\n"
	_, err := config.Parse("/etc/vantage/vantage.yaml", []byte(src), noEnv)
	if err == nil || !strings.Contains(err.Error(), "/etc/vantage/certs/ca.pem") {
		t.Fatalf("want an error naming the resolved ca_file, got %v", err)
	}
}

func TestTimeoutDefaultsToInterval(t *testing.T) {
	src := "checks:\n  - name: a\n    interval: 5s\n    tcp: {address: \"x:1\"}\n"
	cfg, err := config.Parse("v.yaml", []byte(src), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if c := cfg.Checks[0]; c.Timeout != 5*time.Second {
		t.Fatalf("timeout %s, want the 5s interval (default 10s would exceed it)", c.Timeout)
	}
}

func TestBrowserCheck(t *testing.T) {
	src := `browser: {max_concurrency: 3, memory_limit_mb: 512}
checks:
  - name: journey
    timeout: 30s
    browser:
      url: https://shop.example/
      viewport: {width: 800, height: 600}
      steps:
        - click: "#buy"
        - type: {selector: "#email", text: "${SHOP_USER}"}
        - assert_text: {selector: "#msg", matches: "^Thanks"}
        - wait: 500ms
      expect: {no_js_errors: false, max_lcp: 2.5s}
      screenshot: always
`
	cfg, err := config.Parse("v.yaml", []byte(src), env(map[string]string{"SHOP_USER": "probe@example.com"}))
	if err != nil {
		t.Fatal(err)
	}
	b := cfg.Checks[0].Browser
	if cfg.Checks[0].Kind() != probes.KindBrowser || len(b.Steps) != 4 || b.Steps[1].Type.Text.Reveal() != "probe@example.com" ||
		b.Steps[3].Wait != 500*time.Millisecond || b.Expect.MaxLCP != 2500*time.Millisecond || *b.Expect.NoJSErrors {
		t.Fatalf("browser check = %+v", b)
	}
	if o := cfg.Browser.Options(); o.MaxConcurrency != 3 || o.MemoryLimit != 512<<20 {
		t.Fatalf("browser options %+v", o)
	}
	bad := "checks:\n  - name: j\n    browser:\n      url: https://x/\n      steps:\n        - {click: a, navigate: \"file:///etc/passwd\"}\n"
	_, err = config.Parse("v.yaml", []byte(bad), noEnv)
	if err == nil || !strings.Contains(err.Error(), "v.yaml:6:11: checks[0].browser.steps[0]") {
		t.Fatalf("a step with two actions: %v", err)
	}
}

func TestRegions(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "us.token"), []byte("us-east-token-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := `regions:
  - name: eu-west
    token: ${EU_TOKEN}
  - name: us-east
    token_file: us.token
defaults: {regions: [local, eu-west]}
checks:
  - name: api
    regions: [eu-west, us-east, local]
    http: {url: "https://x/"}
  - name: db
    tcp: {address: "db:5432"}
  - name: edge
    regions: [us-east]
    quorum: 1
    http: {url: "https://x/"}
`
	cfg, err := config.Parse(filepath.Join(dir, "v.yaml"), []byte(src), env(map[string]string{"EU_TOKEN": "eu-west-token-0123456789"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.RegionNames(), ","); got != "local,eu-west,us-east" {
		t.Fatalf("regions %s: local is implicit and first", got)
	}
	if cfg.Regions[2].Token.Reveal() != "us-east-token-0123456789" {
		t.Fatal("token_file not read")
	}
	api, db, edge := cfg.Checks[0], cfg.Checks[1], cfg.Checks[2]
	if api.Quorum != 2 || strings.Join(db.Regions, ",") != "local,eu-west" || db.Quorum != 2 || edge.Quorum != 1 || edge.InRegion("local") {
		t.Fatalf("api %v/%d, db %v/%d, edge %v/%d", api.Regions, api.Quorum, db.Regions, db.Quorum, edge.Regions, edge.Quorum)
	}

	bad := `regions:
  - name: local
    token: "local-token-0123456789"
  - name: eu
  - name: us
    token: short
  - name: ap
    token: "same-token-0123456789"
  - name: sa
    token: "same-token-0123456789"
  - name: Bad_Name
    token: "bad-name-token-0123456789"
checks:
  - name: api
    regions: [eu, mars, eu]
    quorum: 4
    http: {url: "https://x/"}
`
	_, err = config.Parse("v.yaml", []byte(bad), noEnv)
	checkProblems(t, err, []string{
		`v.yaml:3:12: regions[0].token: the local region is the server itself and has no token`,
		`v.yaml:4:5: regions[1]: needs a token (token or token_file) for its agent`,
		`v.yaml:6:12: regions[2].token: must be at least 16 characters`,
		`v.yaml:10:12: regions[4].token: is the same as the token of regions[3]: each agent needs its own`,
		`v.yaml:11:11: regions[5].name: "Bad_Name" must be 1-63 characters of a-z, 0-9 and -, starting with a letter or digit`,
		`v.yaml:15:19: checks[0].regions[1]: unknown region "mars" (regions: [local eu us ap sa Bad_Name])`,
		`v.yaml:15:25: checks[0].regions[2]: region "eu" is listed twice`,
		`v.yaml:16:13: checks[0].quorum: must be between 1 and the number of the check's regions (3), got 4`,
	})
}

// TestHourlyRetention: hourly rollups default to 90 days, bounded by the
// raw and the daily retention; out of bounds is an error on its line.
func TestHourlyRetention(t *testing.T) {
	const checks = "\nchecks: [{name: a, http: {url: \"http://127.0.0.1:1/\"}}]\n"
	for _, tt := range []struct {
		storage string
		want    time.Duration
		err     string
	}{
		{"storage: {path: v.db}", 90 * 24 * time.Hour, ""},
		{"storage: {retention: {raw: 120d, rollups: 400d}}", 120 * 24 * time.Hour, ""},
		{"storage: {retention: {raw: 7d, rollups: 30d}}", 30 * 24 * time.Hour, ""},
		{"storage: {retention: {hourly: 14d}}", 0, "v.yaml:1:31: storage.retention.hourly: 336h0m0s must be between retention.raw 720h0m0s and retention.rollups 9600h0m0s"},
	} {
		cfg, err := config.Parse("v.yaml", []byte(tt.storage+checks), noEnv)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: error %v, want %q", tt.storage, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.storage, err)
		}
		if got := cfg.Storage.Retention.Hourly; got != tt.want {
			t.Errorf("%s: hourly %v, want %v", tt.storage, got, tt.want)
		}
	}
}
