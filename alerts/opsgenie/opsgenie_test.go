package opsgenie_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/vantageprobe/vantage/alerts"
	"github.com/vantageprobe/vantage/alerts/alertstest"
	"github.com/vantageprobe/vantage/alerts/opsgenie"
	"github.com/vantageprobe/vantage/config"
)

const (
	apiKey  = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
	hostile = `<b>x</b> & <script>alert(1)</script>`
)

// newFake starts a fake Opsgenie API that plays answers (none: 202 and
// Opsgenie's "will be processed").
func newFake(t *testing.T, answers ...alertstest.Answer) *alertstest.Server {
	t.Helper()
	if len(answers) == 0 {
		answers = []alertstest.Answer{{Status: http.StatusAccepted, Body: `{"result":"Request will be processed","took":0.2,"requestId":"43a29c5c"}`}}
	}
	return alertstest.NewServer(t, answers...)
}

type created struct {
	Message     string              `json:"message"`
	Alias       string              `json:"alias"`
	Description string              `json:"description"`
	Responders  []map[string]string `json:"responders"`
	Tags        []string            `json:"tags"`
	Details     map[string]string   `json:"details"`
	Entity      string              `json:"entity"`
	Source      string              `json:"source"`
	Priority    string              `json:"priority"`
}

var priority = regexp.MustCompile(`^P[1-5]$`)

// checkHeaders checks what every Alert API request needs.
func checkHeaders(t *testing.T, r alertstest.Request) {
	t.Helper()
	if r.Method != http.MethodPost {
		t.Errorf("method %s", r.Method)
	}
	if got := r.Header.Get("Authorization"); got != "GenieKey "+apiKey {
		t.Errorf("Authorization %q", got)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
}

// decodeCreate checks a create request and returns its body.
func decodeCreate(t *testing.T, r alertstest.Request) created {
	t.Helper()
	checkHeaders(t, r)
	if r.URL.EscapedPath() != "/v2/alerts" || r.URL.RawQuery != "" {
		t.Errorf("create at %s?%s", r.URL.EscapedPath(), r.URL.RawQuery)
	}
	var c created
	if err := json.Unmarshal(r.Body, &c); err != nil {
		t.Fatalf("create body: %v\n%s", err, r.Body)
	}
	if c.Message == "" || utf8.RuneCountInString(c.Message) > 130 {
		t.Errorf("message has %d characters: %q", utf8.RuneCountInString(c.Message), c.Message)
	}
	if c.Alias == "" || len(c.Alias) > 512 {
		t.Errorf("alias %q", c.Alias)
	}
	if !priority.MatchString(c.Priority) {
		t.Errorf("priority %q", c.Priority)
	}
	return c
}

func firing() alerts.Notification {
	start := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	return alerts.Notification{
		Key: "n-1", GroupKey: `{}:{rule="api-down"}`, Receiver: "ops",
		Status: alerts.StatusFiring, Rule: "api-down", Severity: alerts.SeverityPage, Reason: "new",
		ExternalURL: "https://vantage.example.org", Time: start,
		Alerts: []alerts.Alert{{
			Status: alerts.StatusFiring, Rule: "api-down", Severity: alerts.SeverityPage, Check: "api",
			Regions: []string{"eu"}, State: "down", Summary: "api is down: " + hostile, Error: hostile,
			Target: "https://api.example.org/", URL: "https://vantage.example.org/checks/api", StartsAt: start,
		}},
	}
}

func resolved(n alerts.Notification) alerts.Notification {
	n.Key, n.Status, n.Reason = "n-2", alerts.StatusResolved, "resolved"
	n.Alerts = append([]alerts.Alert(nil), n.Alerts...)
	for i := range n.Alerts {
		n.Alerts[i].Status = alerts.StatusResolved
	}
	return n
}

func newNotifier(t *testing.T, c opsgenie.Config, logs io.Writer) *opsgenie.Notifier {
	t.Helper()
	if c.APIKey == "" {
		c.APIKey = apiKey
	}
	n, err := opsgenie.New(c, opsgenie.Options{Logger: alertstest.Logger(logs)})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return n
}

// TestCreateAndClose creates the group's alert, re-creates it for a
// reminder under the same alias, and closes it by that alias.
func TestCreateAndClose(t *testing.T) {
	og := newFake(t)
	n := newNotifier(t, opsgenie.Config{
		APIURL:     og.URL + "/",
		Responders: []opsgenie.Responder{{Type: "team", Name: "sre"}, {Type: "user", Username: "ann@example.org"}},
		Tags:       []string{"prod", "api-down"},
	}, nil)
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
	reqs := og.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	c, again := decodeCreate(t, reqs[0]), decodeCreate(t, reqs[1])
	if c.Alias != opsgenie.Alias(first) || again.Alias != c.Alias {
		t.Errorf("aliases %q, %q", c.Alias, again.Alias)
	}
	if c.Message != "[FIRING] api-down: api" || c.Priority != "P1" || c.Source != "Vantage" || c.Entity != "api" {
		t.Errorf("create %+v", c)
	}
	if !strings.Contains(c.Description, "api is down: "+hostile) || !strings.Contains(c.Description, "https://vantage.example.org/checks/api") {
		t.Errorf("description %q", c.Description)
	}
	if c.Details["error"] != hostile || c.Details["rule"] != "api-down" || c.Details["external_url"] != "https://vantage.example.org" {
		t.Errorf("details %v", c.Details)
	}
	if strings.Join(c.Tags, ",") != "api-down,page,prod" {
		t.Errorf("tags %v", c.Tags)
	}
	if len(c.Responders) != 2 || c.Responders[0]["type"] != "team" || c.Responders[0]["name"] != "sre" ||
		c.Responders[1]["username"] != "ann@example.org" || c.Responders[1]["id"] != "" {
		t.Errorf("responders %v", c.Responders)
	}
	closeReq := reqs[2]
	checkHeaders(t, closeReq)
	if closeReq.URL.EscapedPath() != "/v2/alerts/"+c.Alias+"/close" || closeReq.URL.RawQuery != "identifierType=alias" {
		t.Errorf("close at %s?%s", closeReq.URL.EscapedPath(), closeReq.URL.RawQuery)
	}
	var body struct{ Source, Note string }
	if err := json.Unmarshal(closeReq.Body, &body); err != nil || body.Source != "Vantage" || !strings.Contains(body.Note, "resolved: api is down") {
		t.Errorf("close body %s: %v", closeReq.Body, err)
	}
}

func TestPriorityAndMessage(t *testing.T) {
	msg, err := alerts.ParseTemplate("{{check}}: {{error}}\n{{summary}}")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		severity alerts.Severity
		c        opsgenie.Config
		priority string
	}{
		{"page", alerts.SeverityPage, opsgenie.Config{}, "P1"},
		{"ticket", alerts.SeverityTicket, opsgenie.Config{}, "P3"},
		{"info", alerts.SeverityInfo, opsgenie.Config{}, "P5"},
		{"override", alerts.SeverityPage, opsgenie.Config{Priority: "P2", Message: msg}, "P2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			og := newFake(t)
			tt.c.APIURL = og.URL
			n := newNotifier(t, tt.c, nil)
			notif := firing()
			notif.Severity = tt.severity
			notif.Alerts[0].Error = strings.Repeat("ß", 300)
			if err := n.Notify(t.Context(), notif); err != nil {
				t.Fatal(err)
			}
			c := decodeCreate(t, og.Requests()[0])
			if c.Priority != tt.priority {
				t.Errorf("priority %q, want %q", c.Priority, tt.priority)
			}
			if !tt.c.Message.IsZero() && (utf8.RuneCountInString(c.Message) != 130 || !strings.HasPrefix(c.Message, "api: ßß") || !strings.HasSuffix(c.Message, "…")) {
				t.Errorf("message %q: want the template cut at 130 runes", c.Message)
			}
		})
	}
}

// TestAnswers classifies Opsgenie's answers; the key never shows.
func TestAnswers(t *testing.T) {
	tests := []struct {
		name      string
		answer    alertstest.Answer
		ok        bool
		permanent bool
		delay     time.Duration
	}{
		{"202", alertstest.Answer{Status: 202, Body: `{"result":"Request will be processed"}`}, true, false, 0},
		{"401", alertstest.Answer{Status: 401, Body: `{"message":"Key ` + apiKey + ` is invalid"}`}, false, true, 0},
		{"422", alertstest.Answer{Status: 422, Body: `{"message":"Request body is not processable"}`}, false, true, 0},
		{"429", alertstest.Answer{Status: 429, Header: map[string]string{"Retry-After": "12"}}, false, false, 12 * time.Second},
		{"500", alertstest.Answer{Status: 500, Body: "GenieKey " + apiKey}, false, false, 0},
		{"reset", alertstest.Answer{Reset: true}, false, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			og := newFake(t, tt.answer)
			var logs bytes.Buffer
			n := newNotifier(t, opsgenie.Config{APIURL: og.URL}, &logs)
			err := n.Notify(t.Context(), firing())
			alertstest.CheckOutcome(t, err, tt.ok, tt.permanent, tt.delay)
			if err != nil && !strings.HasPrefix(err.Error(), "opsgenie create: ") {
				t.Errorf("error %q", err)
			}
			alertstest.NoSecrets(t, fmt.Sprint(err)+logs.String(), apiKey)
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		c    opsgenie.Config
		want []string
	}{
		{"ok", opsgenie.Config{APIKey: apiKey, APIURL: opsgenie.EUURL, Priority: "P4",
			Responders: []opsgenie.Responder{{Type: "schedule", ID: "4513b7ea"}}}, nil},
		{"empty", opsgenie.Config{}, []string{"api_key: required"}},
		{"everything wrong", opsgenie.Config{
			APIKey: "with space", APIURL: "https://api.opsgenie.com/?x=1", Priority: "P0",
			Responders: []opsgenie.Responder{{Type: "squad", Name: "a", ID: "b"}, {Type: "team", Username: "bob"}, {Type: "user", Name: "bob"}},
			Tags:       []string{"", strings.Repeat("t", 51)}, Timeout: -1,
		}, []string{
			"api_key: must be printable", "api_url: must not have a query", "priority: ",
			"responders[0].type: ", "responders[0].id: set exactly one", "responders[1].username: ",
			"responders[2].name: ", "tags[0]: ", "tags[1]: ", "timeout: ",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.Validate()
			alertstest.CheckProblems(t, err, tt.want...)
			if _, nerr := opsgenie.New(tt.c, opsgenie.Options{}); (nerr == nil) != (err == nil) {
				t.Errorf("New: %v", nerr)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	src := "api_key: ${OG_KEY}\napi_url: https://api.eu.opsgenie.com\npriority: P2\nresponders:\n  - {type: team, name: sre}\ntags: [prod]\nsend_resolved: false\n"
	var c opsgenie.Config
	env := func(k string) (string, bool) { return apiKey, k == "OG_KEY" }
	if _, probs := config.Decode([]byte(src), &c, config.DecodeOptions{LookupEnv: env}); len(probs) > 0 {
		t.Fatalf("decode: %v", probs)
	}
	if c.APIKey.Reveal() != apiKey || c.APIURL != opsgenie.EUURL || c.Priority != "P2" || len(c.Responders) != 1 || *c.SendResolved {
		t.Errorf("decoded %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
	if _, probs := config.Decode([]byte("priority: urgent\n"), &c, config.DecodeOptions{}); len(probs) != 1 {
		t.Errorf("problems %v, want the bad priority", probs)
	}
}
