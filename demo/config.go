package demo

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"text/template"
	"time"

	"github.com/vantageprobe/vantage/config"
)

// configTemplate is the embedded demo config; it goes through the same
// decoder and validation as any vantage.yaml.
var configTemplate = template.Must(template.New("demo").Funcs(template.FuncMap{
	"q": func(s string) (string, error) { b, err := json.Marshal(s); return string(b), err }, // a YAML double-quoted scalar
}).Parse(`# Vantage demo: every target runs on 127.0.0.1.
server:
  listen: {{q .Listen}}
  # The demo listens on 127.0.0.1 only, so it serves the JSON API and the
  # overview on its one listener; a server others reach keeps them on
  # admin_listen.
  public_api: true
  admin_listen: "off"  # the demo's one listener serves the JSON API
storage:
  path: {{q .DB}}
regions:
  - name: eu-west
    token: {{q .EUToken}}
  - name: us-east
    token: {{q .USToken}}
defaults: {interval: 5s, timeout: 3s, regions: [local, eu-west, us-east]}
checks:
  - name: api
    http:
      url: {{q (print .T.HTTP "/api/health")}}
      expect:
        status: [200]
        json: [{path: "$.status", equals: ok}]
        degraded_after: 250ms
    slo: {objective: 99.9, window: 30d}
  - name: slow-api
    http:
      url: {{q (print .T.HTTP "/slow")}}
      expect: {degraded_after: 500ms, max_duration: 2s}
    slo: {objective: 99, window: 7d, sli: latency, threshold: 700ms}
  - name: flaky-api
    http: {url: {{q (print .T.HTTP "/flaky")}}}
    slo: {objective: 99.5, window: 7d}
  - name: mail
    tcp: {address: {{q .T.TCP}}, send: "HELO demo\r\n", expect: "^220 "}
  - name: dns
    dns: {server: {{q .T.DNS}}, name: www.demo.test, type: A, expect: {answers: ["127\\.0\\.0\\.1$"]}}
  - name: cert
    interval: 10s
    tls: {address: {{q .TLSAddr}}, ca_file: {{q .T.CAFile}}, min_days_left: 14}
  - name: secure-api
    http:
      url: {{q (print .T.HTTPS "/api/health")}}
      tls_config: {ca_file: {{q .T.CAFile}}}
  - name: shop-journey
    interval: 15s
    timeout: 10s
    regions: [local]
    browser:
      url: {{q (print .T.HTTP "/")}}
      steps:
        - type: {selector: "#email", text: "demo@example.com"}
        - click: "#buy"
        - assert_text: {selector: "#msg", matches: "^Thanks, demo@example.com$"}
status_page:
  title: Vantage Demo Status
  description: Live status of the demo services, probed from three regions.
  groups:
    - name: APIs
      checks: [api, slow-api, flaky-api, secure-api]
    - name: Shop
      checks: [shop-journey]
    - name: Infrastructure
      checks: [mail, dns, cert]
incidents:
  - title: Flaky API returns errors
    status: monitoring
    impact: minor
    checks: [flaky-api]
    updates:
      - {at: {{q .IncidentStart}}, status: investigating, body: "About one request in five fails with 503."}
      - {at: {{q .IncidentUpdate}}, status: monitoring, body: "A fix is rolling out; we are watching the error rate."}
maintenance:
  - name: Weekly database maintenance
    description: Short failovers are possible.
    checks: [api]
    weekly: {days: [sun], at: "03:00", duration: 1h, time_zone: UTC}
# Notifications go to the demo's own webhook inbox: GET {{.T.HTTP}}/hooks/alerts
notifiers:
  - name: demo-inbox
    webhook: {url: {{q (print .T.HTTP "/hooks/alerts")}}}
alerts:
  - name: flaky-down
    checks: [flaky-api]
    consecutive_failures: 2
    group_wait: 5s
    notify: [demo-inbox]
  - name: error-budgets
    checks: [api, flaky-api]
    slo_burn: true
    notify: [demo-inbox]
  - name: certificates
    all: true
    cert_expiry: 14
    severity: ticket
    group_wait: 5s
    notify: [demo-inbox]
`))

// token returns a fresh random agent token.
func token() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// Config renders the demo config for targets t and decodes it. It also
// writes it next to the database as vantage-demo.yaml, so a user can read,
// copy and reload it.
func Config(t *Targets, dir, listen, db string) (*config.Config, string, error) {
	db, err := filepath.Abs(db) // relative to where the user runs the demo, not to the temporary config
	if err != nil {
		return nil, "", fmt.Errorf("database path: %w", err)
	}
	var buf bytes.Buffer
	now := time.Now().UTC().Truncate(time.Minute)
	data := struct {
		T                                     *Targets
		Listen, DB, TLSAddr, EUToken, USToken string
		IncidentStart, IncidentUpdate         string
	}{t, listen, db, t.HTTPS[len("https://"):], token(), token(),
		now.Add(-2 * time.Hour).Format(time.RFC3339), now.Add(-30 * time.Minute).Format(time.RFC3339)}
	if err := configTemplate.Execute(&buf, data); err != nil {
		return nil, "", fmt.Errorf("render demo config: %w", err)
	}
	path := filepath.Join(dir, "vantage-demo.yaml")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		return nil, "", fmt.Errorf("write demo config: %w", err)
	}
	cfg, err := config.Parse(path, buf.Bytes(), os.LookupEnv)
	if err != nil {
		return nil, "", fmt.Errorf("demo config: %w", err)
	}
	return cfg, path, nil
}
