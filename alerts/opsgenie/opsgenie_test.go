package opsgenie_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/vantageprobe/vantage/alerts"
	"github.com/vantageprobe/vantage/alerts/opsgenie"
	"github.com/vantageprobe/vantage/config"
)

const (
	apiKey  = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
	hostile = `<b>x</b> & <script>alert(1)</script>`
)

type answer struct {
	status int
	body   string
	header map[string]string
	reset  bool
}

type request struct {
	method, path, query string
	header              http.Header
	body                []byte
}

// fakeOpsgenie records requests and plays answers in order (the last one
// repeats; none: 202).
type fakeOpsgenie struct {
	mu      sync.Mutex
	reqs    []request
	answers []answer
	url     string
}

func newFake(t *testing.T, answers ...answer) *fakeOpsgenie {
	f := &fakeOpsgenie{answers: answers}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

func (f *fakeOpsgenie) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.reqs = append(f.reqs, request{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Clone(), body})
	a := answer{status: http.StatusAccepted, body: `{"result":"Request will be processed","took":0.2,"requestId":"43a29c5c"}`}
	if len(f.answers) > 0 {
		a = f.answers[0]
		if len(f.answers) > 1 {
			f.answers = f.answers[1:]
		}
	}
	f.mu.Unlock()
	if a.reset {
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.(*net.TCPConn).SetLinger(0)
			conn.Close()
		}
		return
	}
	for k, v := range a.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(a.status)
	_, _ = io.WriteString(w, a.body)
}

func (f *fakeOpsgenie) requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.reqs...)
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
func checkHeaders(t *testing.T, r request) {
	t.Helper()
	if r.method != http.MethodPost {
		t.Errorf("method %s", r.method)
	}
	if got := r.header.Get("Authorization"); got != "GenieKey "+apiKey {
		t.Errorf("Authorization %q", got)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
}

// decodeCreate checks a create request and returns its body.
func decodeCreate(t *testing.T, r request) created {
	t.Helper()
	checkHeaders(t, r)
	if r.path != "/v2/alerts" || r.query != "" {
		t.Errorf("create at %s?%s", r.path, r.query)
	}
	var c created
	if err := json.Unmarshal(r.body, &c); err != nil {
		t.Fatalf("create body: %v\n%s", err, r.body)
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
	o := opsgenie.Options{}
	if logs != nil {
		o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	n, err := opsgenie.New(c, o)
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
		APIURL:     og.url + "/",
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
	reqs := og.requests()
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
	if closeReq.path != "/v2/alerts/"+c.Alias+"/close" || closeReq.query != "identifierType=alias" {
		t.Errorf("close at %s?%s", closeReq.path, closeReq.query)
	}
	var body struct{ Source, Note string }
	if err := json.Unmarshal(closeReq.body, &body); err != nil || body.Source != "Vantage" || !strings.Contains(body.Note, "resolved: api is down") {
		t.Errorf("close body %s: %v", closeReq.body, err)
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
			tt.c.APIURL = og.url
			n := newNotifier(t, tt.c, nil)
			notif := firing()
			notif.Severity = tt.severity
			notif.Alerts[0].Error = strings.Repeat("ß", 300)
			if err := n.Notify(t.Context(), notif); err != nil {
				t.Fatal(err)
			}
			c := decodeCreate(t, og.requests()[0])
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
		answer    answer
		ok        bool
		permanent bool
		delay     time.Duration
	}{
		{"202", answer{status: 202, body: `{"result":"Request will be processed"}`}, true, false, 0},
		{"401", answer{status: 401, body: `{"message":"Key ` + apiKey + ` is invalid"}`}, false, true, 0},
		{"422", answer{status: 422, body: `{"message":"Request body is not processable"}`}, false, true, 0},
		{"429", answer{status: 429, header: map[string]string{"Retry-After": "12"}}, false, false, 12 * time.Second},
		{"500", answer{status: 500, body: "GenieKey " + apiKey}, false, false, 0},
		{"reset", answer{reset: true}, false, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			og := newFake(t, tt.answer)
			var logs bytes.Buffer
			n := newNotifier(t, opsgenie.Config{APIURL: og.url}, &logs)
			err := n.Notify(t.Context(), firing())
			if (err == nil) != tt.ok || alerts.IsPermanent(err) != tt.permanent || alerts.RetryDelay(err) != tt.delay {
				t.Fatalf("err %v: permanent %v, delay %v", err, alerts.IsPermanent(err), alerts.RetryDelay(err))
			}
			if err != nil && (strings.Contains(err.Error(), apiKey) || !strings.HasPrefix(err.Error(), "opsgenie create: ")) {
				t.Errorf("error %q", err)
			}
			if strings.Contains(logs.String(), apiKey) {
				t.Errorf("log shows the key: %s", logs.String())
			}
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
			var got []string
			if err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if len(got) != len(tt.want) {
				t.Fatalf("problems %q, want %d", got, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(got[i], w) {
					t.Errorf("problem %q, want prefix %q", got[i], w)
				}
			}
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
