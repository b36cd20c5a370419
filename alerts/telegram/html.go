package telegram

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/vantageprobe/vantage/alerts"
)

// maxText is Telegram's limit on a message, in characters after entity
// parsing (counted here in UTF-16 code units, as Telegram does).
const maxText = 4096

// allowedTags are the tags of Telegram's HTML parse mode.
var allowedTags = []string{
	"a", "b", "blockquote", "code", "del", "em", "i", "ins", "pre", "s",
	"span", "strike", "strong", "tg-emoji", "tg-spoiler", "u",
}

var (
	tagPattern    = regexp.MustCompile(`^<(/?)([A-Za-z][A-Za-z0-9-]*)(?:\s[^<>]*)?>`)
	entityPattern = regexp.MustCompile(`^&(?:lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6});`)
)

// escape makes a value safe in Telegram's HTML, also inside a quoted
// attribute.
var escape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace

// checkHTML reports the first construct of a template's literal text that
// Telegram's HTML parse mode rejects: a tag it does not know, a lone < or
// an & that starts no entity.
func checkHTML(src string) error {
	for i := 0; i < len(src); i++ {
		switch src[i] {
		case '<':
			m := tagPattern.FindStringSubmatch(src[i:])
			if m == nil {
				return errors.New("a < that starts no tag (write &lt;)")
			}
			if name := strings.ToLower(m[2]); !slices.Contains(allowedTags, name) {
				return fmt.Errorf("<%s> is not a tag Telegram allows (%s)", m[2], strings.Join(allowedTags, ", "))
			}
			i += len(m[0]) - 1
		case '&':
			if !entityPattern.MatchString(src[i:]) {
				return errors.New("an & that starts no entity (write &amp;)")
			}
		}
	}
	return nil
}

// text renders notif as HTML within Telegram's length limit.
func (n *Notifier) text(notif alerts.Notification) string {
	var s string
	if n.message.IsZero() {
		s = defaultMessage(notif)
	} else {
		s = n.message.Render(notif, escape)
	}
	if l := visibleLen(s); l > maxText {
		n.log.Debug("telegram message cut to the length limit", "notifier", notif.Receiver, "chars", l)
		s = fit(s, maxText)
	}
	return s
}

// defaultMessage is the title in bold, then a line per alert (firing
// first) with a link to its check:
//
//	<b>[FIRING] api-down: api</b>
//	• api is down in 2 of 3 regions: timeout (<a href="…">check</a>)
func defaultMessage(notif alerts.Notification) string {
	var b strings.Builder
	b.WriteString("<b>" + escape(alerts.Title(notif)) + "</b>")
	ordered := append(notif.Firing(), notif.Resolved()...)
	for i, line := range alerts.Lines(notif) {
		b.WriteString("\n• " + escape(line))
		if u := alerts.WebURL(ordered[i].URL); u != "" {
			b.WriteString(` (<a href="` + escape(u) + `">check</a>)`)
		}
	}
	return b.String()
}

// token is the next piece of well-formed HTML s starts with: a tag (no
// width), an entity or a character (its UTF-16 width).
func token(s string) (n, width int, tag string, closing bool) {
	switch s[0] {
	case '<':
		if m := tagPattern.FindStringSubmatch(s); m != nil {
			return len(m[0]), 0, strings.ToLower(m[2]), m[1] == "/"
		}
	case '&':
		if m := entityPattern.FindString(s); m != "" {
			return len(m), 1, "", false
		}
	}
	r, size := utf8.DecodeRuneInString(s)
	return size, utf16.RuneLen(r), "", false
}

// visibleLen is the length of HTML text s as Telegram counts it.
func visibleLen(s string) int {
	total := 0
	for s != "" {
		n, w, _, _ := token(s)
		total += w
		s = s[n:]
	}
	return total
}

// fit cuts HTML text s to at most limit visible characters, ending with
// "…" and closing the tags left open.
func fit(s string, limit int) string {
	var open []string
	used, end := 0, 0
	for rest := s; rest != ""; {
		n, w, tag, closing := token(rest)
		if used+w > limit-1 {
			break
		}
		switch {
		case tag != "" && closing:
			for i := len(open) - 1; i >= 0; i-- {
				if open[i] == tag {
					open = slices.Delete(open, i, i+1)
					break
				}
			}
		case tag != "":
			open = append(open, tag)
		}
		used += w
		end += n
		rest = rest[n:]
	}
	var b strings.Builder
	b.WriteString(s[:end] + "…")
	for i := len(open) - 1; i >= 0; i-- {
		b.WriteString("</" + open[i] + ">")
	}
	return b.String()
}
