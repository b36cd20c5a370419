package email

import (
	"html/template"
	"strings"
	"time"

	"github.com/vantageprobe/vantage/alerts"
)

// view is what the default layout shows: plain strings, escaped by
// html/template in the HTML part.
type view struct {
	Title     string
	Color     string
	Alerts    []alertView
	Footer    string
	ServerURL string
}

type alertView struct {
	Line, Error, Target, Regions, Since, URL string
}

func newView(notif alerts.Notification, title string) view {
	v := view{Title: title, Color: "#c0392b", ServerURL: alerts.WebURL(notif.ExternalURL)}
	if notif.Status == alerts.StatusResolved {
		v.Color = "#27ae60"
	}
	lines := alerts.Lines(notif)
	for i, a := range append(notif.Firing(), notif.Resolved()...) {
		av := alertView{Line: lines[i], Target: a.Target, Regions: strings.Join(a.Regions, ", "), URL: alerts.WebURL(a.URL)}
		if a.Status == alerts.StatusFiring && !strings.Contains(lines[i], a.Error) {
			av.Error = a.Error
		}
		if !a.StartsAt.IsZero() {
			av.Since = a.StartsAt.UTC().Format(time.RFC3339)
		}
		v.Alerts = append(v.Alerts, av)
	}
	var foot []string
	if notif.Severity != "" {
		foot = append(foot, "Severity: "+string(notif.Severity))
	}
	if notif.Reason != "" {
		foot = append(foot, "Reason: "+notif.Reason)
	}
	v.Footer = strings.Join(foot, " · ")
	return v
}

// text is the plain-text part.
func (v view) text() string {
	var b strings.Builder
	b.WriteString(v.Title + "\n")
	for _, a := range v.Alerts {
		b.WriteString("\n- " + a.Line + "\n")
		for _, f := range [][2]string{{"error", a.Error}, {"target", a.Target}, {"regions", a.Regions}, {"since", a.Since}, {"", a.URL}} {
			switch {
			case f[1] == "":
			case f[0] == "":
				b.WriteString("  " + f[1] + "\n")
			default:
				b.WriteString("  " + f[0] + ": " + f[1] + "\n")
			}
		}
	}
	if v.Footer != "" {
		b.WriteString("\n" + v.Footer + "\n")
	}
	if v.ServerURL != "" {
		b.WriteString(v.ServerURL + "\n")
	}
	return b.String()
}

// htmlLayout is the HTML part; html/template escapes every value for its
// context (text, attribute, URL).
var htmlLayout = template.Must(template.New("mail").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body style="font-family:sans-serif">
<h2 style="color:{{.Color}}">{{.Title}}</h2>
<ul>
{{- range .Alerts}}
<li><strong>{{.Line}}</strong>
{{- if .Error}}<br>error: <code>{{.Error}}</code>{{end}}
{{- if .Target}}<br>target: {{.Target}}{{end}}
{{- if .Regions}}<br>regions: {{.Regions}}{{end}}
{{- if .Since}}<br>since: {{.Since}}{{end}}
{{- if .URL}}<br><a href="{{.URL}}">Open in Vantage</a>{{end}}</li>
{{- end}}
</ul>
{{- if .Footer}}
<p style="color:#666">{{.Footer}}</p>
{{- end}}
{{- if .ServerURL}}
<p><a href="{{.ServerURL}}">{{.ServerURL}}</a></p>
{{- end}}
</body></html>
`))
