package alerts

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Template is a logic-free message template: text with {{placeholder}}
// substitutions and nothing else: no functions, no conditionals, no
// access to anything but the values listed in Placeholders. A channel
// escapes every substituted value for its format, so a check's error text
// cannot inject markup or break the payload.
type Template struct {
	src   string
	parts []part
}

type part struct {
	text string // literal text, or
	name string // a placeholder
}

// Placeholders are the values a template can use.
var Placeholders = []string{
	"status",    // FIRING or RESOLVED
	"rule",      // the alert rule's name
	"severity",  // page, ticket or info
	"checks",    // the affected checks, comma-separated
	"check",     // the first affected check
	"count",     // how many alerts the notification carries
	"regions",   // failing regions of the first alert, comma-separated
	"region",    // same as regions
	"state",     // state of the first alert's check
	"summary",   // summary line of the first alert
	"error",     // last error of the first alert ("" when hidden)
	"target",    // target of the first alert ("" when hidden)
	"url",       // link to the first check on the server
	"starts_at", // when the first alert started, RFC 3339
	"reason",    // new, changed, reminder, resolved, test
}

// ParseTemplate compiles src; an unknown placeholder or an unclosed {{ is
// an error naming it.
func ParseTemplate(src string) (Template, error) {
	t := Template{src: src}
	rest := src
	for rest != "" {
		i := strings.Index(rest, "{{")
		if i < 0 {
			t.parts = append(t.parts, part{text: rest})
			break
		}
		if i > 0 {
			t.parts = append(t.parts, part{text: rest[:i]})
		}
		j := strings.Index(rest[i:], "}}")
		if j < 0 {
			return Template{}, fmt.Errorf("unclosed {{ at %q", clipText(rest[i:], 20))
		}
		name := strings.TrimSpace(rest[i+2 : i+j])
		if !slices.Contains(Placeholders, name) {
			return Template{}, fmt.Errorf("unknown placeholder {{%s}} (known: %s)", name, strings.Join(Placeholders, ", "))
		}
		t.parts = append(t.parts, part{name: name})
		rest = rest[i+j+2:]
	}
	return t, nil
}

// MustTemplate compiles a template known to be valid (a channel's default).
func MustTemplate(src string) Template {
	t, err := ParseTemplate(src)
	if err != nil {
		panic(err)
	}
	return t
}

// IsZero reports whether the template is empty (not configured).
func (t Template) IsZero() bool { return t.src == "" }

// String returns the template's source.
func (t Template) String() string { return t.src }

// UnmarshalText compiles a template from YAML.
func (t *Template) UnmarshalText(b []byte) error {
	v, err := ParseTemplate(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// MarshalText returns the source.
func (t Template) MarshalText() ([]byte, error) { return []byte(t.src), nil }

// Render fills the template from n, passing every substituted value
// through escape (nil: unchanged).
func (t Template) Render(n Notification, escape func(string) string) string {
	if escape == nil {
		escape = func(s string) string { return s }
	}
	vals := Values(n)
	var b strings.Builder
	for _, p := range t.parts {
		if p.name == "" {
			b.WriteString(p.text)
			continue
		}
		b.WriteString(escape(vals[p.name]))
	}
	return b.String()
}

// Values returns every placeholder's value for n.
func Values(n Notification) map[string]string {
	v := map[string]string{
		"status": strings.ToUpper(string(n.Status)), "rule": n.Rule, "severity": string(n.Severity),
		"count": strconv.Itoa(len(n.Alerts)), "reason": n.Reason,
	}
	var checks []string
	for _, a := range n.Alerts {
		if !slices.Contains(checks, a.Check) {
			checks = append(checks, a.Check)
		}
	}
	v["checks"] = strings.Join(checks, ", ")
	if len(n.Alerts) == 0 {
		return v
	}
	a := n.Alerts[0]
	v["check"], v["state"], v["summary"], v["error"], v["target"], v["url"] = a.Check, a.State, a.Summary, a.Error, a.Target, a.URL
	v["regions"] = strings.Join(a.Regions, ", ")
	v["region"] = v["regions"]
	if !a.StartsAt.IsZero() {
		v["starts_at"] = a.StartsAt.UTC().Format(time.RFC3339)
	}
	return v
}

// Title is the default one-line title of a notification:
// "[FIRING] api-down: api, web".
func Title(n Notification) string {
	return defaultTitle.Render(n, nil)
}

var defaultTitle = MustTemplate("[{{status}}] {{rule}}: {{checks}}")

// Lines is the default body: one line per alert, firing ones first.
func Lines(n Notification) []string {
	var out []string
	for _, a := range append(n.Firing(), n.Resolved()...) {
		line := a.Summary
		if line == "" {
			line = a.Check + " is " + a.State
		}
		if a.Status == StatusResolved {
			line = "resolved: " + line
		}
		out = append(out, line)
	}
	return out
}

func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
