package teams_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/vantageprobe/vantage/alerts"
	"github.com/vantageprobe/vantage/alerts/alertstest"
	"github.com/vantageprobe/vantage/alerts/teams"
)

const (
	hostile        = "<@here> <!channel> ](http://evil) *bold* & </script>"
	hostileEscaped = `\<@here\> \<!channel\> \]\(http://evil\) \*bold\* \& \</script\>`
	path           = "/workflows/abc/triggers/manual/paths/invoke"
	query          = "api-version=1&sig=url-sig"
)

func notification() alerts.Notification {
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	return alerts.Notification{
		Key: "n-1", GroupKey: "g", Receiver: "ops-teams", Status: alerts.StatusFiring, Rule: "api-down",
		Severity: alerts.SeverityPage, Reason: "new", Time: start.Add(time.Minute),
		Alerts: []alerts.Alert{
			{Status: alerts.StatusFiring, Check: "api", State: "down", Regions: []string{"eu", "us"},
				Summary: "api is down in 2 of 3 regions", Error: hostile, URL: "https://vantage.example.org/checks/api", StartsAt: start},
			{Status: alerts.StatusResolved, Check: "web", State: "up", StartsAt: start},
		},
	}
}

// setup starts a Teams workflow trigger that answers a and a notifier
// posting to it, logging to the returned buffer.
func setup(t *testing.T, a alertstest.Answer, c teams.Config) (*alertstest.Server, *teams.Notifier, *bytes.Buffer) {
	t.Helper()
	h := alertstest.NewServer(t, a)
	c.URL = teams.Secret(h.URL + path + "?" + query)
	var logs bytes.Buffer
	n, err := teams.New(c, teams.Options{HTTPClient: h.Client(), Logger: alertstest.Logger(&logs)})
	if err != nil {
		t.Fatal(err)
	}
	return h, n, &logs
}

type element struct {
	Type   string `json:"type"`
	Text   string `json:"text"`
	Weight string `json:"weight"`
	Size   string `json:"size"`
	Color  string `json:"color"`
	Wrap   bool   `json:"wrap"`
	Facts  []struct {
		Title string `json:"title"`
		Value string `json:"value"`
	} `json:"facts"`
}

type card struct {
	Schema  string    `json:"$schema"`
	Type    string    `json:"type"`
	Version string    `json:"version"`
	Body    []element `json:"body"`
	Actions []struct {
		Type  string `json:"type"`
		Title string `json:"title"`
		URL   string `json:"url"`
	} `json:"actions"`
	MSTeams struct {
		Width string `json:"width"`
	} `json:"msteams"`
}

// decode checks the envelope as Teams requires it and returns the card.
func decode(t *testing.T, body []byte) card {
	t.Helper()
	var m struct {
		Type        string `json:"type"`
		Attachments []struct {
			ContentType string          `json:"contentType"`
			ContentURL  json.RawMessage `json:"contentUrl"`
			Content     card            `json:"content"`
		} `json:"attachments"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("body: %v\n%s", err, body)
	}
	if m.Type != "message" || len(m.Attachments) != 1 || m.Attachments[0].ContentType != "application/vnd.microsoft.card.adaptive" ||
		string(m.Attachments[0].ContentURL) != "null" {
		t.Fatalf("envelope: %s", body)
	}
	c := m.Attachments[0].Content
	if c.Type != "AdaptiveCard" || c.Version != "1.4" || c.Schema != "http://adaptivecards.io/schemas/adaptive-card.json" ||
		c.MSTeams.Width != "Full" || len(c.Body) == 0 {
		t.Fatalf("card: %s", body)
	}
	for _, e := range c.Body {
		if e.Type != "TextBlock" && e.Type != "FactSet" {
			t.Errorf("unknown element %q", e.Type)
		}
	}
	if len(body) > 28<<10 {
		t.Errorf("card is %d bytes, over Teams' limit", len(body))
	}
	return c
}

func TestNotifyRequest(t *testing.T) {
	h, n, _ := setup(t, alertstest.Answer{Status: http.StatusAccepted}, teams.Config{})
	if err := n.Notify(t.Context(), notification()); err != nil {
		t.Fatal(err)
	}
	r := h.Last(t)
	body := r.Body
	if r.Method != http.MethodPost || r.URL.Path != path || r.URL.RawQuery != query || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("request %s %s %s", r.Method, r.URL, r.Header.Get("Content-Type"))
	}
	c := decode(t, body)
	if len(c.Body) != 3 {
		t.Fatalf("body %+v", c.Body)
	}
	head, text, facts := c.Body[0], c.Body[1], c.Body[2]
	if head.Text != `\[FIRING\] api-down: api, web` || head.Color != "Attention" || head.Weight != "Bolder" || !head.Wrap {
		t.Errorf("heading %+v", head)
	}
	want := "- api is down in 2 of 3 regions (error: " + hostileEscaped + ")\n- resolved: web is up"
	if text.Text != want || !text.Wrap {
		t.Errorf("text\n got %q\nwant %q", text.Text, want)
	}
	var got []string
	for _, f := range facts.Facts {
		got = append(got, f.Title+"="+f.Value)
	}
	if s := strings.Join(got, "; "); s != `Status=FIRING; Severity=page; Checks=api, web; Regions=eu, us; Since=2026-11-25T10:00:00Z; Reason=new` {
		t.Errorf("facts %s", s)
	}
	if len(c.Actions) != 1 || c.Actions[0].Type != "Action.OpenUrl" || c.Actions[0].URL != "https://vantage.example.org/checks/api" {
		t.Errorf("actions %+v", c.Actions)
	}
}

func TestNotifyResolvedTemplatesAndSize(t *testing.T) {
	title, _ := alerts.ParseTemplate("{{status}} {{check}}: {{error}}")
	text, _ := alerts.ParseTemplate("**{{check}}**: {{summary}}")
	h, n, _ := setup(t, alertstest.Answer{Status: http.StatusOK}, teams.Config{Title: title, Text: text})
	notif := notification()
	notif.Status = alerts.StatusResolved
	notif.Alerts[0].Summary = strings.Repeat("字", 20000)
	notif.Alerts[0].Regions = []string{strings.Repeat("r", 5000)}
	if err := n.Notify(t.Context(), notif); err != nil {
		t.Fatal(err)
	}
	body := h.Last(t).Body
	c := decode(t, body)
	if c.Body[0].Color != "Good" || c.Body[0].Text != "RESOLVED api: "+hostileEscaped {
		t.Errorf("heading %+v", c.Body[0])
	}
	if s := c.Body[1].Text; utf8.RuneCountInString(s) != 4000 || !strings.HasPrefix(s, "**api**: 字") || !strings.HasSuffix(s, "字…") {
		t.Errorf("text: %d runes", utf8.RuneCountInString(s))
	}
}

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		hostile:                hostileEscaped,
		"- item":               `\- item`,
		"1. first":             `1\. first`,
		"10) tenth":            `10\) tenth`,
		"# heading\n# more":    `\# heading \# more`,
		"1.5s latency":         `1\.5s latency`,
		"plain text 2026-11-2": "plain text 2026-11-2",
		"<at>Ops</at>":         `\<at\>Ops\</at\>`,
	} {
		if got := teams.Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNotifyClassifies(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		retryAfter string
		ok         bool
		permanent  bool
		delay      time.Duration
	}{
		{"accepted", http.StatusAccepted, "", true, false, 0},
		{"bad request", http.StatusBadRequest, "", false, true, 0},
		{"unauthorized", http.StatusUnauthorized, "", false, true, 0},
		{"throttled", http.StatusTooManyRequests, "12", false, false, 12 * time.Second},
		{"server error", http.StatusInternalServerError, "", false, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := alertstest.Answer{Status: tt.status, Header: map[string]string{"Retry-After": tt.retryAfter}}
			_, n, logs := setup(t, a, teams.Config{})
			err := n.Notify(t.Context(), notification())
			alertstest.CheckOutcome(t, err, tt.ok, tt.permanent, tt.delay)
			alertstest.NoSecrets(t, fmt.Sprint(err)+logs.String(), "url-sig", "workflows")
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		c    teams.Config
		want string
	}{
		{"valid", teams.Config{URL: "https://prod.westeurope.logic.azure.com" + path + "?" + query}, ""},
		{"missing url", teams.Config{Timeout: time.Second}, "url: required"},
		{"every problem", teams.Config{URL: "mailto:ops@example.org?sig=url-sig", Timeout: -time.Second},
			"url: not an absolute http or https URL\ntimeout: -1s is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.Validate()
			alertstest.CheckErrorText(t, err, tt.want)
			alertstest.NoSecrets(t, fmt.Sprint(err), "url-sig")
			if _, nerr := teams.New(tt.c, teams.Options{}); (nerr == nil) != (tt.want == "") {
				t.Errorf("New: %v", nerr)
			}
		})
	}
	alertstest.NoSecrets(t, alertstest.Printed(teams.Config{URL: "https://example.org" + path + "?" + query}), "url-sig")
}

func TestSendResolved(t *testing.T) {
	alertstest.CheckSendResolved(t, func(v *bool) (*teams.Notifier, error) {
		return teams.New(teams.Config{URL: "https://example.org/x", SendResolved: v}, teams.Options{})
	})
}
