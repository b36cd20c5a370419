package statuspage_test

import (
	"encoding/json"
	"encoding/xml"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/vantageprobe/vantage/statuspage"
)

// Hostile strings, as a check name, group, region, incident and
// maintenance text could carry them.
const (
	xssScript = `<script>alert(1)</script>`
	xssAttr   = `"><img src=x onerror=alert(1)>`
	xssJSLink = `javascript:alert(1)`
)

// publicPaths lists every public route of a page whose components are
// checks, with the incident ids and badges of each.
func publicPaths(t *testing.T, srv *httptest.Server, checks []string) []string {
	t.Helper()
	paths := []string{"/", "/history", "/feed.atom", "/feed.rss", "/nope", "/static/none.css"}
	for _, p := range []string{"summary", "status", "components", "incidents", "incidents/unresolved",
		"scheduled-maintenances", "scheduled-maintenances/upcoming", "scheduled-maintenances/active"} {
		paths = append(paths, "/api/v2/"+p+".json")
	}
	var all summary
	getJSON(t, srv, "/api/v2/incidents.json", &all)
	for _, in := range all.Incidents {
		paths = append(paths, "/incidents/"+url.PathEscape(in.ID))
	}
	for _, c := range checks {
		e := "/badge/" + url.PathEscape(c)
		paths = append(paths, "/components/"+url.PathEscape(c), e+"/status.svg", e+"/uptime.svg", e+"/uptime.svg?window=24h",
			e+"/uptime.svg?window=90d", e+"/latency.svg", e+"/shields.json", e+"/shields.json?type=uptime", e+"/shields.json?type=latency")
	}
	return paths
}

// TestHostileTextIsInert renders hostile names and texts everywhere and
// checks that no response carries markup, event handlers or javascript:
// links from them, while the text itself is still shown (escaped).
func TestHostileTextIsInert(t *testing.T) {
	now := fixtureNow
	m := newMemRollups()
	for _, c := range []string{xssScript, xssAttr, "plain"} {
		history(m, c, xssAttr, now, 100*time.Millisecond, nil)
	}
	down := withState(statuspage.StateDown, xssAttr)
	down.Regions[0].Error = xssScript + xssAttr
	src := &fakeSource{RollupReader: m,
		states: map[string]statuspage.CheckState{xssScript: down, xssAttr: withState(statuspage.StateUp, xssAttr), "plain": withState(statuspage.StateUp, xssAttr)},
		events: statuspage.Events{
			Incidents: []statuspage.Incident{{ID: "x1", Title: xssScript + " outage " + xssAttr, Status: statuspage.Investigating,
				Impact: statuspage.ImpactMajor, Checks: []string{xssScript, xssAttr},
				Updates: []statuspage.Update{{At: now.Add(-time.Hour), Status: statuspage.Investigating,
					Body: "See " + xssJSLink + " and <a href=\"" + xssJSLink + "\">here</a> " + xssAttr + " " + xssScript + " https://example.com/ok"}}}},
			Maintenance: []statuspage.Maintenance{{Name: xssScript, Description: xssAttr + xssJSLink, Checks: []string{xssAttr},
				Start: now.Add(time.Hour), End: now.Add(2 * time.Hour)}},
		}}
	cfg := statuspage.Config{Title: xssAttr, Description: xssScript, URL: "https://status.example.com",
		Groups: []statuspage.Group{{Name: xssScript, Checks: []string{xssScript, xssAttr, "plain"}}}, Show: statuspage.Show{Errors: true}}
	f := newFixture(t, cfg, src, statuspage.Options{})
	shown := false
	for _, path := range publicPaths(t, f.srv, []string{xssScript, xssAttr}) {
		resp, body := get(t, f.srv, path)
		ctype := resp.Header.Get("Content-Type")
		switch {
		case strings.HasPrefix(ctype, "text/html"):
			inertHTML(t, path, body)
			shown = shown || strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;")
		case strings.Contains(ctype, "xml"):
			inertXML(t, path, body)
		case strings.HasPrefix(ctype, "application/json"):
			if strings.Contains(body, "<") || strings.Contains(body, ">") {
				t.Errorf("%s: raw < or > in JSON", path)
			}
			var v any
			if err := json.Unmarshal([]byte(body), &v); err != nil {
				t.Errorf("%s: %v", path, err)
			}
		}
		if resp.StatusCode >= 500 {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
	if !shown {
		t.Error("the hostile text was not shown escaped anywhere: the test proves nothing")
	}
	_, body := get(t, f.srv, "/incidents/x1")
	if !strings.Contains(body, `<a href="https://example.com/ok"`) || strings.Count(body, "<a href=") < 3 {
		t.Errorf("the http(s) link in the update body is not a link:\n%s", between2(body, `<p class="body">`, `</p>`))
	}
}

// inertHTML parses body and fails on script elements, images, frames,
// event-handler attributes and javascript: URLs.
func inertHTML(t *testing.T, path, body string) {
	t.Helper()
	z := html.NewTokenizer(strings.NewReader(body))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		switch tok.Data {
		case "script", "img", "iframe", "object", "embed", "style", "base", "form":
			t.Errorf("%s: <%s> element", path, tok.Data)
		}
		for _, a := range tok.Attr {
			v := strings.ToLower(strings.TrimSpace(a.Val))
			if strings.HasPrefix(strings.ToLower(a.Key), "on") {
				t.Errorf("%s: <%s %s=%q>", path, tok.Data, a.Key, a.Val)
			}
			if (a.Key == "href" || a.Key == "src" || a.Key == "action" || a.Key == "xlink:href") && strings.HasPrefix(v, "javascript:") {
				t.Errorf("%s: <%s %s=%q>", path, tok.Data, a.Key, a.Val)
			}
		}
	}
}

// inertXML parses an SVG badge or a feed; the HTML that feeds carry
// (Atom content, RSS description) is parsed and checked as HTML. Other
// text nodes are text: their decoded "<" is shown, never parsed.
func inertXML(t *testing.T, path, body string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(body))
	var elem string
	for {
		tok, err := d.Token()
		if err != nil {
			if err.Error() != "EOF" {
				t.Errorf("%s: XML: %v", path, err)
			}
			return
		}
		switch v := tok.(type) {
		case xml.StartElement:
			elem = v.Name.Local
			if v.Name.Local == "script" || v.Name.Local == "foreignObject" {
				t.Errorf("%s: <%s> element", path, v.Name.Local)
			}
			for _, a := range v.Attr {
				if strings.HasPrefix(strings.ToLower(a.Name.Local), "on") || strings.HasPrefix(strings.ToLower(strings.TrimSpace(a.Value)), "javascript:") {
					t.Errorf("%s: attribute %s=%q", path, a.Name.Local, a.Value)
				}
			}
		case xml.CharData:
			if elem == "content" || elem == "description" {
				inertHTML(t, path+" ("+elem+")", string(v))
			}
		}
	}
}

// TestPrivateCheckNeverPublic: the private check's name, target, error,
// incident, maintenance and latency appear on no public endpoint, and its
// badge's 404 is the same as a check that does not exist.
func TestPrivateCheckNeverPublic(t *testing.T) {
	for _, showErrors := range []bool{false, true} {
		cfg := fixtureConfig()
		cfg.Show.Errors = showErrors
		f := newFixture(t, cfg, fixtureSource(fixtureNow), statuspage.Options{})
		forbidden := []string{privateCheck, privateTarget, "internal.example", "Replica lag", "4321", "4.3 s", "4.32", "5432"}
		if !showErrors {
			forbidden = append(forbidden, publicErrText, "192.0.2.7")
		}
		paths := publicPaths(t, f.srv, append(fixtureConfig().Checks(), privateCheck))
		for _, path := range paths {
			if strings.Contains(path, privateCheck) {
				continue // the request names it; its answer must not
			}
			_, body := get(t, f.srv, path)
			for _, s := range forbidden {
				if strings.Contains(body, s) {
					t.Errorf("show.errors=%v: GET %s contains %q", showErrors, path, s)
				}
			}
		}
		for _, kind := range []string{"status.svg", "uptime.svg", "latency.svg", "shields.json", "shields.json?type=uptime", "uptime.svg?window=bogus"} {
			priv, pbody := get(t, f.srv, "/badge/"+privateCheck+"/"+kind)
			none, nbody := get(t, f.srv, "/badge/no-such-check/"+kind)
			if priv.StatusCode != 404 || none.StatusCode != 404 || pbody != nbody || strings.Contains(pbody, privateCheck) ||
				priv.Header.Get("Content-Type") != none.Header.Get("Content-Type") || priv.Header.Get("ETag") != none.Header.Get("ETag") {
				t.Errorf("%s: private %d, unknown %d; bodies equal %v", kind, priv.StatusCode, none.StatusCode, pbody == nbody)
			}
		}
		for _, path := range []string{"/components/" + privateCheck, "/incidents/secret-1"} {
			resp, body := get(t, f.srv, path)
			if resp.StatusCode != 404 || strings.Contains(body, privateCheck) || strings.Contains(body, "Replica") {
				t.Errorf("GET %s: %d", path, resp.StatusCode)
			}
		}
		// The page asks the source only about public checks.
		for _, asked := range f.src.asked {
			if strings.Contains(strings.Join(asked, ","), privateCheck) {
				t.Errorf("States was asked about %v", asked)
			}
		}
		_, body := get(t, f.srv, "/")
		if showErrors != strings.Contains(body, publicErrText) {
			t.Errorf("show.errors=%v, but the public check's error text shown: %v", showErrors, !showErrors)
		}
	}
}
