package server

import (
	"html/template"
	"net/http"
	"time"
)

// overviewPage is the plain HTML overview served at / until the status
// page replaces it. It needs no JavaScript and refreshes itself.
var overviewPage = template.Must(template.New("overview").Funcs(template.FuncMap{
	"ms": func(seconds float64) float64 { return seconds * 1000 },
}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="10">
<title>Vantage — {{len .Checks}} checks</title>
<style>
body{font:15px/1.4 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#1a1a1a}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #ddd}
.up{color:#0a6b2d}.degraded{color:#8a5a00}.down{color:#b00020}.unknown{color:#555}
.state{font-weight:600;text-transform:uppercase}
</style>
</head>
<body>
<h1>Vantage</h1>
<p>{{.Up}} up, {{.Degraded}} degraded, {{.Down}} down, {{.Unknown}} unknown — as of {{.Now}}. JSON: <a href="/api/v1/checks">/api/v1/checks</a></p>
<table>
<thead><tr><th scope="col">Check</th><th scope="col">Type</th><th scope="col">State</th><th scope="col">Last probe</th><th scope="col">Duration</th><th scope="col">Detail</th></tr></thead>
<tbody>
{{range .Checks}}<tr>
<td><a href="/api/v1/checks/{{.Name}}">{{.Name}}</a></td><td>{{.Type}}</td>
<td class="state {{.State}}">{{.State}}</td>
{{with .LastResult}}<td>{{.Started.Format "15:04:05 UTC"}}</td><td>{{printf "%.1f ms" (ms .Duration)}}</td><td>{{if .Error}}{{.ErrorClass}}: {{.Error}}{{else if .Warning}}{{.Warning}}{{end}}</td>
{{else}}<td>—</td><td>—</td><td>no result yet</td>{{end}}
</tr>
{{end}}</tbody>
</table>
</body>
</html>
`))

type overviewData struct {
	Checks                      []checkJSON
	Now                         string
	Up, Degraded, Down, Unknown int
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
	d := overviewData{Now: now.UTC().Format("2006-01-02 15:04:05 UTC")}
	for _, c := range cs.cfg.Checks {
		j := describe(c, latest[c.Name], now)
		switch j.State {
		case StateUp:
			d.Up++
		case StateDegraded:
			d.Degraded++
		case StateDown:
			d.Down++
		default:
			d.Unknown++
		}
		d.Checks = append(d.Checks, j)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	if err := overviewPage.Execute(w, d); err != nil {
		s.log.Error("render overview", "err", err)
	}
}
