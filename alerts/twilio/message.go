package twilio

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/vantageprobe/vantage/alerts"
)

// errAuthentication is Twilio's error code for rejected credentials.
const errAuthentication = 20003

// text is the message for notif: one line, at most maxLength characters.
func (n *Notifier) text(notif alerts.Notification) string {
	var s string
	if n.message.IsZero() {
		s = defaultText(notif)
	} else {
		s = n.message.Render(notif, nil)
	}
	s = oneLine(s)
	if c := utf8.RuneCountInString(s); c > n.maxLength {
		n.log.Debug("sms text cut to max_length", "notifier", notif.Receiver, "chars", c, "max_length", n.maxLength)
	}
	return truncate(s, n.maxLength)
}

// defaultText is the title and, while the group fires, its first firing
// alert's line: "[FIRING] api-down: api - api is down in 2 of 3 regions".
// Only GSM-7 characters are added, so that a plain ASCII alert fits 160
// characters to a segment.
func defaultText(notif alerts.Notification) string {
	s := alerts.Title(notif)
	firing := notif.Firing()
	if notif.Status != alerts.StatusFiring || len(firing) == 0 {
		return s
	}
	s += " - " + alerts.Lines(notif)[0]
	if len(firing) > 1 {
		s += fmt.Sprintf(" (+%d more)", len(firing)-1)
	}
	return s
}

// oneLine turns control characters and runs of white space into single
// spaces.
func oneLine(s string) string {
	return strings.Join(strings.Fields(alerts.OneLine(s)), " ")
}

// truncate cuts s to at most n runes, ending with "..." when cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 3 {
		return string([]rune(s)[:n])
	}
	return string([]rune(s)[:n-3]) + "..."
}

// classify makes an authentication failure permanent whatever its HTTP
// status.
func classify(err error, answer []byte) error {
	var e struct {
		Code int `json:"code"`
	}
	if json.Unmarshal(answer, &e) == nil && e.Code == errAuthentication && !alerts.IsPermanent(err) {
		return alerts.Permanent(err)
	}
	return err
}
