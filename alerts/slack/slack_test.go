package slack_test

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
	"github.com/vantageprobe/vantage/alerts/slack"
)

const (
	hostile        = "<@here> <!channel> ](http://evil) *bold* & </script>"
	hostileEscaped = "&lt;@here&gt; &lt;!channel&gt; ](http://evil) *bold* &amp; &lt;/script&gt;"
	token          = "T000/B000/url-token"
)

func notification() alerts.Notification {
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	return alerts.Notification{
		Key: "n-1", GroupKey: "g", Receiver: "ops-slack", Status: alerts.StatusFiring, Rule: "api-down",
		Severity: alerts.SeverityPage, Reason: "new", ExternalURL: "https://vantage.example.org",
		Alerts: []alerts.Alert{
			{Status: alerts.StatusFiring, Check: "api", State: "down", Summary: "api is down in 2 of 3 regions",
				Error: hostile, URL: "https://vantage.example.org/checks/api?a=1&b=2", StartsAt: start},
			{Status: alerts.StatusResolved, Check: "web", State: "up", StartsAt: start},
		},
	}
}

// setup starts a Slack webhook that answers a and a notifier posting to
// it, logging to the returned buffer.
func setup(t *testing.T, a alertstest.Answer, c slack.Config) (*alertstest.Server, *slack.Notifier, *bytes.Buffer) {
	t.Helper()
	h := alertstest.NewServer(t, a)
	c.URL = slack.Secret(h.URL + "/services/" + token)
	var logs bytes.Buffer
	n, err := slack.New(c, slack.Options{Logger: alertstest.Logger(&logs), HTTPClient: h.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return h, n, &logs
}

// payload mirrors what the test checks, with types Slack requires.
type payload struct {
	Text        string `json:"text"`
	UnfurlLinks *bool  `json:"unfurl_links"`
	UnfurlMedia *bool  `json:"unfurl_media"`
	Attachments []struct {
		Color    string `json:"color"`
		Fallback string `json:"fallback"`
		Blocks   []struct {
			Type string `json:"type"`
			Text *struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"text"`
			Elements []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"elements"`
		} `json:"blocks"`
	} `json:"attachments"`
}

func decode(t *testing.T, body []byte) payload {
	t.Helper()
	var p payload
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("body: %v\n%s", err, body)
	}
	if p.Text == "" || len(p.Attachments) != 1 || len(p.Attachments[0].Blocks) == 0 || len(p.Attachments[0].Blocks) > 50 {
		t.Fatalf("shape: %s", body)
	}
	for _, b := range p.Attachments[0].Blocks {
		switch {
		case b.Type == "section" && b.Text != nil && b.Text.Type == "mrkdwn" && b.Text.Text != "":
		case b.Type == "context" && len(b.Elements) > 0 && b.Elements[0].Type == "mrkdwn":
		default:
			t.Errorf("block %+v", b)
		}
	}
	return p
}

func TestNotifyRequest(t *testing.T) {
	h, n, _ := setup(t, alertstest.Answer{Status: http.StatusOK, Body: "ok"}, slack.Config{})
	if err := n.Notify(t.Context(), notification()); err != nil {
		t.Fatal(err)
	}
	r := h.Last(t)
	body := r.Body
	if r.Method != http.MethodPost || r.URL.Path != "/services/"+token || r.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("request %s %s %s", r.Method, r.URL, r.Header.Get("Content-Type"))
	}
	p := decode(t, body)
	if p.Text != "[FIRING] api-down: api, web" || p.Attachments[0].Fallback != p.Text {
		t.Errorf("text %q fallback %q", p.Text, p.Attachments[0].Fallback)
	}
	if p.Attachments[0].Color != "#DD0000" || p.UnfurlLinks == nil || *p.UnfurlLinks || p.UnfurlMedia == nil || *p.UnfurlMedia {
		t.Errorf("color %q unfurl %v %v", p.Attachments[0].Color, p.UnfurlLinks, p.UnfurlMedia)
	}
	section := p.Attachments[0].Blocks[0].Text.Text
	want := "• api is down in 2 of 3 regions\n    error: `" + hostileEscaped + "`\n• resolved: web is up"
	if section != want {
		t.Errorf("section\n got %q\nwant %q", section, want)
	}
	ctx := p.Attachments[0].Blocks[1].Elements[0].Text
	if ctx != "<https://vantage.example.org/checks/api?a=1&amp;b=2|Open in Vantage> · severity page · new" {
		t.Errorf("context %q", ctx)
	}
	// Nothing a user controls can form <…>: no mention, no link.
	texts := strings.Join(allStrings(t, body), "\n")
	for _, bad := range []string{"<@here>", "<!channel>", "</script>", "& "} {
		if strings.Contains(texts, bad) {
			t.Errorf("the message carries %q unescaped: %s", bad, texts)
		}
	}
}

func TestNotifyResolvedAndTemplates(t *testing.T) {
	title, _ := alerts.ParseTemplate("{{status}} {{check}}: {{error}}")
	text, _ := alerts.ParseTemplate("*{{check}}* is {{state}}\n{{error}}")
	h, n, _ := setup(t, alertstest.Answer{Status: http.StatusOK, Body: "ok"}, slack.Config{Title: title, Text: text})
	notif := notification()
	notif.Status = alerts.StatusResolved
	if err := n.Notify(t.Context(), notif); err != nil {
		t.Fatal(err)
	}
	body := h.Last(t).Body
	p := decode(t, body)
	if p.Attachments[0].Color != "#36A64F" {
		t.Errorf("resolved color %q", p.Attachments[0].Color)
	}
	if p.Text != "RESOLVED api: "+hostileEscaped {
		t.Errorf("title %q", p.Text)
	}
	if got := p.Attachments[0].Blocks[0].Text.Text; got != "*api* is down\n"+hostileEscaped {
		t.Errorf("text %q", got)
	}
}

func TestNotifyTruncatesByRunes(t *testing.T) {
	h, n, _ := setup(t, alertstest.Answer{Status: http.StatusOK, Body: "ok"}, slack.Config{})
	notif := notification()
	notif.Rule = strings.Repeat("é", 400)
	notif.Alerts[0].Error = strings.Repeat("ü&", 3000)
	if err := n.Notify(t.Context(), notif); err != nil {
		t.Fatal(err)
	}
	body := h.Last(t).Body
	p := decode(t, body)
	section := p.Attachments[0].Blocks[0].Text.Text
	for name, tt := range map[string]struct {
		s   string
		max int
	}{"text": {p.Text, 150}, "section": {section, 3000}} {
		if !utf8.ValidString(tt.s) || utf8.RuneCountInString(tt.s) > tt.max || !strings.HasSuffix(tt.s, "…") {
			t.Errorf("%s: %d runes, valid %v, ends %q", name, utf8.RuneCountInString(tt.s), utf8.ValidString(tt.s), tt.s[len(tt.s)-8:])
		}
	}
	if tail := strings.TrimSuffix(section, "…"); !strings.HasSuffix(tail, "&amp;") && !strings.HasSuffix(tail, "ü") {
		t.Errorf("cut inside an entity: %q", tail[len(tail)-10:])
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
		{"ok", http.StatusOK, "ok", "", true, false, 0},
		{"200 with another answer", http.StatusOK, "invalid_blocks", "", false, true, 0},
		{"200 with ok false", http.StatusOK, `{"ok":false,"error":"invalid_auth"}`, "", false, true, 0},
		{"channel not found", http.StatusNotFound, "channel_not_found", "", false, true, 0},
		{"invalid payload", http.StatusBadRequest, "invalid_payload", "", false, true, 0},
		{"rate limited", http.StatusTooManyRequests, "", "30", false, false, 30 * time.Second},
		{"rollup error", http.StatusInternalServerError, "rollup_error", "", false, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := alertstest.Answer{Status: tt.status, Body: tt.answer, Header: map[string]string{"Retry-After": tt.retryAfter}}
			_, n, logs := setup(t, a, slack.Config{})
			err := n.Notify(t.Context(), notification())
			alertstest.CheckOutcome(t, err, tt.ok, tt.permanent, tt.delay)
			alertstest.NoSecrets(t, fmt.Sprint(err)+logs.String(), "url-token", "T000")
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		c    slack.Config
		want string
	}{
		{"valid", slack.Config{URL: "https://hooks.slack.com/services/" + token}, ""},
		{"missing url", slack.Config{}, "url: required"},
		{"not a URL", slack.Config{URL: "hooks.slack.com/services/" + token}, "url: not an absolute http or https URL"},
		{"every problem", slack.Config{URL: "ftp://x/" + token, Timeout: -1}, "url: not an absolute http or https URL\ntimeout: -1ns is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.Validate()
			alertstest.CheckErrorText(t, err, tt.want)
			alertstest.NoSecrets(t, fmt.Sprint(err), "url-token")
			if _, nerr := slack.New(tt.c, slack.Options{}); (nerr == nil) != (tt.want == "") {
				t.Errorf("New: %v", nerr)
			}
		})
	}
	alertstest.NoSecrets(t, alertstest.Printed(slack.Config{URL: "https://hooks.slack.com/services/" + token}), "url-token")
}

func TestSendResolved(t *testing.T) {
	alertstest.CheckSendResolved(t, func(v *bool) (*slack.Notifier, error) {
		return slack.New(slack.Config{URL: "https://hooks.slack.com/x", SendResolved: v}, slack.Options{})
	})
}

func TestEscapeAndLink(t *testing.T) {
	if got := slack.Escape(hostile); got != hostileEscaped {
		t.Errorf("Escape = %q", got)
	}
	for raw, want := range map[string]string{
		"https://x.example/a|b?c=<d>": "<https://x.example/a%7Cb?c=&lt;d&gt;|go>",
		"javascript:alert(1)":         "",
		"":                            "",
		"/relative":                   "",
	} {
		if got := slack.Link(raw, "go"); got != want {
			t.Errorf("Link(%q) = %q, want %q", raw, got, want)
		}
	}
}

// allStrings returns every string value of a JSON document, decoded.
func allStrings(t *testing.T, body []byte) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			out = append(out, v)
		case []any:
			for _, e := range v {
				walk(e)
			}
		case map[string]any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(v)
	return out
}
