package statuspage

import (
	"cmp"
	"net/url"
	"slices"
	"strings"
	"time"
)

// upcomingHorizon is how far ahead scheduled maintenance is shown.
const upcomingHorizon = 30 * day

// pubIncident is a public incident with its public affected checks.
type pubIncident struct {
	Incident
	id      string
	checks  []string
	created time.Time
	updated time.Time
	ended   time.Time // resolved, or zero while open
}

// open reports whether the incident is unresolved.
func (i pubIncident) open() bool { return i.Status != Resolved }

// overlaps reports whether the incident was open at some time in [from, to).
func (i pubIncident) overlaps(from, to time.Time) bool {
	return i.created.Before(to) && (i.ended.IsZero() || !i.ended.Before(from))
}

// affects reports whether the incident names check.
func (i pubIncident) affects(check string) bool { return slices.Contains(i.checks, check) }

// publicIncidents keeps the public incidents that are open or overlap
// [from, now], newest first, one per id.
func publicIncidents(vis visibility, in []Incident, from, now time.Time) []pubIncident {
	var out []pubIncident
	seen := map[string]bool{}
	for _, inc := range in {
		checks, ok := vis.incident(inc)
		if !ok {
			continue
		}
		if inc.Impact == "" {
			inc.Impact = ImpactNone
		}
		inc.Status = inc.current()
		p := pubIncident{Incident: inc, id: inc.Key(), checks: checks,
			created: inc.CreatedAt(), updated: inc.UpdatedAt(), ended: inc.ResolvedAt()}
		if seen[p.id] || (!p.open() && !p.overlaps(from, now.Add(time.Nanosecond))) {
			continue
		}
		seen[p.id] = true
		out = append(out, p)
	}
	slices.SortStableFunc(out, func(a, b pubIncident) int {
		return cmp.Or(b.created.Compare(a.created), cmp.Compare(a.id, b.id))
	})
	return out
}

// pubMaintenance is a public maintenance occurrence.
type pubMaintenance struct {
	Maintenance
	id     string
	checks []string
}

// maintenance status at now.
const (
	maintScheduled  = "scheduled"
	maintInProgress = "in_progress"
	maintCompleted  = "completed"
)

func (m pubMaintenance) status(now time.Time) string {
	switch {
	case now.Before(m.Start):
		return maintScheduled
	case now.Before(m.End):
		return maintInProgress
	}
	return maintCompleted
}

func maintWord(status string) string {
	switch status {
	case maintScheduled:
		return "Scheduled"
	case maintInProgress:
		return "In progress"
	}
	return "Completed"
}

// publicMaintenance keeps the public occurrences overlapping [from, to),
// earliest first, one per id.
func publicMaintenance(vis visibility, ms []Maintenance, from, to time.Time) []pubMaintenance {
	var out []pubMaintenance
	seen := map[string]bool{}
	for _, m := range ms {
		checks, ok := vis.maintenance(m)
		if !ok || !m.End.After(m.Start) || !m.Start.Before(to) || !m.End.After(from) {
			continue
		}
		p := pubMaintenance{Maintenance: m, id: m.ID(), checks: checks}
		if seen[p.id] {
			continue
		}
		seen[p.id] = true
		out = append(out, p)
	}
	slices.SortStableFunc(out, func(a, b pubMaintenance) int {
		return cmp.Or(a.Start.Compare(b.Start), cmp.Compare(a.id, b.id))
	})
	return out
}

// maintenanceMinutes is how many minutes of [from, to) the occurrences
// covering check take (overlaps counted once).
func maintenanceMinutes(ms []pubMaintenance, check string, from, to time.Time) float64 {
	var ivs [][2]time.Time
	for _, m := range ms {
		if slices.Contains(m.checks, check) && m.Start.Before(to) && m.End.After(from) {
			ivs = append(ivs, [2]time.Time{later(m.Start, from), earlier(m.End, to)})
		}
	}
	slices.SortFunc(ivs, func(a, b [2]time.Time) int { return a[0].Compare(b[0]) })
	var total time.Duration
	var end time.Time
	for _, iv := range ivs {
		if iv[0].Before(end) {
			iv[0] = end
		}
		if iv[1].After(iv[0]) {
			total += iv[1].Sub(iv[0])
			end = iv[1]
		}
	}
	return total.Minutes()
}

// segments splits an update body into text and links: only absolute
// http(s) URLs with a host become links; everything else ("javascript:…",
// markup) stays text, which the templates escape.
func segments(body string) []segment {
	var out []segment
	for body != "" {
		i := indexURL(body)
		if i < 0 {
			out = append(out, segment{Text: body})
			break
		}
		if i > 0 {
			out = append(out, segment{Text: body[:i]})
		}
		end := i
		for end < len(body) && !strings.ContainsRune(" \t\r\n<>\"'`", rune(body[end])) {
			end++
		}
		for end > i && strings.ContainsRune(".,;:!?)]}", rune(body[end-1])) {
			end--
		}
		raw := body[i:end]
		if u, err := url.Parse(raw); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.User == nil {
			out = append(out, segment{Text: raw, URL: u.String()})
		} else {
			out = append(out, segment{Text: raw})
		}
		body = body[end:]
	}
	return out
}

// indexURL is the index of the first "http://" or "https://" in s, or -1.
func indexURL(s string) int {
	lower := strings.ToLower(s)
	a, b := strings.Index(lower, "http://"), strings.Index(lower, "https://")
	switch {
	case a < 0:
		return b
	case b < 0:
		return a
	}
	return min(a, b)
}
