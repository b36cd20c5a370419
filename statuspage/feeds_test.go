package statuspage_test

import (
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/statuspage"
)

type atomDoc struct {
	XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string   `xml:"id"`
	Title   string   `xml:"title"`
	Updated string   `xml:"updated"`
	Links   []struct {
		Rel  string `xml:"rel,attr"`
		Href string `xml:"href,attr"`
	} `xml:"link"`
	Author struct {
		Name string `xml:"name"`
	} `xml:"author"`
	Entries []struct {
		ID      string `xml:"id"`
		Title   string `xml:"title"`
		Updated string `xml:"updated"`
		Link    struct {
			Href string `xml:"href,attr"`
		} `xml:"link"`
		Content struct {
			Type string `xml:"type,attr"`
			Body string `xml:",chardata"`
		} `xml:"content"`
		Categories []struct {
			Term string `xml:"term,attr"`
		} `xml:"category"`
	} `xml:"entry"`
}

type rssDoc struct {
	XMLName xml.Name `xml:"rss"`
	Version string   `xml:"version,attr"`
	Channel struct {
		Title string `xml:"title"`
		Links []struct {
			XMLName xml.Name
			Value   string `xml:",chardata"`
		} `xml:"link"` // RSS's own and atom:link rel="self"
		Description   string `xml:"description"`
		LastBuildDate string `xml:"lastBuildDate"`
		TTL           int    `xml:"ttl"`
		Items         []struct {
			Title string `xml:"title"`
			Link  string `xml:"link"`
			GUID  struct {
				IsPermaLink string `xml:"isPermaLink,attr"`
				Value       string `xml:",chardata"`
			} `xml:"guid"`
			PubDate     string `xml:"pubDate"`
			Description string `xml:"description"`
		} `xml:"item"`
	} `xml:"channel"`
}

func parseXML(t *testing.T, body string, v any) {
	t.Helper()
	if !strings.HasPrefix(body, `<?xml version="1.0" encoding="UTF-8"?>`) {
		t.Errorf("no XML declaration: %.60s", body)
	}
	d := xml.NewDecoder(strings.NewReader(body))
	d.Strict = true
	if err := d.Decode(v); err != nil {
		t.Fatalf("parse: %v\n%s", err, body)
	}
}

// TestAtom checks RFC 4287's required elements, one entry per incident and
// maintenance, and ids that stay the same across regenerations.
func TestAtom(t *testing.T) {
	f := newFixture(t, fixtureConfig(), fixtureSource(fixtureNow), statuspage.Options{})
	_, body := get(t, f.srv, "/feed.atom")
	var a atomDoc
	parseXML(t, body, &a)
	self := ""
	for _, l := range a.Links {
		if l.Rel == "self" {
			self = l.Href
		}
	}
	if a.ID == "" || a.Title != "Example Status" || a.Author.Name == "" || self != "https://status.example.com/feed.atom" {
		t.Errorf("feed: id %q title %q author %q self %q", a.ID, a.Title, a.Author.Name, self)
	}
	if _, err := time.Parse(time.RFC3339, a.Updated); err != nil {
		t.Errorf("feed updated %q: %v", a.Updated, err)
	}
	var titles []string
	ids := map[string]bool{}
	for _, e := range a.Entries {
		titles = append(titles, e.Title)
		if e.ID == "" || ids[e.ID] || e.Link.Href == "" || e.Content.Type != "html" || e.Content.Body == "" {
			t.Errorf("entry %+v", e)
		}
		ids[e.ID] = true
		if _, err := time.Parse(time.RFC3339, e.Updated); err != nil {
			t.Errorf("entry %q updated %q", e.Title, e.Updated)
		}
	}
	want := []string{"[Maintenance in progress] Checkout upgrade", "[Identified] Elevated API errors",
		"[Resolved] DNS resolution failures", "[Maintenance completed] Web server patching", "[Scheduled maintenance] Database migration"}
	if strings.Join(titles, "|") != strings.Join(want, "|") {
		t.Errorf("entries\n%v\nwant\n%v", titles, want)
	}
	e := a.Entries[1]
	if !strings.HasPrefix(e.Link.Href, "https://status.example.com/incidents/") || len(e.Categories) != 1 || e.Categories[0].Term != "api" ||
		strings.Index(e.Content.Body, "Identified") > strings.Index(e.Content.Body, "Investigating") {
		t.Errorf("incident entry: link %s categories %v content %s (updates newest first)", e.Link.Href, e.Categories, e.Content.Body)
	}

	// A new update moves the entry's updated time and keeps its id.
	f.src.set(func(s *fakeSource) {
		in := &s.events.Incidents[0]
		in.Status = statuspage.Monitoring
		in.Updates = append(in.Updates, statuspage.Update{At: fixtureNow.Add(-time.Minute), Status: statuspage.Monitoring, Body: "Rolled back."})
	})
	f.page.Invalidate()
	_, body = get(t, f.srv, "/feed.atom")
	var b atomDoc
	parseXML(t, body, &b)
	if b.Entries[0].ID != e.ID || b.Entries[0].Title != "[Monitoring] Elevated API errors" || b.Entries[0].Updated != "2026-03-15T12:29:00Z" {
		t.Errorf("after an update: %s %q %s (was %s)", b.Entries[0].ID, b.Entries[0].Title, b.Entries[0].Updated, e.ID)
	}
	for i := range b.Entries {
		if !ids[b.Entries[i].ID] {
			t.Errorf("id %s is new after regeneration", b.Entries[i].ID)
		}
	}
}

// TestRSS checks RSS 2.0's channel and item elements and RFC 822 dates.
func TestRSS(t *testing.T) {
	f := newFixture(t, fixtureConfig(), fixtureSource(fixtureNow), statuspage.Options{})
	_, body := get(t, f.srv, "/feed.rss")
	var r rssDoc
	parseXML(t, body, &r)
	c := r.Channel
	if r.Version != "2.0" || c.Title == "" || rssLink(r) != "https://status.example.com/" || c.Description == "" || c.TTL <= 0 {
		t.Errorf("channel %+v", c)
	}
	if _, err := time.Parse(time.RFC1123Z, c.LastBuildDate); err != nil {
		t.Errorf("lastBuildDate %q", c.LastBuildDate)
	}
	if len(c.Items) != 5 {
		t.Fatalf("%d items, want 5", len(c.Items))
	}
	for _, it := range c.Items {
		if it.Title == "" || it.Link == "" || it.GUID.Value == "" || it.Description == "" {
			t.Errorf("item %+v", it)
		}
		if _, err := time.Parse(time.RFC1123Z, it.PubDate); err != nil {
			t.Errorf("pubDate %q", it.PubDate)
		}
		if strings.HasPrefix(it.Title, "[Identified]") && (it.GUID.IsPermaLink != "true" || it.GUID.Value != it.Link) {
			t.Errorf("incident guid %+v, link %s", it.GUID, it.Link)
		}
	}
	// Without a configured URL the links are root-relative, and guids are
	// not permalinks.
	cfg := fixtureConfig()
	cfg.URL = ""
	g := newFixture(t, cfg, fixtureSource(fixtureNow), statuspage.Options{})
	_, body = get(t, g.srv, "/feed.rss")
	var r2 rssDoc
	parseXML(t, body, &r2)
	if rssLink(r2) != "/" || r2.Channel.Items[1].GUID.IsPermaLink != "false" || !strings.HasPrefix(r2.Channel.Items[1].Link, "/incidents/") {
		t.Errorf("no URL: link %q item %+v", rssLink(r2), r2.Channel.Items[1])
	}
}

// rssLink is the channel's own <link> (not atom:link).
func rssLink(r rssDoc) string {
	for _, l := range r.Channel.Links {
		if l.XMLName.Space == "" {
			return l.Value
		}
	}
	return ""
}

// TestBadges: every badge is well-formed SVG with role="img", a <title>
// and an aria-label; shields endpoint JSON has schemaVersion 1 and a
// message.
func TestBadges(t *testing.T) {
	f := newFixture(t, fixtureConfig(), fixtureSource(fixtureNow), statuspage.Options{})
	tests := []struct{ path, text, fill string }{
		{"/badge/api/status.svg", "api: operational", "#4c1"},
		{"/badge/api-eu/status.svg", "api-eu: partial outage", "#fe7d37"},
		{"/badge/checkout/status.svg", "checkout: maintenance", "#007ec6"},
		{"/badge/api/uptime.svg", "uptime 30d: 99.92%", "#4c1"},             // 30 min down in 29 days and 12.5 hours
		{"/badge/api/uptime.svg?window=7d", "uptime 7d: 99.68%", "#97ca00"}, // … in 6 days and 12.5 hours
		{"/badge/web/uptime.svg?window=90d", "uptime 90d: 100%", "#4c1"},
		{"/badge/web/latency.svg", "response time: 64 ms", "#4c1"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, body := get(t, f.srv, tt.path)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/svg+xml" || resp.Header.Get("ETag") == "" ||
				resp.Header.Get("Access-Control-Allow-Origin") != "*" {
				t.Fatalf("%d %v", resp.StatusCode, resp.Header)
			}
			var svg struct {
				XMLName xml.Name `xml:"http://www.w3.org/2000/svg svg"`
				Role    string   `xml:"role,attr"`
				Label   string   `xml:"aria-label,attr"`
				Width   int      `xml:"width,attr"`
				Title   string   `xml:"title"`
				Rects   []struct {
					Fill string `xml:"fill,attr"`
				} `xml:"g>rect"`
				Texts []string `xml:"g>text"`
			}
			d := xml.NewDecoder(strings.NewReader(body))
			d.Strict = true
			if err := d.Decode(&svg); err != nil {
				t.Fatalf("not XML: %v\n%s", err, body)
			}
			if svg.Role != "img" || svg.Label != tt.text || svg.Title != tt.text || svg.Width < 40 {
				t.Errorf("role %q label %q title %q width %d, want %q", svg.Role, svg.Label, svg.Title, svg.Width, tt.text)
			}
			if len(svg.Rects) != 3 || svg.Rects[1].Fill != tt.fill {
				t.Errorf("rects %+v, want value fill %s", svg.Rects, tt.fill)
			}
		})
	}
	for _, q := range []string{"", "?type=status", "?type=uptime&window=24h", "?type=latency"} {
		_, body := get(t, f.srv, "/badge/api/shields.json"+q)
		var s map[string]any
		if err := json.Unmarshal([]byte(body), &s); err != nil {
			t.Fatal(err)
		}
		if s["schemaVersion"] != 1.0 || s["label"] == "" || s["message"] == "" || s["color"] == "" {
			t.Errorf("shields%s = %v", q, s)
		}
	}
	if resp, _ := get(t, f.srv, "/badge/api/shields.json?type=bogus"); resp.StatusCode != 400 {
		t.Errorf("type=bogus: %d", resp.StatusCode)
	}
	// Response times hidden: the latency badge is not public either.
	cfg := fixtureConfig()
	no := false
	cfg.Show.ResponseTimes = &no
	g := newFixture(t, cfg, fixtureSource(fixtureNow), statuspage.Options{})
	if resp, _ := get(t, g.srv, "/badge/api/latency.svg"); resp.StatusCode != 404 {
		t.Errorf("latency badge with response_times off: %d", resp.StatusCode)
	}
	if _, body := get(t, g.srv, "/"); strings.Contains(body, `class="rt"`) || strings.Contains(body, "p95") {
		t.Error("response times shown with response_times off")
	}
}
