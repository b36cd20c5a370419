package config_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/alerts"
	"github.com/vantageprobe/vantage/config"
)

// The shape of notifiers, alerts, SLOs, silences and maintenance.
const alertingYAML = `server: {external_url: "https://vantage.example.com"}
checks:
  - name: api
    http: {url: "https://api.example.com/healthz"}
    slo: {objective: 99.9, window: 30d, sli: availability}
  - name: web
    http: {url: "https://www.example.com/"}
    slo: {objective: 99.5, window: 7d, sli: latency, threshold: 300ms, exclude_maintenance: true}
notifiers:
  - name: oncall
    pagerduty: {routing_key: "0123456789abcdef0123456789abcdef"}
  - name: hook
    webhook: {url: "https://hooks.example.com/vantage", hmac_secret_file: hook.secret}
  - name: ops-mail
    email: {host: smtp.example.com, port: 587, username: vantage, password: "${SMTP_PASSWORD}", from: vantage@example.com, to: [ops@example.com]}
alerts:
  - name: api-down
    checks: [api]
    consecutive_failures: 2
    severity: page
    notify: [oncall, hook]
  - name: api-budget
    checks: [api]
    slo_burn: true
    notify: [ops-mail]
    notify_by_severity: {page: [oncall]}
  - name: certs
    all: true
    cert_expiry: 14
    severity: ticket
    notify: [ops-mail]
silences:
  - matchers: ["check=web", "region=~eu-.*"]
    ends_at: 2030-01-01T00:00:00Z
    comment: migration
maintenance:
  - name: db patching
    checks: [web]
    weekly: {days: [sat, sun], at: "02:00", duration: 2h, time_zone: Europe/Berlin}
`

func TestAlertingConfig(t *testing.T) {
	dir := writeFiles(t, map[string]string{"vantage.yaml": alertingYAML, "hook.secret": "s3cret\n"})
	cfg, err := config.Parse(filepath.Join(dir, "vantage.yaml"), []byte(alertingYAML), env(map[string]string{"SMTP_PASSWORD": "pw"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Notifiers) != 3 || len(cfg.Alerts) != 3 || len(cfg.Silences) != 1 || len(cfg.Maintenance) != 1 {
		t.Fatalf("%+v", cfg)
	}
	if slo := cfg.Checks[0].SLO; slo == nil || slo.Objective.String() != "99.9%" || slo.Window != 30*24*time.Hour {
		t.Fatalf("slo %+v", slo)
	}
	if r := cfg.Alerts[1]; !r.SLOBurn || r.Notifiers(alerts.SeverityPage)[0] != "oncall" || r.Notifiers(alerts.SeverityTicket)[0] != "ops-mail" {
		t.Fatalf("routing %+v", r)
	}
	if m := cfg.Maintenance[0]; !m.ActiveAt(time.Date(2026, 11, 29, 1, 30, 0, 0, time.UTC)) || m.ActiveAt(time.Date(2026, 11, 29, 4, 0, 0, 0, time.UTC)) {
		t.Fatal("weekly maintenance in Europe/Berlin: Sunday 02:00-04:00 CET is 01:00-03:00 UTC")
	}
	ns, err := cfg.BuildNotifiers(nil)
	if err != nil || len(ns) != 3 {
		t.Fatalf("BuildNotifiers: %v", err)
	}
	if cfg.Storage.AlertsPath != filepath.Join(dir, "vantage-alerts.db") {
		t.Fatalf("alerts path %s", cfg.Storage.AlertsPath)
	}
}

func TestAlertingProblems(t *testing.T) {
	src := `storage: {retention: {raw: 7d}}
checks:
  - name: api
    http: {url: "https://api.example.com/"}
    slo: {objective: 100, sli: latency}
  - name: web
    http: {url: "https://www.example.com/"}
notifiers:
  - name: hook
    webhook: {url: "not a url"}
  - name: hook
    slack: {url: "https://hooks.slack.com/services/x"}
    discord: {url: "https://discord.com/api/webhooks/x"}
  - name: empty
alerts:
  - name: a
    checks: [nope, web]
    slo_burn: true
    notify: [ghost]
    severity: urgent
  - name: a
    all: true
    notify_by_severity: {page: [missing]}
silences:
  - matchers: ["host=x"]
maintenance:
  - name: m
    checks: [gone]
    start: 2026-01-02T00:00:00Z
    end: 2026-01-01T00:00:00Z
`
	_, err := config.Parse("v.yaml", []byte(src), noEnv)
	if err == nil {
		t.Fatal("parsed")
	}
	for _, want := range []string{
		"checks[0].slo.objective:", "checks[0].slo.threshold:", "checks[0].slo.window: a latency SLO counts raw results: 30d is longer than storage.retention.raw 7d",
		"notifiers[0].webhook.url:", `notifiers[1].name: "hook" is already the name of notifiers[0]`,
		"notifiers[1].discord: a notifier has exactly one channel, this one already has slack", "notifiers[2]: needs exactly one channel",
		`alerts[0].checks[0]: no check is named "nope"`, `alerts[0].checks[1]: slo_burn needs an slo on check "web"`,
		`alerts[0].notify[0]: no notifier is named "ghost"`, `alerts[0].severity:`, `alerts[1].name: "a" is already the name of alerts[0]`,
		`alerts[1].notify_by_severity.page[0]: no notifier is named "missing"`,
		`silences[0].matchers[0]:`, "silences[0].ends_at: required", `maintenance[0].checks[0]: no check is named "gone"`, "maintenance[0].end: must be after start",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}
