package teams

import (
	"strings"

	"github.com/vantageprobe/vantage/alerts"
)

// Adaptive Card constants. Teams did not accept versions above 1.4 for
// workflow posts (Gatus' notes, 2024).
const (
	cardContentType = "application/vnd.microsoft.card.adaptive"
	cardSchema      = "http://adaptivecards.io/schemas/adaptive-card.json"
	cardVersion     = "1.4"
)

// Limits keeping a card well under Teams' ~28 KB message size.
const (
	maxTitle = 256
	maxText  = 4000
	maxFact  = 500
)

type message struct {
	Type        string       `json:"type"` // "message"
	Attachments []attachment `json:"attachments"`
}

type attachment struct {
	ContentType string  `json:"contentType"`
	ContentURL  *string `json:"contentUrl"` // null
	Content     card    `json:"content"`
}

type card struct {
	Schema  string    `json:"$schema"`
	Type    string    `json:"type"` // "AdaptiveCard"
	Version string    `json:"version"`
	Body    []element `json:"body"`
	Actions []action  `json:"actions,omitempty"`
	MSTeams msteams   `json:"msteams"`
}

// element is a TextBlock or a FactSet.
type element struct {
	Type   string `json:"type"`
	Text   string `json:"text,omitempty"`
	Weight string `json:"weight,omitempty"`
	Size   string `json:"size,omitempty"`
	Color  string `json:"color,omitempty"`
	Wrap   bool   `json:"wrap,omitempty"`
	Facts  []fact `json:"facts,omitempty"`
}

type fact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

type action struct {
	Type  string `json:"type"` // "Action.OpenUrl"
	Title string `json:"title"`
	URL   string `json:"url"`
}

type msteams struct {
	Width string `json:"width"`
}

// message builds the card for notif: a heading coloured by status, the
// body, facts and a link to the check.
func (n *Notifier) message(notif alerts.Notification) message {
	title := Escape(alerts.Title(notif))
	if !n.title.IsZero() {
		title = n.title.Render(notif, Escape)
	}
	text := defaultText(notif)
	if !n.text.IsZero() {
		text = n.text.Render(notif, Escape)
	}
	color := "Attention"
	if notif.Status == alerts.StatusResolved {
		color = "Good"
	}
	body := []element{{Type: "TextBlock", Text: alerts.TruncateMarkdown(strings.Join(strings.Fields(title), " "), maxTitle),
		Weight: "Bolder", Size: "Large", Color: color, Wrap: true}}
	if text != "" {
		body = append(body, element{Type: "TextBlock", Text: alerts.TruncateMarkdown(text, maxText), Wrap: true})
	}
	if facts := factsOf(notif); len(facts) > 0 {
		body = append(body, element{Type: "FactSet", Facts: facts})
	}
	c := card{Schema: cardSchema, Type: "AdaptiveCard", Version: cardVersion, Body: body, MSTeams: msteams{Width: "Full"}}
	if l := alerts.Link(notif); l != "" {
		c.Actions = []action{{Type: "Action.OpenUrl", Title: "Open in Vantage", URL: l}}
	}
	return message{Type: "message", Attachments: []attachment{{ContentType: cardContentType, Content: c}}}
}

// defaultText is one line per alert, firing ones first, each with its
// error when the summary does not already say it, as a markdown list.
func defaultText(notif alerts.Notification) string {
	lines := alerts.Lines(notif)
	var out []string
	for i, a := range append(notif.Firing(), notif.Resolved()...) {
		line := "- " + Escape(lines[i])
		if a.Status == alerts.StatusFiring && a.Error != "" && !strings.Contains(lines[i], a.Error) {
			line += " (error: " + Escape(a.Error) + ")"
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

func factsOf(notif alerts.Notification) []fact {
	v := alerts.Values(notif)
	var facts []fact
	for _, f := range []fact{
		{"Status", v["status"]}, {"Severity", v["severity"]}, {"Checks", v["checks"]},
		{"Regions", v["regions"]}, {"Since", v["starts_at"]}, {"Reason", v["reason"]},
	} {
		if f.Value != "" {
			facts = append(facts, fact{f.Title, alerts.TruncateMarkdown(Escape(f.Value), maxFact)})
		}
	}
	return facts
}

// markdown backslash-escapes the punctuation Adaptive Card markdown (and
// the HTML-like tags Teams reads, such as <at>) gives a meaning.
var markdown = strings.NewReplacer(
	`\`, `\\`, `*`, `\*`, `_`, `\_`, `~`, `\~`, "`", "\\`", `[`, `\[`, `]`, `\]`, `(`, `\(`, `)`, `\)`,
	`<`, `\<`, `>`, `\>`, `#`, `\#`, `|`, `\|`, `&`, `\&`,
)

// Escape makes s literal text in a TextBlock: markdown is escaped and line
// breaks become spaces, so a value cannot start a list or a heading.
func Escape(s string) string {
	s = markdown.Replace(strings.Join(strings.Fields(s), " "))
	if s != "" && strings.ContainsRune("-+=0123456789", rune(s[0])) {
		// "- x", "+ x", "1. x": a list only at a line's start; escaping the
		// first character is harmless anywhere.
		if i := strings.IndexAny(s, ".)"); s[0] >= '0' && s[0] <= '9' && i > 0 && strings.Trim(s[:i], "0123456789") == "" {
			return s[:i] + `\` + s[i:]
		}
		if s[0] == '-' || s[0] == '+' || s[0] == '=' {
			return `\` + s
		}
	}
	return s
}
