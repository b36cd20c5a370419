package statuspage

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

// href is an absolute path under the page's mount point.
func (p *Page) href(path string) string { return p.prefix + path }

// absURL is path as an absolute URL when the config has one, else as a
// root-relative path.
func (p *Page) absURL(path string) string { return p.baseURL + p.prefix + path }

// pathEscape escapes a check name or id for one path segment.
func pathEscape(s string) string { return url.PathEscape(s) }

// timeView formats t for the page's time zone.
func (p *Page) timeView(t time.Time) timeView {
	if t.IsZero() {
		return timeView{}
	}
	return timeView{ISO: t.UTC().Format(time.RFC3339), Text: t.In(p.loc).Format("2 Jan 2006 15:04 MST")}
}

func (p *Page) layoutView(now time.Time) layoutView {
	return layoutView{
		SiteTitle: p.title, Description: p.cfg.Description,
		Home: p.href("/"), CSS: p.href("/static/" + p.cssName),
		AtomHref: p.href("/feed.atom"), RSSHref: p.href("/feed.rss"),
		JSONHref: p.href("/api/v2/summary.json"), HistoryHref: p.href("/history"),
		TimeZone: p.loc.String(), Updated: p.timeView(now),
	}
}

// overall is the page indicator: the worst of the components' statuses and
// the open incidents' impacts (reference C.1).
func overall(s *snapshot) (ind indicator, anyKnown bool) {
	for _, c := range s.components {
		if c.status != statusUnknown {
			anyKnown = true
		}
		ind = max(ind, c.status.indicator())
	}
	for _, in := range s.incidents {
		if in.open() {
			anyKnown = true
			ind = max(ind, impactIndicator(in.Impact))
		}
	}
	return ind, anyKnown
}

func (p *Page) indexView(s *snapshot, now time.Time) indexView {
	s.banner, s.anyKnown = overall(s)
	v := indexView{
		Layout:       s.layout,
		Banner:       bannerView{Text: s.banner.banner(), Class: s.banner.class()},
		ShowRegions:  p.cfg.Show.regions(),
		ShowResponse: p.cfg.Show.responseTimes(),
	}
	if !s.anyKnown && len(s.components) > 0 {
		v.Banner = bannerView{Text: "Status unknown: no recent data", Class: "s-un"}
	}
	for _, m := range s.maint {
		switch m.status(now) {
		case maintInProgress:
			v.Active = append(v.Active, p.maintView(m, now))
		case maintScheduled:
			v.Upcoming = append(v.Upcoming, p.maintView(m, now))
		}
	}
	for _, in := range s.incidents {
		if in.open() {
			v.Open = append(v.Open, s.incViews[in.id])
		}
	}
	for i, g := range p.cfg.Groups {
		gv := groupView{Name: g.Name, ID: "g" + strconv.Itoa(i+1)}
		for _, name := range p.vis.checks(g.Checks) {
			if c := s.components[name]; c != nil && c.group == g.Name {
				gv.Components = append(gv.Components, c.view)
			}
		}
		if len(gv.Components) > 0 {
			v.Groups = append(v.Groups, gv)
		}
	}
	return v
}

func (p *Page) incidentView(in pubIncident) incidentView {
	v := incidentView{
		ID: in.id, Href: p.href("/incidents/" + in.id), Title: in.Title,
		Status: statusWord(in.Status), StatusKey: string(in.Status),
		Impact: impactWord(in.Impact), ImpactKey: string(in.Impact),
		Components: in.checks, Created: p.timeView(in.created), Updated: p.timeView(in.updated),
		Resolved: p.timeView(in.ended), Open: in.open(),
	}
	for i := len(in.Updates) - 1; i >= 0; i-- {
		u := in.Updates[i]
		v.Updates = append(v.Updates, updateView{Status: statusWord(u.Status), At: p.timeView(u.At), Body: segments(u.Body)})
	}
	return v
}

func (p *Page) maintView(m pubMaintenance, now time.Time) maintView {
	return maintView{
		ID: m.id, Name: m.Name, Description: m.Description, Components: m.checks,
		Start: p.timeView(m.Start), End: p.timeView(m.End), Status: maintWord(m.status(now)),
	}
}

// historyView groups the snapshot's incidents by month (page time zone)
// and lists the maintenance of the 90 days, newest first.
func (p *Page) historyView(s *snapshot) historyView {
	v := historyView{Layout: s.layout}
	v.Layout.Heading = "History"
	for _, in := range s.incidents {
		name := in.created.In(p.loc).Format("January 2006")
		if n := len(v.Months); n == 0 || v.Months[n-1].Name != name {
			v.Months = append(v.Months, monthView{Name: name})
		}
		m := &v.Months[len(v.Months)-1]
		m.Incidents = append(m.Incidents, s.incViews[in.id])
	}
	for i := len(s.maint) - 1; i >= 0; i-- {
		if s.maint[i].status(s.built) == maintCompleted {
			v.Maintenance = append(v.Maintenance, p.maintView(s.maint[i], s.built))
		}
	}
	return v
}

// joinComma joins names for "Affects: a, b".
func joinComma(names []string) string { return strings.Join(names, ", ") }
