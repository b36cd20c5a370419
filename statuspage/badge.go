package statuspage

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"math"
	"net/http"
	"time"
	"unicode/utf8"
)

// badge is what a badge says.
type badge struct {
	label, message string
	color          string // shields named colour
}

// Shields' named colours (badge-maker) as hex.
var badgeHex = map[string]string{
	"brightgreen": "#4c1", "green": "#97ca00", "yellowgreen": "#a4a61d", "yellow": "#dfb317",
	"orange": "#fe7d37", "red": "#e05d44", "blue": "#007ec6", "lightgrey": "#9f9f9f",
}

// badgeWindows are the uptime windows a badge may ask for.
var badgeWindows = map[string]bool{"24h": true, "7d": true, "30d": true, "90d": true}

const defaultBadgeWindow = "30d"

// serveBadge serves /badge/{check}/{kind}. A check that is not public and
// one that does not exist get the same 404.
func (p *Page) serveBadge(w http.ResponseWriter, r *http.Request) {
	name, kind := r.PathValue("check"), r.PathValue("kind")
	if !p.vis.check(name) {
		serve(w, r, p.notFound)
		return
	}
	metric, format := "", "svg"
	switch kind {
	case "status.svg":
		metric = "status"
	case "uptime.svg":
		metric = "uptime"
	case "latency.svg":
		metric = "latency"
	case "shields.json":
		metric, format = r.URL.Query().Get("type"), "json"
		if metric == "" {
			metric = "status"
		}
	default:
		serve(w, r, p.notFound)
		return
	}
	window := ""
	if metric == "uptime" {
		window = r.URL.Query().Get("window")
		if window == "" {
			window = defaultBadgeWindow
		}
	}
	switch {
	case metric != "status" && metric != "uptime" && metric != "latency":
		badRequest(w, "type must be status, uptime or latency")
		return
	case metric == "uptime" && !badgeWindows[window]:
		badRequest(w, "window must be 24h, 7d, 30d or 90d")
		return
	case metric == "latency" && !p.cfg.Show.responseTimes():
		serve(w, r, p.notFound) // response times are not public
		return
	}
	p.respond(w, r, "badge/"+format+"/"+metric+"/"+window+"/"+name, func(_ context.Context, s *snapshot) (*response, error) {
		c := s.components[name]
		if c == nil {
			return nil, nil
		}
		b := makeBadge(c, metric, window)
		if format == "json" {
			return shieldsJSON(s, b)
		}
		return badgeSVG(s, b), nil
	})
}

func badRequest(w http.ResponseWriter, msg string) {
	securityHeaders(w.Header(), "text/plain")
	http.Error(w, msg, http.StatusBadRequest)
}

// makeBadge computes the badge of a component.
func makeBadge(c *component, metric, window string) badge {
	switch metric {
	case "uptime":
		b := badge{label: "uptime " + window, message: "no data", color: "lightgrey"}
		if u := c.uptime[window]; u.data {
			b.message, b.color = percent(u.ratio, u.anyDown, true), uptimeColor(u.ratio)
		}
		return b
	case "latency":
		b := badge{label: "response time", message: "no data", color: "lightgrey"}
		if c.latency > 0 {
			b.message, b.color = msText(c.latency), latencyColor(c.latency)
		}
		return b
	}
	color := [...]string{"brightgreen", "blue", "yellow", "orange", "red", "lightgrey"}[c.status]
	word := [...]string{"operational", "maintenance", "degraded", "partial outage", "major outage", "no data"}[c.status]
	return badge{label: c.name, message: word, color: color}
}

// uptimeColor grades an uptime ratio; stricter than upptime's scale, since
// a monitored service at 95 % is having a bad month.
func uptimeColor(r float64) string {
	switch pct := r * 100; {
	case pct >= 99.9:
		return "brightgreen"
	case pct >= 99:
		return "green"
	case pct >= 97:
		return "yellowgreen"
	case pct >= 95:
		return "yellow"
	case pct >= 90:
		return "orange"
	}
	return "red"
}

// latencyColor grades a response time (upptime's scale, reference C.4).
func latencyColor(d time.Duration) string {
	switch ms := d.Milliseconds(); {
	case ms < 200:
		return "brightgreen"
	case ms < 400:
		return "green"
	case ms < 600:
		return "yellowgreen"
	case ms < 800:
		return "yellow"
	case ms < 1000:
		return "orange"
	}
	return "red"
}

// maxBadgeText bounds the runes of a badge's label or message.
const maxBadgeText = 40

func clip(s string) string {
	if utf8.RuneCountInString(s) <= maxBadgeText {
		return s
	}
	return string([]rune(s)[:maxBadgeText-1]) + "…"
}

// textWidth estimates the width of s in Verdana 11px.
func textWidth(s string) float64 {
	var w float64
	for _, r := range s {
		switch {
		case r == ' ':
			w += 3.9
		case r == 'i' || r == 'l' || r == '.' || r == ',' || r == ':' || r == ';' || r == '\'' || r == '|' || r == '!':
			w += 3.6
		case r == 'f' || r == 'j' || r == 'r' || r == 't' || r == '(' || r == ')' || r == '[' || r == ']' || r == '-':
			w += 4.8
		case r == 'm' || r == 'w':
			w += 10.7
		case r == 'M' || r == 'W' || r == '%':
			w += 12
		case r >= 'A' && r <= 'Z':
			w += 7.6
		case r >= '0' && r <= '9':
			w += 7
		case r < 0x80:
			w += 6.8
		default:
			w += 9
		}
	}
	return w
}

// badgeSVG renders a flat shields-style badge (reference C.4): valid SVG
// with role="img", an aria-label and a <title>, every text XML-escaped.
func badgeSVG(s *snapshot, b badge) *response {
	label, msg := clip(b.label), clip(b.message)
	lw := int(math.Ceil(textWidth(label))) + 10
	mw := int(math.Ceil(textWidth(msg))) + 10
	total := lw + mw
	text := label + ": " + msg
	var buf bytes.Buffer
	esc := func(v string) string {
		var e bytes.Buffer
		_ = xml.EscapeText(&e, []byte(v)) // writes to a bytes.Buffer cannot fail
		return e.String()
	}
	fmt.Fprintf(&buf, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="20" role="img" aria-label="%s">`, total, esc(text))
	fmt.Fprintf(&buf, `<title>%s</title>`, esc(text))
	buf.WriteString(`<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>`)
	fmt.Fprintf(&buf, `<clipPath id="r"><rect width="%d" height="20" rx="3" fill="#fff"/></clipPath>`, total)
	fmt.Fprintf(&buf, `<g clip-path="url(#r)"><rect width="%d" height="20" fill="#555"/><rect x="%d" width="%d" height="20" fill="%s"/><rect width="%d" height="20" fill="url(#s)"/></g>`,
		lw, lw, mw, badgeHex[b.color], total)
	buf.WriteString(`<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">`)
	for _, t := range []struct {
		x int
		s string
	}{{lw / 2, label}, {lw + mw/2, msg}} {
		fmt.Fprintf(&buf, `<text x="%d" y="15" fill="#010101" fill-opacity=".3" aria-hidden="true">%s</text><text x="%d" y="14">%s</text>`,
			t.x, esc(t.s), t.x, esc(t.s))
	}
	buf.WriteString(`</g></svg>`)
	r := newResponse(http.StatusOK, "image/svg+xml", cacheBadge, buf.Bytes(), s.built)
	r.cors = true
	return r
}

// shieldsJSON is the shields.io endpoint format (reference C.4).
func shieldsJSON(s *snapshot, b badge) (*response, error) {
	body, err := json.Marshal(struct {
		SchemaVersion int    `json:"schemaVersion"`
		Label         string `json:"label"`
		Message       string `json:"message"`
		Color         string `json:"color"`
		CacheSeconds  int    `json:"cacheSeconds"`
	}{1, b.label, b.message, b.color, 300})
	if err != nil {
		return nil, fmt.Errorf("encode shields endpoint: %w", err)
	}
	r := newResponse(http.StatusOK, "application/json", cacheNone, body, s.built)
	r.cors = true
	return r, nil
}
