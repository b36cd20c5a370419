package statuspage

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// The /api/v2/ views, each a part of Atlassian Statuspage's summary.json
// shape (reference C.1), so that its consumers read this page unchanged.
type apiView int

const (
	apiSummary apiView = iota
	apiStatus
	apiComponents
	apiIncidents
	apiUnresolved
	apiMaintenances
	apiUpcoming
	apiActive
)

// apiViews maps the paths under /api/v2/ to their views.
var apiViews = map[string]apiView{
	"summary.json":                         apiSummary,
	"status.json":                          apiStatus,
	"components.json":                      apiComponents,
	"incidents.json":                       apiIncidents,
	"incidents/unresolved.json":            apiUnresolved,
	"scheduled-maintenances.json":          apiMaintenances,
	"scheduled-maintenances/upcoming.json": apiUpcoming,
	"scheduled-maintenances/active.json":   apiActive,
}

type apiPage struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	URL       string `json:"url"`
	TimeZone  string `json:"time_zone"`
	UpdatedAt string `json:"updated_at"`
}

type apiStatusBlock struct {
	Indicator   string `json:"indicator"`
	Description string `json:"description"`
}

type apiComponent struct {
	ID                 string   `json:"id"`
	Name               string   `json:"name"`
	Status             string   `json:"status"`
	Position           int      `json:"position"`
	Description        *string  `json:"description"`
	Group              bool     `json:"group"`
	GroupID            *string  `json:"group_id"`
	Components         []string `json:"components,omitempty"` // a group's children
	Showcase           bool     `json:"showcase"`
	OnlyShowIfDegraded bool     `json:"only_show_if_degraded"`
	StartDate          *string  `json:"start_date"`
	PageID             string   `json:"page_id"`
	CreatedAt          string   `json:"created_at"`
	UpdatedAt          string   `json:"updated_at"`
}

type apiComponentRef struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
}

type apiIncident struct {
	ID              string            `json:"id"`
	Name            string            `json:"name"`
	Status          string            `json:"status"`
	Impact          string            `json:"impact"`
	CreatedAt       string            `json:"created_at"`
	UpdatedAt       string            `json:"updated_at"`
	StartedAt       string            `json:"started_at"`
	MonitoringAt    *string           `json:"monitoring_at"`
	ResolvedAt      *string           `json:"resolved_at"`
	ScheduledFor    *string           `json:"scheduled_for,omitempty"`
	ScheduledUntil  *string           `json:"scheduled_until,omitempty"`
	Shortlink       string            `json:"shortlink"`
	PageID          string            `json:"page_id"`
	Components      []apiComponentRef `json:"components"`
	IncidentUpdates []apiUpdate       `json:"incident_updates"`
}

type apiUpdate struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	Body      string `json:"body"`
	CreatedAt string `json:"created_at"`
	DisplayAt string `json:"display_at"`
	UpdatedAt string `json:"updated_at"`
}

type apiDoc struct {
	Page                  apiPage         `json:"page"`
	Status                *apiStatusBlock `json:"status,omitempty"`
	Components            *[]apiComponent `json:"components,omitempty"`
	Incidents             *[]apiIncident  `json:"incidents,omitempty"`
	ScheduledMaintenances *[]apiIncident  `json:"scheduled_maintenances,omitempty"`
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func optTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := rfc3339(t)
	return &s
}

func componentID(name string) string { return "c" + shortHash("component", name) }

func (p *Page) pageID() string { return "p" + shortHash("page", p.cfg.URL, p.prefix) }

// renderAPI renders one /api/v2/ view of the snapshot.
func (p *Page) renderAPI(s *snapshot, view apiView) (*response, error) {
	doc := apiDoc{Page: apiPage{ID: p.pageID(), Name: p.title, URL: p.absURL("/"), TimeZone: p.loc.String(), UpdatedAt: rfc3339(s.built)}}
	var (
		comps    = p.apiComponents(s)
		incs     []apiIncident
		maint    []apiIncident
		wantInc  = view == apiSummary || view == apiIncidents || view == apiUnresolved
		wantMnt  = view == apiSummary || view == apiMaintenances || view == apiUpcoming || view == apiActive
		indText  = s.banner.banner()
		indValue = s.banner.String()
	)
	if view == apiSummary || view == apiStatus {
		doc.Status = &apiStatusBlock{Indicator: indValue, Description: indText}
	}
	if view == apiSummary || view == apiComponents {
		doc.Components = &comps
	}
	if wantInc {
		for _, in := range s.incidents {
			// summary and unresolved list open incidents; incidents.json all.
			if in.open() || view == apiIncidents {
				incs = append(incs, p.apiIncident(s, in))
			}
		}
		if incs == nil {
			incs = []apiIncident{}
		}
		doc.Incidents = &incs
	}
	if wantMnt {
		for _, m := range s.maint {
			st := m.status(s.built)
			keep := map[apiView]bool{
				apiSummary: st != maintCompleted, apiMaintenances: true,
				apiUpcoming: st == maintScheduled, apiActive: st == maintInProgress,
			}[view]
			if keep {
				maint = append(maint, p.apiMaintenance(s, m))
			}
		}
		if maint == nil {
			maint = []apiIncident{}
		}
		doc.ScheduledMaintenances = &maint
	}
	body, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode %v: %w", view, err)
	}
	r := newResponse(http.StatusOK, "application/json", cacheShort, body, s.built)
	r.cors = true
	return r, nil
}

// apiComponents lists groups (group: true) and their components, in page
// order, with positions.
func (p *Page) apiComponents(s *snapshot) []apiComponent {
	out := []apiComponent{}
	pos := 0
	created := rfc3339(s.built.Add(-(historyDays - 1) * day).Truncate(day))
	for _, g := range p.cfg.Groups {
		var children []*component
		for _, name := range p.vis.checks(g.Checks) {
			if c := s.components[name]; c != nil && c.group == g.Name {
				children = append(children, c)
			}
		}
		if len(children) == 0 {
			continue
		}
		pos++
		gid := "g" + shortHash("group", g.Name)
		worst := statusOperational
		group := apiComponent{ID: gid, Name: g.Name, Position: pos, Group: true, PageID: p.pageID(),
			CreatedAt: created, UpdatedAt: rfc3339(s.built)}
		var rows []apiComponent
		for _, c := range children {
			pos++
			if c.status != statusUnknown {
				worst = max(worst, c.status)
			}
			gidCopy := gid
			group.Components = append(group.Components, componentID(c.name))
			rows = append(rows, apiComponent{
				ID: componentID(c.name), Name: c.name, Status: c.status.apiStatus(), Position: pos,
				GroupID: &gidCopy, Showcase: true, PageID: p.pageID(), CreatedAt: created, UpdatedAt: rfc3339(s.built),
			})
		}
		group.Status = worst.apiStatus()
		out = append(out, group)
		out = append(out, rows...)
	}
	return out
}

func (p *Page) componentRefs(s *snapshot, checks []string) []apiComponentRef {
	out := []apiComponentRef{}
	for _, name := range checks {
		if c := s.components[name]; c != nil {
			out = append(out, apiComponentRef{ID: componentID(name), Name: name, Status: c.status.apiStatus()})
		}
	}
	return out
}

func (p *Page) apiIncident(s *snapshot, in pubIncident) apiIncident {
	a := apiIncident{
		ID: in.id, Name: in.Title, Status: string(in.Status), Impact: string(in.Impact),
		CreatedAt: rfc3339(in.created), UpdatedAt: rfc3339(in.updated), StartedAt: rfc3339(in.created),
		ResolvedAt: optTime(in.ended), Shortlink: p.absURL("/incidents/" + in.id), PageID: p.pageID(),
		Components: p.componentRefs(s, in.checks), IncidentUpdates: []apiUpdate{},
	}
	for i := len(in.Updates) - 1; i >= 0; i-- {
		u := in.Updates[i]
		if u.Status == Monitoring && a.MonitoringAt == nil {
			a.MonitoringAt = optTime(u.At)
		}
		a.IncidentUpdates = append(a.IncidentUpdates, apiUpdate{
			ID: "u" + shortHash(in.id, fmt.Sprint(i)), Status: string(u.Status), Body: u.Body,
			CreatedAt: rfc3339(u.At), DisplayAt: rfc3339(u.At), UpdatedAt: rfc3339(u.At),
		})
	}
	return a
}

// apiMaintenance is a maintenance occurrence as a Statuspage scheduled
// maintenance: status scheduled | in_progress | completed, impact
// maintenance.
func (p *Page) apiMaintenance(s *snapshot, m pubMaintenance) apiIncident {
	st := m.status(s.built)
	created := m.Start.Add(-upcomingHorizon)
	a := apiIncident{
		ID: m.id, Name: m.Name, Status: st, Impact: "maintenance",
		CreatedAt: rfc3339(created), UpdatedAt: rfc3339(map[string]time.Time{maintScheduled: created, maintInProgress: m.Start, maintCompleted: m.End}[st]),
		StartedAt: rfc3339(m.Start), ScheduledFor: optTime(m.Start), ScheduledUntil: optTime(m.End),
		Shortlink: p.absURL("/"), PageID: p.pageID(), Components: p.componentRefs(s, m.checks), IncidentUpdates: []apiUpdate{},
	}
	if st == maintCompleted {
		a.ResolvedAt = optTime(m.End)
	}
	if m.Description != "" {
		a.IncidentUpdates = append(a.IncidentUpdates, apiUpdate{ID: "u" + shortHash(m.id), Status: maintScheduled,
			Body: m.Description, CreatedAt: rfc3339(created), DisplayAt: rfc3339(created), UpdatedAt: rfc3339(created)})
	}
	return a
}
