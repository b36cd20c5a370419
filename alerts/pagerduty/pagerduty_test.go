package pagerduty_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/vantageprobe/vantage/alerts"
	"github.com/vantageprobe/vantage/alerts/alertstest"
	"github.com/vantageprobe/vantage/alerts/pagerduty"
	"github.com/vantageprobe/vantage/config"
)

const (
	routingKey = "R0ut1ngK3yR0ut1ngK3yR0ut1ngK3y42"
	hostile    = `<b>x</b> & <script>alert(1)</script>`
)

// newFakePD starts a fake Events API, at enqueue, that plays answers (none:
// 202 and PagerDuty's success).
func newFakePD(t *testing.T, answers ...alertstest.Answer) *alertstest.Server {
	t.Helper()
	if len(answers) == 0 {
		answers = []alertstest.Answer{{Status: http.StatusAccepted, Body: `{"status":"success","message":"Event processed"}`}}
	}
	return alertstest.NewServer(t, answers...)
}

// enqueue is the path of the fake Events API.
const enqueue = "/v2/enqueue"

// event is what the fake decodes a request into.
type event struct {
	RoutingKey  string `json:"routing_key"`
	EventAction string `json:"event_action"`
	DedupKey    string `json:"dedup_key"`
	Client      string `json:"client"`
	ClientURL   string `json:"client_url"`
	Payload     *struct {
		Summary       string         `json:"summary"`
		Source        string         `json:"source"`
		Severity      string         `json:"severity"`
		Timestamp     string         `json:"timestamp"`
		Component     string         `json:"component"`
		Group         string         `json:"group"`
		Class         string         `json:"class"`
		CustomDetails map[string]any `json:"custom_details"`
	} `json:"payload"`
	Links []struct{ Href, Text string } `json:"links"`
}

// check decodes r as an Events API v2 request and checks what PagerDuty
// requires of every event.
func check(t *testing.T, r alertstest.Request) event {
	t.Helper()
	if r.Method != http.MethodPost || r.URL.Path != "/v2/enqueue" {
		t.Errorf("request %s %s, want POST /v2/enqueue", r.Method, r.URL.Path)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if a := r.Header.Get("Authorization"); a != "" {
		t.Errorf("Authorization header %q: the routing key authenticates", a)
	}
	if len(r.Body) >= 512<<10 {
		t.Errorf("body is %d bytes, PagerDuty takes less than 512 KB", len(r.Body))
	}
	var ev event
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	if err := dec.Decode(&ev); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, r.Body)
	}
	if len(ev.RoutingKey) != 32 {
		t.Errorf("routing_key has %d characters", len(ev.RoutingKey))
	}
	if ev.DedupKey == "" || len(ev.DedupKey) > 255 {
		t.Errorf("dedup_key %q", ev.DedupKey)
	}
	switch ev.EventAction {
	case "trigger":
		p := ev.Payload
		if p == nil || p.Summary == "" || p.Source == "" {
			t.Fatalf("trigger without summary/source: %s", r.Body)
		}
		if n := utf8.RuneCountInString(p.Summary); n > 1024 || !utf8.ValidString(p.Summary) {
			t.Errorf("summary has %d runes (valid UTF-8: %v)", n, utf8.ValidString(p.Summary))
		}
		switch p.Severity {
		case "critical", "error", "warning", "info":
		default:
			t.Errorf("severity %q", p.Severity)
		}
		if _, err := time.Parse(time.RFC3339, p.Timestamp); err != nil {
			t.Errorf("timestamp: %v", err)
		}
	case "resolve":
	default:
		t.Errorf("event_action %q", ev.EventAction)
	}
	return ev
}

func firing() alerts.Notification {
	start := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	return alerts.Notification{
		Key: "n-1", GroupKey: `{}:{rule="api-down"}`, Receiver: "oncall",
		Status: alerts.StatusFiring, Rule: "api-down", Severity: alerts.SeverityPage,
		ExternalURL: "https://vantage.example.org", Reason: "new", Time: start.Add(time.Minute),
		GroupLabels: map[string]string{"rule": "api-down"},
		Alerts: []alerts.Alert{{
			Fingerprint: "f1", Status: alerts.StatusFiring, Rule: "api-down", Severity: alerts.SeverityPage,
			Check: "api", Regions: []string{"eu", "us"}, State: "down",
			Summary: "api is down in 2 of 3 regions: " + hostile, Error: hostile,
			Target: "https://api.example.org/health", URL: "https://vantage.example.org/checks/api",
			Labels:   map[string]string{"alertname": "api-down", "check": "api", "group": "core"},
			StartsAt: start,
		}},
	}
}

func resolved(n alerts.Notification) alerts.Notification {
	n.Key, n.Status, n.Reason = "n-2", alerts.StatusResolved, "resolved"
	n.Alerts = append([]alerts.Alert(nil), n.Alerts...)
	for i := range n.Alerts {
		n.Alerts[i].Status = alerts.StatusResolved
		n.Alerts[i].EndsAt = n.Alerts[i].StartsAt.Add(10 * time.Minute)
	}
	return n
}

func newNotifier(t *testing.T, c pagerduty.Config, logs io.Writer) *pagerduty.Notifier {
	t.Helper()
	if c.RoutingKey == "" {
		c.RoutingKey = routingKey
	}
	n, err := pagerduty.New(c, pagerduty.Options{Logger: alertstest.Logger(logs)})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return n
}

// TestTriggerReminderResolve follows one group: the trigger, a reminder
// that re-sends it, and the resolve, all with one dedup_key and routing key.
func TestTriggerReminderResolve(t *testing.T) {
	pd := newFakePD(t)
	n := newNotifier(t, pagerduty.Config{URL: pd.URL + enqueue}, nil)
	if !n.SendResolved() {
		t.Error("send_resolved must default to true")
	}
	first := firing()
	reminder := first
	reminder.Key, reminder.Reason = "n-1b", "reminder"
	for _, notif := range []alerts.Notification{first, reminder, resolved(first)} {
		if err := n.Notify(t.Context(), notif); err != nil {
			t.Fatalf("Notify(%s): %v", notif.Reason, err)
		}
	}
	reqs := pd.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	trigger, again, resolve := check(t, reqs[0]), check(t, reqs[1]), check(t, reqs[2])
	if trigger.EventAction != "trigger" || again.EventAction != "trigger" || resolve.EventAction != "resolve" {
		t.Errorf("actions %s, %s, %s", trigger.EventAction, again.EventAction, resolve.EventAction)
	}
	if trigger.DedupKey != pagerduty.DedupKey(first) || again.DedupKey != trigger.DedupKey || resolve.DedupKey != trigger.DedupKey {
		t.Errorf("dedup keys %q, %q, %q differ", trigger.DedupKey, again.DedupKey, resolve.DedupKey)
	}
	if trigger.RoutingKey != routingKey || resolve.RoutingKey != routingKey {
		t.Errorf("routing keys %q, %q", trigger.RoutingKey, resolve.RoutingKey)
	}
	if resolve.Payload != nil {
		t.Errorf("resolve carries a payload")
	}
	p := trigger.Payload
	want := "[FIRING] api-down: api — api is down in 2 of 3 regions: " + hostile
	if p.Summary != want {
		t.Errorf("summary %q, want %q", p.Summary, want)
	}
	if p.Severity != "critical" || p.Source != "api.example.org" || p.Component != "api" || p.Group != "core" || p.Class != "api-down" {
		t.Errorf("payload %+v", *p)
	}
	if p.Timestamp != "2026-01-01T10:00:00Z" {
		t.Errorf("timestamp %q, want the alert's start", p.Timestamp)
	}
	if trigger.Client != "Vantage" || trigger.ClientURL != "https://vantage.example.org" {
		t.Errorf("client %q %q", trigger.Client, trigger.ClientURL)
	}
	if len(trigger.Links) != 1 || trigger.Links[0].Href != "https://vantage.example.org/checks/api" {
		t.Errorf("links %+v", trigger.Links)
	}
	list, _ := p.CustomDetails["alerts"].([]any)
	if len(list) != 1 {
		t.Fatalf("custom_details %v", p.CustomDetails)
	}
	if a := list[0].(map[string]any); a["error"] != hostile || a["check"] != "api" || a["status"] != "firing" {
		t.Errorf("custom_details alert %v (the error text must arrive unchanged)", a)
	}
	// Another group gets another key.
	other := firing()
	other.GroupKey = `{}:{rule="web-down"}`
	if pagerduty.DedupKey(other) == trigger.DedupKey {
		t.Error("two groups share a dedup_key")
	}
}

func TestSeverity(t *testing.T) {
	tests := []struct {
		severity alerts.Severity
		override pagerduty.Severity
		want     string
	}{
		{alerts.SeverityPage, "", "critical"},
		{alerts.SeverityTicket, "", "warning"},
		{alerts.SeverityInfo, "", "info"},
		{"", "", "error"},
		{alerts.SeverityPage, pagerduty.Warning, "warning"},
	}
	for _, tt := range tests {
		t.Run(string(tt.severity)+"/"+string(tt.override), func(t *testing.T) {
			pd := newFakePD(t)
			n := newNotifier(t, pagerduty.Config{URL: pd.URL + enqueue, Severity: tt.override}, nil)
			notif := firing()
			notif.Severity = tt.severity
			if err := n.Notify(t.Context(), notif); err != nil {
				t.Fatal(err)
			}
			if got := check(t, pd.Requests()[0]).Payload.Severity; got != tt.want {
				t.Errorf("severity %q, want %q", got, tt.want)
			}
		})
	}
}

// TestSummaryTemplateTruncatedByRunes renders a configured summary on one
// line and cuts it at 1024 runes, not bytes.
func TestSummaryTemplateTruncatedByRunes(t *testing.T) {
	pd := newFakePD(t)
	tmpl, err := alerts.ParseTemplate("{{check}} {{state}}\n{{error}}")
	if err != nil {
		t.Fatal(err)
	}
	n := newNotifier(t, pagerduty.Config{URL: pd.URL + enqueue, Summary: tmpl, Source: "vantage/eu"}, nil)
	notif := firing()
	notif.Alerts[0].Error = strings.Repeat("é🔥", 1000)
	if err := n.Notify(t.Context(), notif); err != nil {
		t.Fatal(err)
	}
	p := check(t, pd.Requests()[0]).Payload
	if utf8.RuneCountInString(p.Summary) != 1024 || !strings.HasSuffix(p.Summary, "…") {
		t.Errorf("summary has %d runes, want 1024 ending with …", utf8.RuneCountInString(p.Summary))
	}
	if !strings.HasPrefix(p.Summary, "api down é🔥") {
		t.Errorf("summary %.40q", p.Summary)
	}
	if p.Source != "vantage/eu" {
		t.Errorf("source %q", p.Source)
	}
}

// TestOversizedDetailsDropped keeps the event under 512 KB by replacing
// custom_details with a note, and says so in the log.
func TestOversizedDetailsDropped(t *testing.T) {
	pd := newFakePD(t)
	var logs bytes.Buffer
	n := newNotifier(t, pagerduty.Config{URL: pd.URL + enqueue}, &logs)
	notif := firing()
	notif.Alerts[0].Error = strings.Repeat("x", 600<<10)
	if err := n.Notify(t.Context(), notif); err != nil {
		t.Fatal(err)
	}
	ev := check(t, pd.Requests()[0])
	note, _ := ev.Payload.CustomDetails["note"].(string)
	if !strings.Contains(note, "custom_details dropped") || ev.Payload.CustomDetails["alerts"] != nil {
		t.Errorf("custom_details %v", ev.Payload.CustomDetails)
	}
	if !strings.Contains(logs.String(), "custom_details dropped") || !strings.Contains(logs.String(), "notifier=oncall") {
		t.Errorf("log %q", logs.String())
	}
}

// TestAnswers classifies PagerDuty's answers; no error or log line shows
// the routing key, even when the answer echoes it.
func TestAnswers(t *testing.T) {
	tests := []struct {
		name      string
		answer    alertstest.Answer
		ok        bool
		permanent bool
		delay     time.Duration
	}{
		{"202", alertstest.Answer{Status: 202, Body: `{"status":"success"}`}, true, false, 0},
		{"400", alertstest.Answer{Status: 400, Body: `{"status":"invalid event","errors":["routing_key ` + routingKey + ` is unknown"]}`}, false, true, 0},
		{"429 retry-after", alertstest.Answer{Status: 429, Header: map[string]string{"Retry-After": "30"}}, false, false, 30 * time.Second},
		{"429", alertstest.Answer{Status: 429, Body: `{"status":"throttled"}`}, false, false, 0},
		{"500", alertstest.Answer{Status: 500, Body: "oops " + routingKey}, false, false, 0},
		{"reset", alertstest.Answer{Reset: true}, false, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pd := newFakePD(t, tt.answer)
			var logs bytes.Buffer
			n := newNotifier(t, pagerduty.Config{URL: pd.URL + enqueue}, &logs)
			err := n.Notify(t.Context(), firing())
			alertstest.CheckOutcome(t, err, tt.ok, tt.permanent, tt.delay)
			if err != nil && !strings.HasPrefix(err.Error(), "pagerduty trigger: ") {
				t.Errorf("error %q", err)
			}
			alertstest.NoSecrets(t, fmt.Sprint(err)+logs.String(), routingKey)
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		c    pagerduty.Config
		want []string // each a prefix of one problem
	}{
		{"ok", pagerduty.Config{RoutingKey: routingKey}, nil},
		{"empty", pagerduty.Config{}, []string{"routing_key: required"}},
		{"everything wrong", pagerduty.Config{
			RoutingKey: "short", URL: "ftp://events.example.org", ClientURL: "/relative",
			Severity: "fatal", Timeout: -time.Second,
		}, []string{"routing_key: must be 32 characters", "url: scheme", "client_url: scheme", "severity: ", "timeout: "}},
		{"spaces", pagerduty.Config{RoutingKey: Secret32(" ")}, []string{"routing_key: must be printable"}},
		{"credentials in url", pagerduty.Config{RoutingKey: routingKey, URL: "https://u:p@events.example.org/"}, []string{"url: must not carry credentials"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.Validate()
			alertstest.CheckProblems(t, err, tt.want...)
			alertstest.NoSecrets(t, fmt.Sprint(err), routingKey)
			if _, nerr := pagerduty.New(tt.c, pagerduty.Options{}); (nerr == nil) != (err == nil) {
				t.Errorf("New: %v", nerr)
			}
		})
	}
}

// Secret32 is a 32-character key with c in the middle.
func Secret32(c string) pagerduty.Secret {
	return pagerduty.Secret(routingKey[:15] + c + routingKey[16:])
}

// TestDecode reads a config the way vantage.yaml is read: strictly, the
// key from routing_key_file, the severity checked while decoding.
func TestDecode(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pd.key"), []byte(routingKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := "routing_key_file: pd.key\nseverity: warning\nsend_resolved: false\ntimeout: 3s\nsummary: '{{check}} is {{state}}'\n"
	var c pagerduty.Config
	if _, probs := config.Decode([]byte(src), &c, config.DecodeOptions{BaseDir: dir}); len(probs) > 0 {
		t.Fatalf("decode: %v", probs)
	}
	if c.RoutingKey.Reveal() != routingKey || c.Severity != pagerduty.Warning || *c.SendResolved || c.Timeout != 3*time.Second || c.Summary.String() != "{{check}} is {{state}}" {
		t.Errorf("decoded %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
	n, err := pagerduty.New(c, pagerduty.Options{})
	if err != nil || n.SendResolved() {
		t.Errorf("New: %v, send_resolved %v", err, n.SendResolved())
	}
	alertstest.NoSecrets(t, c.RoutingKey.String()+alertstest.Printed(c), routingKey)
	_, probs := config.Decode([]byte("routing_key: x\nseverity: fatal\nsevrity: info\n"), &c, config.DecodeOptions{})
	if len(probs) != 2 {
		t.Errorf("problems %v, want the bad severity and the unknown key", probs)
	}
}
