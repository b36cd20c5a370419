package server

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/vantageprobe/vantage/alerts"
	"github.com/vantageprobe/vantage/results"
)

// adminPage is the operators' view on the admin listener: every check
// with its target and each region's newest result and trace id, the
// alerts, silences, open incidents and maintenance. No JavaScript.
var adminPage = template.Must(template.New("admin").Funcs(template.FuncMap{
	"ms": func(d time.Duration) string { return d.Round(100 * time.Microsecond).String() },
	"at": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="15">
<title>Vantage admin</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem auto;max-width:80rem;padding:0 1rem;color:#1a1a1a;background:#fff}
table{border-collapse:collapse;width:100%;margin-bottom:2rem}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #ddd;vertical-align:top}
code{font-size:12px}.up{color:#0a6b2d}.degraded{color:#7a4f00}.down{color:#b00020}.unknown,.muted{color:#555}
.state{font-weight:600;text-transform:uppercase}
@media (prefers-color-scheme: dark){body{background:#111;color:#eee}th,td{border-color:#333}.up{color:#5fd38d}.degraded{color:#f0b849}.down{color:#ff6b81}.unknown,.muted{color:#aaa}a{color:#8ab4f8}}
</style>
</head>
<body>
<h1>Vantage admin</h1>
<p>As of {{at .Now}}. Public page: <a href="{{.PublicURL}}">{{.PublicURL}}</a></p>
<h2>Checks</h2>
<table>
<thead><tr><th scope="col">Check</th><th scope="col">State</th><th scope="col">Target</th><th scope="col">Region</th><th scope="col">Last probe</th><th scope="col">Duration</th><th scope="col">Result</th><th scope="col">Trace</th></tr></thead>
<tbody>
{{range .Checks}}{{$c := .}}{{range $i, $r := .Regions}}<tr>
{{if eq $i 0}}<th scope="row" rowspan="{{len $c.Regions}}">{{$c.Name}} <span class="muted">{{$c.Kind}}</span></th>
<td rowspan="{{len $c.Regions}}" class="state {{$c.State}}">{{$c.State}}{{if $c.Maintenance}} <span class="muted">(in maintenance: {{$c.Maintenance}})</span>{{end}}</td>
<td rowspan="{{len $c.Regions}}"><code>{{$c.Target}}</code></td>{{end}}
<td>{{$r.Region}}</td>
{{if $r.Seen}}<td>{{at $r.Started}}</td><td>{{ms $r.Duration}}</td>
<td>{{if $r.OK}}<span class="up">ok</span>{{else}}<span class="down">{{$r.ErrorClass}}</span> {{$r.Error}}{{end}}</td>
<td>{{if $r.TraceLink}}<a href="{{$r.TraceLink}}"><code>{{$r.TraceID}}</code></a>{{else}}<code>{{$r.TraceID}}</code>{{end}}</td>
{{else}}<td colspan="4" class="muted">no result yet</td>{{end}}
</tr>
{{end}}{{end}}</tbody>
</table>
<h2>Alerts</h2>
{{if .Alerts}}<table><thead><tr><th scope="col">Rule</th><th scope="col">Check</th><th scope="col">Severity</th><th scope="col">State</th><th scope="col">Since</th><th scope="col">Summary</th></tr></thead><tbody>
{{range .Alerts}}<tr><td>{{.Rule}}</td><td>{{.Check}}</td><td>{{.Severity}}</td><td>{{.State}}{{if .Muted}} <span class="muted">(muted)</span>{{end}}</td><td>{{at .Since}}</td><td>{{.Summary}}</td></tr>
{{end}}</tbody></table>{{else}}<p>No pending or firing alerts.</p>{{end}}
<h2>Silences</h2>
{{if .Silences}}<table><thead><tr><th scope="col">Matchers</th><th scope="col">From</th><th scope="col">Until</th><th scope="col">Comment</th><th scope="col">Id</th></tr></thead><tbody>
{{range .Silences}}<tr><td><code>{{range .Matchers}}{{.}} {{end}}</code></td><td>{{at .StartsAt}}</td><td>{{at .EndsAt}}</td><td>{{.Comment}}{{if .CreatedBy}} — {{.CreatedBy}}{{end}}</td><td><code>{{.ID}}</code></td></tr>
{{end}}</tbody></table>{{else}}<p>No silences.</p>{{end}}
<h2>Open incidents</h2>
{{if .Incidents}}<ul>{{range .Incidents}}<li><strong>{{.Title}}</strong> — {{.Status}}, impact {{.Impact}} ({{.Source}}, <code>{{.ID}}</code>)</li>{{end}}</ul>{{else}}<p>No open incidents.</p>{{end}}
<h2>Maintenance</h2>
{{if .Maintenance}}<ul>{{range .Maintenance}}<li><strong>{{.Name}}</strong>{{if .ID}} (<code>{{.ID}}</code>){{end}}{{if .Weekly}} — weekly{{else}} — {{at .Start}} to {{at .End}}{{end}}</li>{{end}}</ul>{{else}}<p>No maintenance windows.</p>{{end}}
</body>
</html>
`))

type adminRegion struct {
	Region     string
	Seen, OK   bool
	Started    time.Time
	Duration   time.Duration
	ErrorClass string
	Error      string
	TraceID    string
	TraceLink  string
}

type adminCheck struct {
	Name, Kind, State, Target string
	// Maintenance names the active maintenance window covering the check,
	// which the status page shows instead of State.
	Maintenance string
	Regions     []adminRegion
}

type adminData struct {
	Now         time.Time
	PublicURL   string
	Checks      []adminCheck
	Alerts      []alerts.AlertView
	Silences    []alerts.Silence
	Incidents   []alerts.Incident
	Maintenance []alerts.Maintenance
}

// adminView serves GET /admin on the admin listener.
func (s *Server) adminView(w http.ResponseWriter, r *http.Request) {
	cfg := s.checks.Load().cfg
	now := time.Now()
	d := adminData{Now: now, PublicURL: cfg.Server.ExternalURL}
	if d.PublicURL == "" {
		d.PublicURL = "/"
	}
	var maint []alerts.Maintenance
	if eng := s.engine(); eng != nil {
		maint = eng.Maintenance()
	}
	for _, chk := range cfg.Checks {
		c := adminCheck{Name: chk.Name, Kind: string(chk.Kind()), Target: chk.Target()}
		for _, m := range maint {
			if m.Covers(chk.Name) && m.ActiveAt(now) {
				c.Maintenance = m.Name
				break
			}
		}
		var recs = make([]adminRegion, 0, len(chk.Regions))
		var got []results.Record
		for _, region := range chk.Regions {
			ar := adminRegion{Region: region}
			if e, ok := s.series.get(chk.Name, region); ok {
				got = append(got, e.rec)
				ar.Seen, ar.OK, ar.Started, ar.Duration = true, e.rec.OK, e.rec.Started, e.rec.Duration
				ar.ErrorClass, ar.Error, ar.TraceID = e.rec.ErrorClass, e.rec.Error, e.rec.TraceID
				ar.TraceLink = traceLink(cfg.Server.TraceURL, e.rec.TraceID)
			}
			recs = append(recs, ar)
		}
		c.Regions = recs
		c.State = checkState(chk, got, now)
		d.Checks = append(d.Checks, c)
	}
	if eng := s.engine(); eng != nil {
		d.Alerts, d.Silences, d.Maintenance = eng.Alerts(), eng.Silences(), eng.Maintenance()
	}
	if incs, err := s.alertStore.Incidents(r.Context(), alerts.IncidentQuery{Open: true}); err == nil {
		d.Incidents = incs
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	if err := adminPage.Execute(w, d); err != nil {
		s.log.Error("render admin view", "err", err)
	}
}

// traceLink fills a trace URL template ("…/trace/{trace_id}"), or "".
func traceLink(tmpl, traceID string) string {
	if tmpl == "" || traceID == "" {
		return ""
	}
	return strings.ReplaceAll(tmpl, "{trace_id}", url.PathEscape(traceID))
}
