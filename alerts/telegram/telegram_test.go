package telegram_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"golang.org/x/net/html"

	"github.com/vantageprobe/vantage/alerts"
	"github.com/vantageprobe/vantage/alerts/alertstest"
	"github.com/vantageprobe/vantage/alerts/telegram"
	"github.com/vantageprobe/vantage/config"
)

const (
	token   = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
	hostile = `<b>x</b> & <script>alert(1)</script>`
)

// newFake starts a fake Bot API that plays answers (none: 200 and a sent
// message).
func newFake(t *testing.T, answers ...alertstest.Answer) *alertstest.Server {
	t.Helper()
	if len(answers) == 0 {
		answers = []alertstest.Answer{{Status: http.StatusOK, Body: `{"ok":true,"result":{"message_id":7}}`}}
	}
	return alertstest.NewServer(t, answers...)
}

type message struct {
	ChatID                json.RawMessage `json:"chat_id"`
	MessageThreadID       int64           `json:"message_thread_id"`
	Text                  string          `json:"text"`
	ParseMode             string          `json:"parse_mode"`
	DisableWebPagePreview bool            `json:"disable_web_page_preview"`
	LinkPreviewOptions    *struct {
		IsDisabled bool `json:"is_disabled"`
	} `json:"link_preview_options"`
	DisableNotification bool `json:"disable_notification"`
}

var allowed = []string{"a", "b", "blockquote", "code", "del", "em", "i", "ins", "pre", "s", "span", "strike", "strong", "tg-emoji", "tg-spoiler", "u"}

// check decodes a sendMessage call and checks its text as Telegram would:
// known tags only, balanced, at most 4096 characters. It returns the
// message and the text as a reader sees it.
func check(t *testing.T, r alertstest.Request) (message, string) {
	t.Helper()
	if r.Method != http.MethodPost || r.URL.Path != "/bot"+token+"/sendMessage" || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("request %s %s (%s)", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
	}
	var m message
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body: %v\n%s", err, r.Body)
	}
	if m.ParseMode != "HTML" {
		t.Errorf("parse_mode %q", m.ParseMode)
	}
	var open []string
	var visible strings.Builder
	z := html.NewTokenizer(strings.NewReader(m.Text))
	for tt := z.Next(); tt != html.ErrorToken; tt = z.Next() {
		tok := z.Token()
		switch tt {
		case html.StartTagToken:
			if !slices.Contains(allowed, tok.Data) {
				t.Errorf("tag <%s> in %q", tok.Data, m.Text)
			}
			open = append(open, tok.Data)
		case html.EndTagToken:
			if len(open) == 0 || open[len(open)-1] != tok.Data {
				t.Errorf("</%s> closes nothing open in %q", tok.Data, m.Text)
			} else {
				open = open[:len(open)-1]
			}
		case html.TextToken:
			visible.WriteString(tok.Data)
		default:
			t.Errorf("token %v in %q", tt, m.Text)
		}
	}
	if len(open) > 0 {
		t.Errorf("tags left open: %v", open)
	}
	if n := len(utf16.Encode([]rune(visible.String()))); n > 4096 || n == 0 {
		t.Errorf("text has %d characters", n)
	}
	return m, visible.String()
}

func firing() alerts.Notification {
	return alerts.Notification{
		Key: "n-1", GroupKey: "g", Receiver: "tg", Status: alerts.StatusFiring, Rule: "api-down",
		Severity: alerts.SeverityPage, Reason: "new", Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Alerts: []alerts.Alert{
			{Status: alerts.StatusResolved, Check: "web", State: "up", Summary: "web is down"},
			{Status: alerts.StatusFiring, Check: "api", State: "down", Summary: "api is down: " + hostile, Error: hostile,
				URL: `https://vantage.example.org/checks/api?a=1&b="2"`},
		},
	}
}

func newNotifier(t *testing.T, c telegram.Config, logs io.Writer) *telegram.Notifier {
	t.Helper()
	if c.BotToken == "" {
		c.BotToken = token
	}
	if c.ChatID == "" {
		c.ChatID = "-1001234567890"
	}
	n, err := telegram.New(c, telegram.Options{Logger: alertstest.Logger(logs)})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return n
}

// TestDefaultMessage escapes every value, links each check and turns
// link previews off.
func TestDefaultMessage(t *testing.T) {
	tg := newFake(t)
	n := newNotifier(t, telegram.Config{APIURL: tg.URL}, nil)
	if !n.SendResolved() {
		t.Error("send_resolved must default to true")
	}
	if err := n.Notify(t.Context(), firing()); err != nil {
		t.Fatal(err)
	}
	m, visible := check(t, tg.Requests()[0])
	wantText := "<b>[FIRING] api-down: web, api</b>\n" +
		"• api is down: &lt;b&gt;x&lt;/b&gt; &amp; &lt;script&gt;alert(1)&lt;/script&gt;" +
		` (<a href="https://vantage.example.org/checks/api?a=1&amp;b=&quot;2&quot;">check</a>)` + "\n" +
		"• resolved: web is down"
	if m.Text != wantText {
		t.Errorf("text\n%s\nwant\n%s", m.Text, wantText)
	}
	if !strings.Contains(visible, "api is down: "+hostile) {
		t.Errorf("a reader sees %q, want the error text as it was", visible)
	}
	if string(m.ChatID) != "-1001234567890" {
		t.Errorf("chat_id %s, want a number", m.ChatID)
	}
	if !m.DisableWebPagePreview || m.LinkPreviewOptions == nil || !m.LinkPreviewOptions.IsDisabled || m.DisableNotification || m.MessageThreadID != 0 {
		t.Errorf("options %+v", m)
	}
}

// TestTemplateAndChannel renders a configured template for a channel's
// @username, in a topic, silently, with previews on.
func TestTemplateAndChannel(t *testing.T) {
	tg := newFake(t)
	tmpl, err := alerts.ParseTemplate(`<i>{{status}}</i> <a href="{{url}}">{{check}}</a>: <code>{{error}}</code> &amp; more`)
	if err != nil {
		t.Fatal(err)
	}
	preview := false
	n := newNotifier(t, telegram.Config{
		APIURL: tg.URL, ChatID: "@vantage_alerts", MessageThreadID: 42, Message: tmpl,
		DisableWebPagePreview: &preview, DisableNotification: true,
	}, nil)
	notif := firing()
	notif.Alerts = notif.Alerts[1:]
	if err := n.Notify(t.Context(), notif); err != nil {
		t.Fatal(err)
	}
	m, visible := check(t, tg.Requests()[0])
	if string(m.ChatID) != `"@vantage_alerts"` || m.MessageThreadID != 42 || !m.DisableNotification || m.DisableWebPagePreview || m.LinkPreviewOptions != nil {
		t.Errorf("options %+v", m)
	}
	if want := "FIRING api: " + hostile + " & more"; visible != want {
		t.Errorf("a reader sees %q, want %q", visible, want)
	}
	if !strings.Contains(m.Text, `href="https://vantage.example.org/checks/api?a=1&amp;b=&quot;2&quot;"`) {
		t.Errorf("text %q: the URL must stay inside its attribute", m.Text)
	}
}

// TestLongMessageCut keeps a long group within 4096 characters, cut
// between whole characters and entities, with its tags closed.
func TestLongMessageCut(t *testing.T) {
	tg := newFake(t)
	var logs bytes.Buffer
	n := newNotifier(t, telegram.Config{APIURL: tg.URL}, &logs)
	notif := firing()
	for i := range 200 {
		notif.Alerts = append(notif.Alerts, alerts.Alert{Status: alerts.StatusFiring, Check: "c", URL: "https://x.example/c",
			Summary: strings.Repeat("🔥&<", 10) + string(rune('a'+i%26))})
	}
	if err := n.Notify(t.Context(), notif); err != nil {
		t.Fatal(err)
	}
	m, visible := check(t, tg.Requests()[0])
	if n := len(utf16.Encode([]rune(visible))); n < 4000 || !strings.HasSuffix(visible, "…") {
		t.Errorf("visible text has %d characters, ends %q", n, visible[len(visible)-10:])
	}
	if strings.Contains(m.Text, "&am…") || strings.Contains(m.Text, "\ufffd") {
		t.Errorf("cut inside an entity or a character: %q", m.Text[len(m.Text)-40:])
	}
	if !strings.Contains(logs.String(), "cut to the length limit") || strings.Contains(logs.String(), token) {
		t.Errorf("log %q", logs.String())
	}
}

// TestAnswers classifies the Bot API's answers; the token, which is in
// the URL, never shows in errors or logs.
func TestAnswers(t *testing.T) {
	tests := []struct {
		name      string
		answer    alertstest.Answer
		ok        bool
		permanent bool
		delay     time.Duration
		mention   string
	}{
		{"200", alertstest.Answer{Status: 200, Body: `{"ok":true,"result":{}}`}, true, false, 0, ""},
		{"200 not ok", alertstest.Answer{Status: 200, Body: `{"ok":false,"description":"odd"}`}, false, true, 0, "odd"},
		{"400 chat not found", alertstest.Answer{Status: 400, Body: `{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}`}, false, true, 0, "chat not found"},
		{"400 migrated", alertstest.Answer{Status: 400, Body: `{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1009876}}`}, false, true, 0, "set chat_id to it"},
		{"401", alertstest.Answer{Status: 401, Body: `{"ok":false,"error_code":401,"description":"Unauthorized: bot` + token + `"}`}, false, true, 0, "Unauthorized"},
		{"429", alertstest.Answer{Status: 429, Body: `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 17","parameters":{"retry_after":17}}`}, false, false, 17 * time.Second, "retry after"},
		{"500", alertstest.Answer{Status: 500, Body: "bot" + token}, false, false, 0, "500"},
		{"reset", alertstest.Answer{Reset: true}, false, false, 0, "reset"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := newFake(t, tt.answer)
			var logs bytes.Buffer
			n := newNotifier(t, telegram.Config{APIURL: tg.URL}, &logs)
			err := n.Notify(t.Context(), firing())
			alertstest.CheckOutcome(t, err, tt.ok, tt.permanent, tt.delay)
			out := logs.String()
			if err != nil {
				out += err.Error()
				if !strings.HasPrefix(err.Error(), "telegram sendMessage: ") || !strings.Contains(err.Error(), tt.mention) {
					t.Errorf("error %q, want it to mention %q", err, tt.mention)
				}
			}
			alertstest.NoSecrets(t, out, token, token[strings.Index(token, ":"):])
		})
	}
}

func TestValidate(t *testing.T) {
	tmpl := func(s string) alerts.Template {
		v, err := alerts.ParseTemplate(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name string
		c    telegram.Config
		want []string
	}{
		{"ok", telegram.Config{BotToken: token, ChatID: "12345", Message: tmpl(`<b>{{check}}</b> <tg-spoiler>{{error}}</tg-spoiler> &lt;3 &#128293;`)}, nil},
		{"empty", telegram.Config{}, []string{"bot_token: required", "chat_id: required"}},
		{"everything wrong", telegram.Config{BotToken: "123456:short", ChatID: "general", MessageThreadID: -1,
			APIURL: "https://api.telegram.org/?x", Message: tmpl(`<div>{{check}}</div>`), Timeout: -1},
			[]string{"bot_token: not a bot token", "chat_id: ", "message_thread_id: ", "api_url: ", "message: <div> is not a tag", "timeout: "}},
		{"lone <", telegram.Config{BotToken: token, ChatID: "@channel", Message: tmpl(`{{check}} < 3`)}, []string{"message: a < that starts no tag"}},
		{"lone &", telegram.Config{BotToken: token, ChatID: "@channel", Message: tmpl(`{{check}} & co`)}, []string{"message: an & that starts no entity"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.Validate()
			alertstest.CheckProblems(t, err, tt.want...)
		})
	}
}

func TestDecode(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bot"), []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := "bot_token_file: bot\nchat_id: -1001234567890\nmessage: '<b>{{status}}</b> {{checks}}'\ndisable_web_page_preview: false\n"
	var c telegram.Config
	if _, probs := config.Decode([]byte(src), &c, config.DecodeOptions{BaseDir: dir}); len(probs) > 0 {
		t.Fatalf("decode: %v", probs)
	}
	if c.BotToken.Reveal() != token || c.ChatID != "-1001234567890" || *c.DisableWebPagePreview || c.Message.String() != "<b>{{status}}</b> {{checks}}" {
		t.Errorf("decoded %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}
