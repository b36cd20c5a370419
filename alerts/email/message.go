package email

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/vantageprobe/vantage/alerts"
)

// maxSubject keeps the Subject line readable (and its encoding short).
const maxSubject = 200

// compose builds the whole message, CRLF line endings throughout: headers,
// then a multipart/alternative body with a text and an HTML part, both
// quoted-printable so that no line exceeds 998 octets.
func (n *Notifier) compose(notif alerts.Notification) ([]byte, error) {
	id, inReplyTo, references := n.threading(notif)
	date := notif.Time
	if date.IsZero() {
		date = n.now()
	}
	text, htmlBody := n.bodies(notif)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if err := mw.SetBoundary("vantage-" + digest(id)); err != nil {
		return nil, err
	}
	if err := writePart(mw, "text/plain; charset=utf-8", text); err != nil {
		return nil, err
	}
	if err := writePart(mw, "text/html; charset=utf-8", htmlBody); err != nil {
		return nil, err
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("From", n.from.String())
	header("To", addressList(n.to))
	header("Subject", encodeHeader(n.subjectOf(notif)))
	header("Date", date.Format(time.RFC1123Z))
	header("Message-ID", id)
	if inReplyTo != "" {
		header("In-Reply-To", inReplyTo)
	}
	if references != "" {
		header("References", references)
	}
	header("Auto-Submitted", "auto-generated")
	header("MIME-Version", "1.0")
	header("Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()}))
	b.WriteString("\r\n")
	b.Write(body.Bytes())
	return b.Bytes(), nil
}

func writePart(mw *multipart.Writer, contentType, body string) error {
	w, err := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {contentType},
		"Content-Transfer-Encoding": {"quoted-printable"},
	})
	if err != nil {
		return err
	}
	qp := quotedprintable.NewWriter(w)
	if _, err := io.WriteString(qp, body); err != nil {
		return err
	}
	return qp.Close()
}

// subjectOf renders the subject on one line, shortened by runes.
func (n *Notifier) subjectOf(notif alerts.Notification) string {
	s := alerts.Title(notif)
	if !n.subject.IsZero() {
		s = n.subject.Render(notif, nil)
	}
	return alerts.Truncate(strings.Join(strings.Fields(s), " "), maxSubject)
}

// encodeHeader encodes s as RFC 2047 words when it is not plain ASCII,
// folding between the words so that no line grows past 998 octets.
func encodeHeader(s string) string {
	return strings.ReplaceAll(mime.QEncoding.Encode("utf-8", s), "?= =?", "?=\r\n =?")
}

// addressList formats recipients, one per folded line.
func addressList(list []*mail.Address) string {
	out := make([]string, len(list))
	for i, a := range list {
		out[i] = encodeHeader(a.String())
	}
	return strings.Join(out, ",\r\n ")
}

// threading returns the Message-ID of notif's mail and its In-Reply-To
// and References (empty for none).
//
// Every mail of a group refers to a group ID that is never sent itself,
// so a client threads them all even when the mails of an incident do not
// name each other. The first firing mail of an incident (reason "new") has
// an ID derived from the group and the start of its earliest firing alert;
// later mails (changes, reminders, the resolve mail) name it in
// In-Reply-To and References, computed the same way from their own alerts
// (all of them once none fires). Any other mail's ID derives from the
// notification's key, so a retry repeats it and a client keeps one copy.
func (n *Notifier) threading(notif alerts.Notification) (id, inReplyTo, references string) {
	domain := idDomain(n.from.Address)
	group := "<vantage.group." + digest(notif.GroupKey) + "@" + domain + ">"
	incident := "<vantage.incident." + digest(notif.GroupKey, incidentStart(notif)) + "@" + domain + ">"
	key := notif.Key
	if key == "" {
		key = digest(notif.GroupKey, notif.Reason, string(notif.Status), notif.Time.UTC().Format(time.RFC3339Nano))
	}
	own := "<vantage.mail." + digest(key) + "@" + domain + ">"
	switch notif.Reason {
	case "new":
		return incident, "", group
	case "test":
		return own, "", ""
	}
	return own, incident, group + " " + incident
}

// incidentStart is the earliest start of notif's firing alerts (of all of
// them when none fires), in Unix seconds.
func incidentStart(notif alerts.Notification) string {
	list := notif.Firing()
	if len(list) == 0 {
		list = notif.Alerts
	}
	var first time.Time
	for _, a := range list {
		if !a.StartsAt.IsZero() && (first.IsZero() || a.StartsAt.Before(first)) {
			first = a.StartsAt
		}
	}
	return strconv.FormatInt(first.Unix(), 10)
}

// idDomain is the sender's domain when it can stand in a Message-ID.
func idDomain(addr string) string {
	_, d, _ := strings.Cut(addr, "@")
	if d == "" || strings.Trim(d, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != "" {
		return "vantage.invalid"
	}
	return d
}

func digest(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:16])
}

// bodies returns the text and HTML parts: from the text template when one
// is configured (the HTML part shows the same text, escaped), otherwise
// the default layout.
func (n *Notifier) bodies(notif alerts.Notification) (text, htmlBody string) {
	if !n.text.IsZero() {
		text = n.text.Render(notif, nil)
		return text, `<!DOCTYPE html><html><body><div style="white-space:pre-wrap">` +
			html.EscapeString(text) + "</div></body></html>"
	}
	v := newView(notif, n.subjectOf(notif))
	var h strings.Builder
	if err := htmlLayout.Execute(&h, v); err != nil {
		// The layout is fixed and its data plain strings: it cannot fail
		// but by a bug, and the text part still carries everything.
		h.Reset()
		h.WriteString(html.EscapeString(v.text()))
	}
	return v.text(), h.String()
}
