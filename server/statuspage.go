package server

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/vantageprobe/vantage/alerts"
	"github.com/vantageprobe/vantage/config"
	"github.com/vantageprobe/vantage/results"
	"github.com/vantageprobe/vantage/statuspage"
)

// statusInterval is how often the public checks' states are compared, to
// invalidate the status page when one changes.
const statusInterval = 2 * time.Second

// pageSource is what the status page reads from the server.
type pageSource struct{ s *Server }

func (ps pageSource) Rollups(ctx context.Context, q results.RollupQuery) ([]results.Rollup, error) {
	return ps.s.store.Rollups(ctx, q)
}

// States returns each check's state and its regions' from the newest
// results; a check in active maintenance is "maintenance".
func (ps pageSource) States(_ context.Context, checks []string) (map[string]statuspage.CheckState, error) {
	cs := ps.s.checks.Load()
	now := time.Now()
	var maint []alerts.Maintenance
	if eng := ps.s.engine(); eng != nil {
		maint = eng.Maintenance()
	}
	out := make(map[string]statuspage.CheckState, len(checks))
	for _, name := range checks {
		chk, ok := cs.byName[name]
		if !ok {
			continue
		}
		st := statuspage.CheckState{Quorum: chk.Quorum}
		var latest []results.Record
		for _, region := range chk.Regions {
			rs := statuspage.RegionState{Region: region, State: statuspage.StateUnknown}
			if e, ok := ps.s.series.get(name, region); ok {
				latest = append(latest, e.rec)
				if fresh(chk, e.rec, now) {
					rs.State = statuspage.State(recordState(e.rec))
					if !chk.HideTarget {
						rs.Error = e.rec.Error
					}
				}
			}
			st.Regions = append(st.Regions, rs)
		}
		st.State = statuspage.State(checkState(chk, latest, now))
		if slices.ContainsFunc(maint, func(m alerts.Maintenance) bool { return m.Covers(name) && m.ActiveAt(now) }) {
			st.State = statuspage.StateMaintenance
		}
		out[name] = st
	}
	return out, nil
}

// Events returns the incidents open in [from, to) or unresolved, and the
// maintenance occurrences overlapping it.
func (ps pageSource) Events(ctx context.Context, from, to time.Time) (statuspage.Events, error) {
	incs, err := ps.s.alertStore.Incidents(ctx, alerts.IncidentQuery{Since: from})
	if err != nil {
		return statuspage.Events{}, err
	}
	var ev statuspage.Events
	for _, inc := range incs {
		if inc.CreatedAt.After(to) {
			continue
		}
		ev.Incidents = append(ev.Incidents, pageIncident(inc))
	}
	if eng := ps.s.engine(); eng != nil {
		for _, m := range eng.Maintenance() {
			ev.Maintenance = append(ev.Maintenance, occurrences(m, from, to)...)
		}
	}
	return ev, nil
}

// pageIncident is an incident as the page shows it.
func pageIncident(inc alerts.Incident) statuspage.Incident {
	out := statuspage.Incident{ID: inc.ID, Title: inc.Title, Status: statuspage.IncidentStatus(inc.Status),
		Impact: statuspage.Impact(inc.Impact), Checks: inc.Checks, Created: inc.CreatedAt, Resolved: inc.ResolvedAt}
	if len(inc.Updates) > 0 && out.Created.IsZero() {
		out.Created = inc.Updates[0].At
	}
	for _, u := range inc.Updates {
		out.Updates = append(out.Updates, statuspage.Update{At: u.At, Status: statuspage.IncidentStatus(u.Status), Body: u.Body})
	}
	return out
}

// occurrences lists a window's occurrences overlapping [from, to): a
// one-off window whole (its id hashes its start), a weekly one per week.
func occurrences(m alerts.Maintenance, from, to time.Time) []statuspage.Maintenance {
	base := statuspage.Maintenance{Name: m.Name, Description: m.Description, Checks: m.Checks, All: m.All}
	if m.Weekly == nil {
		if m.End.After(from) && m.Start.Before(to) {
			base.Start, base.End = m.Start, m.End
			return []statuspage.Maintenance{base}
		}
		return nil
	}
	// An occurrence overlapping [from, to) starts in (from−d, to); asked
	// for [from−d, to+d), those come back whole.
	d := m.Weekly.Duration
	var out []statuspage.Maintenance
	for _, iv := range m.Intervals(from.Add(-d), to.Add(d)) {
		if iv[1].Sub(iv[0]) < d || !iv[1].After(from) || !iv[0].Before(to) {
			continue // clipped at an edge, or outside [from, to)
		}
		o := base
		o.Start, o.End = iv[0], iv[1]
		out = append(out, o)
	}
	return out
}

// newPage builds the status page of cfg, or nil without status_page.
func (s *Server) newPage(cfg *config.Config) (*statuspage.Page, error) {
	if cfg.StatusPage == nil {
		return nil, nil
	}
	p, err := statuspage.New(*cfg.StatusPage, pageSource{s}, statuspage.Options{Logger: s.log})
	if err != nil {
		return nil, fmt.Errorf("status page: %w", err)
	}
	return p, nil
}

// statusPageHandler serves the current status page, or the internal
// overview at / when none is configured.
func (s *Server) statusPageHandler(w http.ResponseWriter, r *http.Request) {
	if p := s.page.Load(); p != nil {
		p.Handler().ServeHTTP(w, r)
		return
	}
	if r.URL.Path == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		if !s.checks.Load().cfg.Server.PublicAPI {
			// Not the admin address: this page is public.
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintln(w, "Vantage: no status page is configured (status_page). The overview and the JSON API are served")
			fmt.Fprintln(w, "on the admin listener (server.admin_listen), or here with server.public_api: true.")
			return
		}
		s.overview(w, r)
		return
	}
	http.NotFound(w, r)
}

// invalidatePage tells the status page its data changed.
func (s *Server) invalidatePage() {
	if p := s.page.Load(); p != nil {
		p.Invalidate()
	}
}

// statusLoop builds every new status page (at start and after a reload)
// at once, so that its first visitor does not wait for 90 days of rollups
// to be read, and invalidates the page when a public check's state
// changes, until ctx ends.
func (s *Server) statusLoop(ctx context.Context) {
	t := time.NewTicker(statusInterval)
	defer t.Stop()
	last := map[string]statuspage.State{}
	var warmed *statuspage.Page
	for {
		if p := s.page.Load(); p != nil && p != warmed {
			warmed = p
			start := time.Now()
			if err := p.Refresh(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("status page: first build failed; the first visitor retries", "err", err)
			} else if err == nil {
				s.log.Debug("status page built", "took", time.Since(start).Round(time.Millisecond))
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cfg := s.checks.Load().cfg
		if cfg.StatusPage == nil {
			continue
		}
		states, _ := pageSource{s}.States(ctx, cfg.StatusPage.Checks())
		cur := make(map[string]statuspage.State, len(states))
		for name, st := range states {
			cur[name] = st.State
		}
		changed := !maps.Equal(cur, last) // a check removed by a reload changes it once, not forever
		last = cur
		if changed {
			s.invalidatePage()
		}
	}
}
