package alertmanager

import (
	"cmp"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/vantageprobe/vantage/alerts"
)

// postableAlert is an alert of Alertmanager's v2 API.
type postableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     string            `json:"startsAt,omitempty"`
	EndsAt       string            `json:"endsAt,omitempty"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// encode is the body of POST /api/v2/alerts for notif, sent at now.
func (n *Notifier) encode(notif alerts.Notification, now time.Time) ([]byte, error) {
	out := make([]postableAlert, 0, len(notif.Alerts))
	for _, a := range notif.Alerts {
		p := postableAlert{
			Labels:       n.labelsOf(notif, a),
			Annotations:  annotationsOf(a),
			StartsAt:     timestamp(a.StartsAt),
			GeneratorURL: cmp.Or(alerts.WebURL(a.URL), alerts.WebURL(notif.ExternalURL)),
		}
		switch {
		case a.Status == alerts.StatusResolved:
			p.EndsAt = timestamp(cmp.Or(a.EndsAt, now))
		case n.resolveTimeout > 0:
			p.EndsAt = timestamp(now.Add(n.resolveTimeout))
		}
		out = append(out, p)
	}
	return json.Marshal(out)
}

// labelsOf identifies a in Alertmanager: its own labels, then alertname
// (the rule), check and severity when it lacks them, then the configured
// ones. Only labels that stay the same while the alert lives belong here
// (Alertmanager matches the resolve to the firing alert by them), so the
// failing regions, which change, are an annotation.
func (n *Notifier) labelsOf(notif alerts.Notification, a alerts.Alert) map[string]string {
	l := map[string]string{}
	set := func(name, value string) {
		name = labelNameOf(name)
		if _, ok := l[name]; !ok && value != "" && name != "" {
			l[name] = strings.ToValidUTF8(value, "\uFFFD")
		}
	}
	for _, k := range slices.Sorted(maps.Keys(a.Labels)) {
		set(k, a.Labels[k])
	}
	set("alertname", cmp.Or(a.Rule, notif.Rule))
	set("check", a.Check)
	set("severity", string(cmp.Or(a.Severity, notif.Severity)))
	for _, k := range slices.Sorted(maps.Keys(n.labels)) {
		set(k, n.labels[k])
	}
	return l
}

// labelNameOf turns name into a valid label name: other characters become
// underscores, a leading digit gets one before it, and the reserved
// leading __ is dropped.
func labelNameOf(name string) string {
	name = strings.Map(func(r rune) rune {
		if r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			return r
		}
		return '_'
	}, name)
	if name != "" && name[0] >= '0' && name[0] <= '9' {
		name = "_" + name
	}
	for strings.HasPrefix(name, "__") {
		name = name[1:]
	}
	return name
}

// annotationsOf describes a: its own annotations, then summary,
// description (the last error), state, regions, target and url.
func annotationsOf(a alerts.Alert) map[string]string {
	m := map[string]string{}
	for k, v := range a.Annotations {
		if v != "" {
			m[k] = v
		}
	}
	for k, v := range map[string]string{
		"summary": a.Summary, "description": a.Error, "state": a.State,
		"regions": strings.Join(a.Regions, ", "), "target": a.Target, "url": a.URL,
	} {
		if _, ok := m[k]; !ok && v != "" {
			m[k] = v
		}
	}
	return m
}

func timestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
