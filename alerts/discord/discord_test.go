package discord_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/vantageprobe/vantage/alerts"
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

// hook is a Discord webhook: it records requests and answers as scripted.
type hook struct {
	mu         sync.Mutex
	reqs       []*http.Request
	bodies     [][]byte
	status     int
	answer     string
	retryAfter string
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.reqs, h.bodies = append(h.reqs, r), append(h.bodies, body)
	if h.retryAfter != "" {
		w.Header().Set("Retry-After", h.retryAfter)
	}
	if h.answer != "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(h.status)
	fmt.Fprint(w, h.answer)
}

func (h *hook) last(t *testing.T) (*http.Request, []byte) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.reqs) == 0 {
		t.Fatal("no request received")
	}
	return h.reqs[len(h.reqs)-1], h.bodies[len(h.bodies)-1]
}

func setup(t *testing.T, status int, answer string, c discord.Config) (*hook, *discord.Notifier, *bytes.Buffer) {
	t.Helper()
	h := &hook{status: status, answer: answer}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Fatalf("not on loopback: %s", srv.URL)
	}
	c.URL = discord.Secret(srv.URL + path)
	var logs bytes.Buffer
	n, err := discord.New(c, discord.Options{HTTPClient: srv.Client(),
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
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
	h, n, _ := setup(t, http.StatusNoContent, "", discord.Config{})
	if err := n.Notify(t.Context(), notification()); err != nil {
		t.Fatal(err)
	}
	r, body := h.last(t)
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
	h, n, _ := setup(t, http.StatusOK, `{"id":"1"}`, discord.Config{Title: title, Text: text, Content: content, Username: "Vantage"})
	notif := notification()
	notif.Status = alerts.StatusResolved
	notif.Alerts[0].Summary = strings.Repeat("ß", 5000)
	if err := n.Notify(t.Context(), notif); err != nil {
		t.Fatal(err)
	}
	_, body := h.last(t)
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
			h, n, logs := setup(t, tt.status, tt.answer, discord.Config{})
			h.retryAfter = tt.retryAfter
			err := n.Notify(t.Context(), notification())
			if (err == nil) != tt.ok || alerts.IsPermanent(err) != tt.permanent || alerts.RetryDelay(err) != tt.delay {
				t.Fatalf("err %v, permanent %v, delay %v", err, alerts.IsPermanent(err), alerts.RetryDelay(err))
			}
			out := logs.String()
			if err != nil {
				out += err.Error()
			}
			if strings.Contains(out, "url-token") || strings.Contains(out, "123456") {
				t.Errorf("the webhook URL leaked: %s", out)
			}
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
			if got := fmt.Sprint(err); (err == nil) != (tt.want == "") || err != nil && got != tt.want {
				t.Fatalf("err %q, want %q", got, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "url-token") {
				t.Errorf("secret in %v", err)
			}
			if _, nerr := discord.New(tt.c, discord.Options{}); (nerr == nil) != (tt.want == "") {
				t.Errorf("New: %v", nerr)
			}
		})
	}
	c := discord.Config{URL: "https://discord.com" + path}
	if s := fmt.Sprintf("%v %+v %#v", c, c, c); strings.Contains(s, "url-token") {
		t.Errorf("config prints its URL: %s", s)
	}
}

func TestSendResolved(t *testing.T) {
	no := false
	for _, tt := range []struct {
		v    *bool
		want bool
	}{{nil, true}, {&no, false}} {
		n, err := discord.New(discord.Config{URL: "https://discord.com" + path, SendResolved: tt.v}, discord.Options{})
		if err != nil || n.SendResolved() != tt.want {
			t.Errorf("send_resolved %v: %v %v", tt.v, n.SendResolved(), err)
		}
	}
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
