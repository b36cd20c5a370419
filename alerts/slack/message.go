package slack

import (
	"cmp"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/vantageprobe/vantage/alerts"
)

// Colours of the attachment bar.
const (
	colorFiring   = "#DD0000"
	colorResolved = "#36A64F"
)

// Limits (Block Kit): a section's text, a context element's text; the
// fallback text is kept as short as a notification line.
const (
	maxTitle   = 150
	maxText    = 3000
	maxContext = 2000
)

// message is an incoming webhook's body.
type message struct {
	Text        string       `json:"text"`
	Attachments []attachment `json:"attachments"`
	UnfurlLinks bool         `json:"unfurl_links"`
	UnfurlMedia bool         `json:"unfurl_media"`
}

type attachment struct {
	Color    string  `json:"color"`
	Fallback string  `json:"fallback"`
	Blocks   []block `json:"blocks"`
}

type block struct {
	Type     string    `json:"type"`
	Text     *textObj  `json:"text,omitempty"`
	Elements []textObj `json:"elements,omitempty"`
}

type textObj struct {
	Type string `json:"type"` // mrkdwn
	Text string `json:"text"`
}

// message builds the body for notif: the title as text (the
// fallback), and an attachment coloured by status with the body and a
// context line (link, severity, reason).
func (n *Notifier) message(notif alerts.Notification) message {
	title := Escape(alerts.Title(notif))
	if !n.title.IsZero() {
		title = n.title.Render(notif, Escape)
	}
	title = clipEscaped(oneLine(title), maxTitle)
	text := defaultText(notif)
	if !n.text.IsZero() {
		text = n.text.Render(notif, Escape)
	}
	color := colorFiring
	if notif.Status == alerts.StatusResolved {
		color = colorResolved
	}
	blocks := []block{{Type: "section", Text: &textObj{Type: "mrkdwn", Text: clipEscaped(cmp.Or(text, title), maxText)}}}
	if ctx := contextLine(notif); ctx != "" {
		blocks = append(blocks, block{Type: "context", Elements: []textObj{{Type: "mrkdwn", Text: clipEscaped(ctx, maxContext)}}})
	}
	return message{
		Text:        title,
		Attachments: []attachment{{Color: color, Fallback: title, Blocks: blocks}},
	}
}

// defaultText is one line per alert, firing ones first, each with its
// error when the summary does not already say it.
func defaultText(notif alerts.Notification) string {
	lines := alerts.Lines(notif)
	var b strings.Builder
	for i, a := range append(notif.Firing(), notif.Resolved()...) {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString("• " + Escape(lines[i]))
		if a.Status == alerts.StatusFiring && a.Error != "" && !strings.Contains(lines[i], a.Error) {
			b.WriteString("\n    error: `" + Escape(strings.ReplaceAll(oneLine(a.Error), "`", "'")) + "`")
		}
	}
	return b.String()
}

// contextLine links to the first alert's check (or the server) and names
// the severity and why the notification is sent.
func contextLine(notif alerts.Notification) string {
	var parts []string
	link := notif.ExternalURL
	if len(notif.Alerts) > 0 && notif.Alerts[0].URL != "" {
		link = notif.Alerts[0].URL
	}
	if l := Link(link, "Open in Vantage"); l != "" {
		parts = append(parts, l)
	}
	if notif.Severity != "" {
		parts = append(parts, "severity "+Escape(string(notif.Severity)))
	}
	if notif.Reason != "" {
		parts = append(parts, Escape(notif.Reason))
	}
	return strings.Join(parts, " · ")
}

// mrkdwn is Slack's escaping: &, < and > are the only characters with a
// meaning (links, mentions such as <!channel> and <@U123>, entities).
var mrkdwn = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// Escape makes s literal text in Slack mrkdwn.
func Escape(s string) string { return mrkdwn.Replace(s) }

// Link is <url|label> for an http(s) URL, "" for anything else.
func Link(raw, label string) string {
	u, err := url.Parse(raw)
	if raw == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return "<" + strings.ReplaceAll(Escape(u.String()), "|", "%7C") + "|" + Escape(label) + ">"
}

// oneLine collapses whitespace, line breaks included, into single spaces.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// clipEscaped shortens escaped text to at most n runes, ending with "…"
// when cut, without leaving half of an entity such as "&am".
func clipEscaped(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	s = string([]rune(s)[:n-1])
	if i := strings.LastIndexByte(s, '&'); i >= 0 && len(s)-i < len("&amp;") && !strings.Contains(s[i:], ";") {
		s = s[:i]
	}
	return s + "…"
}

// clip shortens s to n bytes for an error message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
