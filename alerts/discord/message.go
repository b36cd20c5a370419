package discord

import (
	"strings"
	"time"

	"github.com/vantageprobe/vantage/alerts"
)

// Embed colours (integers, as Discord wants them).
const (
	colorFiring   = 0xE74C3C
	colorResolved = 0x2ECC71
)

// Discord's limits, in characters.
const (
	maxContent     = 2000
	maxTitle       = 256
	maxDescription = 4096
)

type message struct {
	Content         string          `json:"content,omitempty"`
	Username        string          `json:"username,omitempty"`
	Embeds          []embed         `json:"embeds"`
	AllowedMentions allowedMentions `json:"allowed_mentions"`
}

// allowedMentions with an empty (not null) parse list turns every mention
// off: @everyone, @here, roles and users.
type allowedMentions struct {
	Parse []string `json:"parse"`
}

type embed struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	URL         string `json:"url,omitempty"`
	Color       int    `json:"color"`
	Timestamp   string `json:"timestamp,omitempty"`
	Footer      footer `json:"footer"`
}

type footer struct {
	Text string `json:"text"`
}

// message builds the body for notif.
func (n *Notifier) message(notif alerts.Notification) message {
	title := Escape(alerts.Title(notif))
	if !n.title.IsZero() {
		title = n.title.Render(notif, Escape)
	}
	text := defaultText(notif)
	if !n.text.IsZero() {
		text = n.text.Render(notif, Escape)
	}
	var content string
	if !n.content.IsZero() {
		content = alerts.TruncateMarkdown(n.content.Render(notif, Escape), maxContent)
	}
	e := embed{
		Title:       alerts.TruncateMarkdown(strings.Join(strings.Fields(title), " "), maxTitle),
		Description: alerts.TruncateMarkdown(text, maxDescription),
		URL:         alerts.Link(notif),
		Color:       colorFiring,
		Footer:      footer{Text: footerText(notif)},
	}
	if notif.Status == alerts.StatusResolved {
		e.Color = colorResolved
	}
	if !notif.Time.IsZero() {
		e.Timestamp = notif.Time.UTC().Format(time.RFC3339)
	}
	return message{Content: content, Username: n.username, Embeds: []embed{e},
		AllowedMentions: allowedMentions{Parse: []string{}}}
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
			b.WriteString("\n  error: " + Escape(strings.Join(strings.Fields(a.Error), " ")))
		}
	}
	return b.String()
}

// footerText names the severity and why the notification is sent; the
// footer is plain text, and the values are Vantage's own.
func footerText(notif alerts.Notification) string {
	parts := []string{"Vantage"}
	if notif.Severity != "" {
		parts = append(parts, "severity "+string(notif.Severity))
	}
	if notif.Reason != "" {
		parts = append(parts, notif.Reason)
	}
	return strings.Join(parts, " · ")
}

// markdown backslash-escapes what Discord's markdown gives a meaning:
// emphasis, code, spoilers, quotes, headings, masked links, mentions
// (<@id>, <#channel>, @everyone) and the backslash itself.
var markdown = strings.NewReplacer(
	`\`, `\\`, `*`, `\*`, `_`, `\_`, `~`, `\~`, "`", "\\`", `|`, `\|`, `>`, `\>`, `<`, `\<`,
	`[`, `\[`, `]`, `\]`, `(`, `\(`, `)`, `\)`, `#`, `\#`, `@`, `\@`,
)

// Escape makes s literal text in Discord markdown.
func Escape(s string) string { return markdown.Replace(s) }
