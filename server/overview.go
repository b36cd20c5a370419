package server

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/vantageprobe/vantage/config"
	"github.com/vantageprobe/vantage/results"
)

// overviewData is what the overview shows: one row per check.
type overviewData struct {
	Rows                        []overviewRow
	Now                         string
	Up, Degraded, Down, Unknown int
}

// overviewRow is one check's state and its newest result, as text. It
// reads the records' own fields only: decoding every result's detail, as
// the API's describe does, was a fifth of a GET / at 1,000 checks.
type overviewRow struct {
	Name, Href, Type, State string
	Last                    bool // a result exists; the three below are set
	Started, Duration       string
	Detail                  string // the error (with its class) or the warning
}

func (s *Server) overview(w http.ResponseWriter, r *http.Request) {
	cs := s.checks.Load()
	latest, err := s.latestByCheck(r.Context())
	if err != nil {
		http.Error(w, "results unavailable", http.StatusInternalServerError)
		s.log.Error("overview", "err", err)
		return
	}
	now := time.Now()
	d := overviewData{Now: now.UTC().Format("2006-01-02 15:04:05 UTC"), Rows: make([]overviewRow, 0, len(cs.cfg.Checks))}
	for _, c := range cs.cfg.Checks {
		row := overviewRowOf(c, latest[c.Name], now)
		switch row.State {
		case StateUp:
			d.Up++
		case StateDegraded:
			d.Degraded++
		case StateDown:
			d.Down++
		default:
			d.Unknown++
		}
		d.Rows = append(d.Rows, row)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	if err := overviewPage(d).Render(r.Context(), w); err != nil {
		s.log.Error("render overview", "err", err)
	}
}

// overviewRowOf is c's row: its state over its regions' latest results,
// and the newest of them; when that one is fine but the check is not, the
// detail says why, from the region that is not.
func overviewRowOf(c config.Check, latest []results.Record, now time.Time) overviewRow {
	row := overviewRow{
		Name: c.Name, Href: "/api/v1/checks/" + url.PathEscape(c.Name), Type: string(c.Kind()),
		State: checkState(c, latest, now),
	}
	if len(latest) == 0 {
		return row
	}
	newest := func(a, b results.Record) int { return a.Started.Compare(b.Started) }
	// The newest of the check's regions (a region it no longer uses has no
	// say in its state), or of any when none of them has a result.
	last := slices.MaxFunc(latest, func(a, b results.Record) int {
		if ai, bi := c.InRegion(a.Region), c.InRegion(b.Region); ai != bi {
			if ai {
				return 1
			}
			return -1
		}
		return newest(a, b)
	})
	row.Last = true
	row.Started = last.Started.UTC().Format("15:04:05 UTC")
	row.Duration = strconv.FormatFloat(float64(last.Duration)/float64(time.Millisecond), 'f', 1, 64) + " ms"
	row.Detail = detailText(c, last)
	if row.Detail == "" && row.State != StateUp {
		// The newest result is fine but the check is not: say why, from
		// the newest fresh result of the check's regions that is not.
		var why *results.Record
		for i, rec := range latest {
			if c.InRegion(rec.Region) && fresh(c, rec, now) && recordState(rec) != StateUp && detailText(c, rec) != "" &&
				(why == nil || newest(rec, *why) > 0) {
				why = &latest[i]
			}
		}
		if why != nil {
			row.Detail = why.Region + ": " + detailText(c, *why)
		}
	}
	return row
}

// detailText is rec's error (with its class) or warning; "" when it has
// neither. A hide_target check's texts, which can name its target, are
// hidden as in the API (report).
func detailText(c config.Check, rec results.Record) string {
	switch {
	case rec.Error != "" && c.HideTarget:
		return rec.ErrorClass + ": " + hiddenText
	case rec.Error != "":
		return rec.ErrorClass + ": " + rec.Error
	case rec.Warning != "" && c.HideTarget:
		return hiddenText
	}
	return rec.Warning
}
