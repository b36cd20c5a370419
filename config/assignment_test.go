package config_test

import (
	"strings"
	"testing"

	"github.com/vantageprobe/vantage/config"
)

// TestAssignmentRoundTrip: what the server sends an agent decodes, on the
// agent, into checks that behave exactly like the server's (same
// fingerprint), secrets and all, and holds only the region's checks.
func TestAssignmentRoundTrip(t *testing.T) {
	src := `regions:
  - {name: eu, token: "eu-token-0123456789abc"}
checks:
  - name: api
    regions: [local, eu]
    interval: 30s
    timeout: 5s
    http:
      url: "https://api.example/health?q=$${literal}"
      method: POST
      headers: {X-Key: "${KEY}", Accept: application/json}
      body: '{"a": 1}'
      basic_auth: {username: u, password: "p@ss: ${KEY}"}
      follow_redirects: false
      max_redirects: 0
      expect:
        status: ["200-299", 3xx]
        body: "^ok"
        json: [{path: "$.status", equals: ok}, {path: "$.n", matches: "^[0-9]+$"}]
        headers: {Content-Type: json}
        degraded_after: 250ms
        max_duration: 2s
  - name: resolver
    regions: [eu]
    dns: {server: "127.0.0.1:53", name: example.com, type: AAAA, transport: tcp, recursion: false, expect: {rcode: NXDOMAIN, answers: ["::1"]}}
  - name: cert
    regions: [eu]
    tls: {address: "example.com:443", min_days_left: 0, min_version: "1.2", server_name: example.com}
  - name: smtp
    regions: [eu]
    tcp: {address: "mail:25", send: "EHLO x\r\n", expect: "^250"}
  - name: shop
    regions: [eu]
    browser:
      url: https://shop.example/
      viewport: {width: 800, height: 600}
      steps: [{type: {selector: "#e", text: "${KEY}"}}, {click: "#buy"}, {wait: 1s}]
      expect: {no_js_errors: false, max_cls: 0.1}
      screenshot: always
  - name: local-only
    tcp: {address: "db:5432"}
`
	cfg, err := config.Parse("v.yaml", []byte(src), env(map[string]string{"KEY": "s3cr${et"}))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := cfg.Assignment("eu")
	if err != nil {
		t.Fatal(err)
	}
	got, err := config.ParseAssignment(doc)
	if err != nil {
		t.Fatalf("the agent cannot decode its assignment: %v\n%s", err, doc)
	}
	var names []string
	for _, c := range got.Checks {
		names = append(names, c.Name)
	}
	if strings.Join(names, ",") != "api,resolver,cert,smtp,shop" {
		t.Fatalf("assigned %v", names)
	}
	for i, c := range got.Checks {
		want := cfg.Checks[i]
		want.Regions, want.Quorum = []string{"local"}, 1 // the agent's default: it probes as its own region
		if c.Fingerprint() != want.Fingerprint() {
			t.Errorf("check %s differs after the round trip:\n%s", c.Name, doc)
		}
	}
	if p := got.Checks[0].HTTP.BasicAuth.Password.Reveal(); p != "p@ss: s3cr${et" {
		t.Fatalf("secret after the round trip: %q", p)
	}
}
