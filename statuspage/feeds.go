package statuspage

import (
	"cmp"
	"context"
	"encoding/xml"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// maxFeedItems bounds the entries of a feed.
const maxFeedItems = 50

// feedItem is one incident or maintenance occurrence, as both feeds show
// it: one entry per event (not per update) whose updated time moves with
// each update, so readers do not repeat it.
type feedItem struct {
	id        string // stable URN
	title     string
	link      string // absolute, or root-relative without a configured URL
	permalink bool   // link is the item's own page
	published time.Time
	updated   time.Time
	html      string // the content, as HTML (every value escaped)
	checks    []string
}

// feedItems are the snapshot's public incidents and maintenance, most
// recently updated first.
func (p *Page) feedItems(s *snapshot) []feedItem {
	ns := p.urnSpace()
	var items []feedItem
	for _, in := range s.incidents {
		v := s.incViews[in.id]
		var b strings.Builder
		if len(in.checks) > 0 {
			b.WriteString("<p>Affects: " + html.EscapeString(strings.Join(in.checks, ", ")) + "</p>")
		}
		for _, u := range v.Updates {
			b.WriteString("<p><strong>" + html.EscapeString(u.Status) + "</strong> · " + html.EscapeString(u.At.Text) + "</p>")
			b.WriteString("<p>" + strings.ReplaceAll(html.EscapeString(segmentsText(u.Body)), "\n", "<br>") + "</p>")
		}
		items = append(items, feedItem{
			id: ns + "incident:" + in.id, title: "[" + statusWord(in.Status) + "] " + in.Title,
			link: p.absURL("/incidents/" + in.id), permalink: true,
			published: in.created, updated: in.updated, html: b.String(), checks: in.checks,
		})
	}
	for _, m := range s.maint {
		st := m.status(s.built)
		updated := map[string]time.Time{maintScheduled: m.Start.Add(-upcomingHorizon), maintInProgress: m.Start, maintCompleted: m.End}[st]
		var b strings.Builder
		b.WriteString("<p>" + html.EscapeString(maintWord(st)) + ": " + html.EscapeString(p.timeView(m.Start).Text) +
			" – " + html.EscapeString(p.timeView(m.End).Text) + "</p>")
		b.WriteString("<p>Affects: " + html.EscapeString(strings.Join(m.checks, ", ")) + "</p>")
		if m.Description != "" {
			b.WriteString("<p>" + html.EscapeString(m.Description) + "</p>")
		}
		link := p.absURL("/")
		if st == maintCompleted {
			link = p.absURL("/history")
		}
		items = append(items, feedItem{
			id: ns + "maintenance:" + m.id, title: "[" + maintTitle(st) + "] " + m.Name, link: link,
			published: m.Start.Add(-upcomingHorizon), updated: updated, html: b.String(), checks: m.checks,
		})
	}
	slices.SortStableFunc(items, func(a, b feedItem) int { return cmp.Or(b.updated.Compare(a.updated), cmp.Compare(a.id, b.id)) })
	if len(items) > maxFeedItems {
		items = items[:maxFeedItems]
	}
	return items
}

func maintTitle(status string) string {
	switch status {
	case maintScheduled:
		return "Scheduled maintenance"
	case maintInProgress:
		return "Maintenance in progress"
	}
	return "Maintenance completed"
}

func segmentsText(ss []segment) string {
	var b strings.Builder
	for _, s := range ss {
		b.WriteString(s.Text)
	}
	return b.String()
}

// urnSpace prefixes entry ids: stable across restarts and renderings, and
// distinct per page host.
func (p *Page) urnSpace() string {
	host := "local"
	if u, err := url.Parse(p.cfg.URL); err == nil && u.Host != "" {
		host = strings.ToLower(u.Host)
	}
	return "urn:vantage:" + host + p.prefix + ":"
}

// feedUpdated is the newest item's time, or the snapshot's without items.
func feedUpdated(s *snapshot, items []feedItem) time.Time {
	if len(items) > 0 {
		return items[0].updated
	}
	return s.built
}

type atomFeed struct {
	XMLName  xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	ID       string      `xml:"id"`
	Title    string      `xml:"title"`
	Subtitle string      `xml:"subtitle,omitempty"`
	Updated  string      `xml:"updated"`
	Links    []atomLink  `xml:"link"`
	Author   atomAuthor  `xml:"author"`
	Entries  []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomAuthor struct {
	Name string `xml:"name"`
}

type atomEntry struct {
	ID         string         `xml:"id"`
	Title      string         `xml:"title"`
	Updated    string         `xml:"updated"`
	Published  string         `xml:"published"`
	Link       atomLink       `xml:"link"`
	Categories []atomCategory `xml:"category"`
	Content    atomContent    `xml:"content"`
}

type atomCategory struct {
	Term string `xml:"term,attr"`
}

type atomContent struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

func (p *Page) renderAtom(_ context.Context, s *snapshot) (*response, error) {
	items := p.feedItems(s)
	f := atomFeed{
		ID: p.urnSpace() + "feed", Title: p.title, Subtitle: p.cfg.Description,
		Updated: feedUpdated(s, items).UTC().Format(time.RFC3339),
		Links: []atomLink{
			{Rel: "self", Type: "application/atom+xml", Href: p.absURL("/feed.atom")},
			{Rel: "alternate", Type: "text/html", Href: p.absURL("/")},
		},
		Author: atomAuthor{Name: p.title},
	}
	for _, it := range items {
		e := atomEntry{
			ID: it.id, Title: it.title, Updated: it.updated.UTC().Format(time.RFC3339),
			Published: it.published.UTC().Format(time.RFC3339),
			Link:      atomLink{Rel: "alternate", Type: "text/html", Href: it.link},
			Content:   atomContent{Type: "html", Body: it.html},
		}
		for _, c := range it.checks {
			e.Categories = append(e.Categories, atomCategory{Term: c})
		}
		f.Entries = append(f.Entries, e)
	}
	return xmlResponse(s, "application/atom+xml; charset=utf-8", f)
}

type rssFeed struct {
	XMLName xml.Name   `xml:"rss"`
	Version string     `xml:"version,attr"`
	AtomNS  string     `xml:"xmlns:atom,attr"`
	Channel rssChannel `xml:"channel"`
}

type rssChannel struct {
	Title         string    `xml:"title"`
	Link          string    `xml:"link"`
	Description   string    `xml:"description"`
	LastBuildDate string    `xml:"lastBuildDate"`
	TTL           int       `xml:"ttl"`
	Self          rssSelf   `xml:"atom:link"`
	Items         []rssItem `xml:"item"`
}

type rssSelf struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr"`
}

type rssItem struct {
	Title       string   `xml:"title"`
	Link        string   `xml:"link"`
	GUID        rssGUID  `xml:"guid"`
	PubDate     string   `xml:"pubDate"`
	Description string   `xml:"description"`
	Categories  []string `xml:"category"`
}

type rssGUID struct {
	IsPermaLink bool   `xml:"isPermaLink,attr"`
	Value       string `xml:",chardata"`
}

func (p *Page) renderRSS(_ context.Context, s *snapshot) (*response, error) {
	items := p.feedItems(s)
	desc := p.cfg.Description
	if desc == "" {
		desc = "Incidents and maintenance of " + p.title
	}
	f := rssFeed{Version: "2.0", AtomNS: "http://www.w3.org/2005/Atom", Channel: rssChannel{
		// Readers render RSS descriptions as HTML: escape it like the items'.
		Title: p.title, Link: p.absURL("/"), Description: html.EscapeString(desc),
		LastBuildDate: feedUpdated(s, items).UTC().Format(time.RFC1123Z), TTL: 1,
		Self: rssSelf{Href: p.absURL("/feed.rss"), Rel: "self", Type: "application/rss+xml"},
	}}
	for _, it := range items {
		g := rssGUID{Value: it.id}
		if it.permalink && p.baseURL != "" {
			g = rssGUID{IsPermaLink: true, Value: it.link}
		}
		f.Channel.Items = append(f.Channel.Items, rssItem{
			Title: it.title, Link: it.link, GUID: g, PubDate: it.updated.UTC().Format(time.RFC1123Z),
			Description: it.html, Categories: it.checks,
		})
	}
	return xmlResponse(s, "application/rss+xml; charset=utf-8", f)
}

func xmlResponse(s *snapshot, ctype string, v any) (*response, error) {
	body, err := xml.MarshalIndent(v, "", " ")
	if err != nil {
		return nil, fmt.Errorf("encode feed: %w", err)
	}
	r := newResponse(http.StatusOK, ctype, cacheShort, append([]byte(xml.Header), body...), s.built)
	r.cors = true
	return r, nil
}
