package discord_test

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
	"github.com/vantageprobe/vantage/alerts/discord"
)

const (
	hostile        = "<@here> <!channel> ](http://evil) *bold* & </script>"
	hostileEscaped = `\<\@here\> \<!channel\> \]\(http://evil\) \*bold\* & \</script\>`
	path           = "/api/webhooks/123456/url-token"
)

func notification() alerts.Notification {
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	return alerts.Notification{
		Key: "n-1", GroupKey: "g", Receiver: "ops-discord", Status: alerts.StatusFiring, Rule: "api-down",
		Severity: alerts.SeverityPage, Reason: "new", Time: start.Add(time.Minute),
		Alerts: []alerts.Alert{
			{Status: alerts.StatusFiring, Check: "api", State: "down", Summary: "api is down in 2 of 3 regions",
				Error: hostile, URL: "https://vantage.example.org/checks/api", StartsAt: start},
			{Status: alerts.StatusResolved, Check: "web", State: "up", StartsAt: start},
		},
	}
}

// setup starts a Discord webhook that answers a and a notifier posting
// to it, logging to the returned buffer.
func setup(t *testing.T, a alertstest.Answer, c discord.Config) (*alertstest.Server, *discord.Notifier, *bytes.Buffer) {
	t.Helper()
	h := alertstest.NewServer(t, a)
	c.URL = discord.Secret(h.URL + path)
	var logs bytes.Buffer
	n, err := discord.New(c, discord.Options{HTTPClient: h.Client(), Logger: alertstest.Logger(&logs)})
	if err != nil {
		t.Fatal(err)
	}
	return h, n, &logs
}

type payload struct {
	Content         *string `json:"content"`
	Username        string  `json:"username"`
	AllowedMentions struct {
		Parse []string `json:"parse"`
	} `json:"allowed_mentions"`
	Embeds []struct {
		Title       string `json:"title"`
		Description string `json:"description"`
		URL         string `json:"url"`
		Color       int    `json:"color"` // fails to decode if a string
		Timestamp   string `json:"timestamp"`
		Footer      struct {
			Text string `json:"text"`
		} `json:"footer"`
	} `json:"embeds"`
}

func decode(t *testing.T, body []byte) payload {
	t.Helper()
	var p payload
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("body: %v\n%s", err, body)
	}
	if len(p.Embeds) != 1 {
		t.Fatalf("want one embed: %s", body)
	}
	if !bytes.Contains(body, []byte(`"allowed_mentions":{"parse":[]}`)) {
		t.Errorf("mentions not turned off: %s", body)
	}
	e := p.Embeds[0]
	if utf8.RuneCountInString(e.Title) > 256 || utf8.RuneCountInString(e.Description) > 4096 ||
		p.Content != nil && utf8.RuneCountInString(*p.Content) > 2000 {
		t.Errorf("over Discord's limits: %s", body)
	}
	return p
}

func TestNotifyRequest(t *testing.T) {
	h, n, _ := setup(t, alertstest.Answer{Status: http.StatusNoContent}, discord.Config{})
	if err := n.Notify(t.Context(), notification()); err != nil {
		t.Fatal(err)
	}
	r := h.Last(t)
	body := r.Body
	if r.Method != http.MethodPost || r.URL.Path != path || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("request %s %s %s", r.Method, r.URL, r.Header.Get("Content-Type"))
	}
	p := decode(t, body)
	e := p.Embeds[0]
	if p.Content != nil || p.Username != "" {
		t.Errorf("content %v username %q without config", p.Content, p.Username)
	}
	if e.Title != `\[FIRING\] api-down: api, web` || e.Color != 15158332 || e.URL != "https://vantage.example.org/checks/api" ||
		e.Timestamp != "2026-11-25T10:01:00Z" || e.Footer.Text != "Vantage · severity page · new" {
		t.Errorf("embed %+v", e)
	}
	want := "• api is down in 2 of 3 regions\n  error: " + hostileEscaped + "\n• resolved: web is up"
	if e.Description != want {
		t.Errorf("description\n got %q\nwant %q", e.Description, want)
	}
}

func TestNotifyTemplatesResolvedAndLimits(t *testing.T) {
	title, _ := alerts.ParseTemplate("{{status}}: {{error}} {{summary}}")
	text, _ := alerts.ParseTemplate("**{{check}}** {{summary}}")
	content, _ := alerts.ParseTemplate("{{check}} {{error}} {{summary}}")
	h, n, _ := setup(t, alertstest.Answer{Status: http.StatusOK, Body: `{"id":"1"}`}, discord.Config{Title: title, Text: text, Content: content, Username: "Vantage"})
	notif := notification()
	notif.Status = alerts.StatusResolved
	notif.Alerts[0].Summary = strings.Repeat("ß", 5000)
	if err := n.Notify(t.Context(), notif); err != nil {
		t.Fatal(err)
	}
	body := h.Last(t).Body
	p := decode(t, body)
	e := p.Embeds[0]
	if e.Color != 3066993 || p.Username != "Vantage" {
		t.Errorf("color %d username %q", e.Color, p.Username)
	}
	for name, tt := range map[string]struct {
		s, prefix string
		n         int
	}{
		"title":       {e.Title, "RESOLVED: " + hostileEscaped + " ßß", 256},
		"description": {e.Description, "**api** ßß", 4096},
		"content":     {*p.Content, "api " + hostileEscaped + " ßß", 2000},
	} {
		if got := utf8.RuneCountInString(tt.s); got != tt.n || !strings.HasPrefix(tt.s, tt.prefix) || !strings.HasSuffix(tt.s, "ß…") {
			t.Errorf("%s: %d runes (want %d), %q…%q", name, got, tt.n, tt.s[:min(40, len(tt.s))], tt.s[len(tt.s)-8:])
		}
	}
}

func TestNotifyClassifies(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		answer     string
		retryAfter string
		ok         bool
		permanent  bool
		delay      time.Duration
	}{
		{"no content", http.StatusNoContent, "", "", true, false, 0},
		{"wait answer", http.StatusOK, `{"id":"1"}`, "", true, false, 0},
		{"invalid message", http.StatusBadRequest, `{"code":50006,"message":"Cannot send an empty message"}`, "", false, true, 0},
		{"unknown webhook", http.StatusNotFound, `{"code":10015,"message":"Unknown Webhook"}`, "", false, true, 0},
		{"rate limited, body", http.StatusTooManyRequests, `{"message":"You are being rate limited.","retry_after":1.5,"global":false}`, "", false, false, 1500 * time.Millisecond},
		{"rate limited, header", http.StatusTooManyRequests, `{"retry_after":1.5}`, "3", false, false, 3 * time.Second},
		{"server error", http.StatusBadGateway, "", "", false, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := alertstest.Answer{Status: tt.status, Body: tt.answer, Header: map[string]string{"Retry-After": tt.retryAfter}}
			_, n, logs := setup(t, a, discord.Config{})
			err := n.Notify(t.Context(), notification())
			alertstest.CheckOutcome(t, err, tt.ok, tt.permanent, tt.delay)
			alertstest.NoSecrets(t, fmt.Sprint(err)+logs.String(), "url-token", "123456")
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		c    discord.Config
		want string
	}{
		{"valid", discord.Config{URL: "https://discord.com" + path, Username: "Vantage"}, ""},
		{"missing url", discord.Config{}, "url: required"},
		{"every problem", discord.Config{URL: "discord.com" + path, Username: strings.Repeat("é", 81), Timeout: -time.Second},
			"url: not an absolute http or https URL\nusername: 81 characters, more than Discord's 80\ntimeout: -1s is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.Validate()
			alertstest.CheckErrorText(t, err, tt.want)
			alertstest.NoSecrets(t, fmt.Sprint(err), "url-token")
			if _, nerr := discord.New(tt.c, discord.Options{}); (nerr == nil) != (tt.want == "") {
				t.Errorf("New: %v", nerr)
			}
		})
	}
	alertstest.NoSecrets(t, alertstest.Printed(discord.Config{URL: "https://discord.com" + path}), "url-token")
}

func TestSendResolved(t *testing.T) {
	alertstest.CheckSendResolved(t, func(v *bool) (*discord.Notifier, error) {
		return discord.New(discord.Config{URL: "https://discord.com" + path, SendResolved: v}, discord.Options{})
	})
}

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		hostile:                       hostileEscaped,
		"@everyone ~~x~~ ||spoiler||": `\@everyone \~\~x\~\~ \|\|spoiler\|\|`,
		"`code` \\ # h _i_":           "\\`code\\` \\\\ \\# h \\_i\\_",
		"plain text 1.2-3":            "plain text 1.2-3",
	} {
		if got := discord.Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}
