package webhook

import (
	"time"

	"github.com/vantageprobe/vantage/alerts"
)

// Payload is the JSON body: Alertmanager's webhook message, version 4, plus
// notification_reason.
type Payload struct {
	Version            string            `json:"version"`
	GroupKey           string            `json:"groupKey"`
	TruncatedAlerts    int               `json:"truncatedAlerts"`
	Status             alerts.Status     `json:"status"`
	Receiver           string            `json:"receiver"`
	GroupLabels        map[string]string `json:"groupLabels"`
	CommonLabels       map[string]string `json:"commonLabels"`
	CommonAnnotations  map[string]string `json:"commonAnnotations"`
	ExternalURL        string            `json:"externalURL"`
	NotificationReason string            `json:"notification_reason"`
	Alerts             []Alert           `json:"alerts"`
}

// Alert is one alert of a Payload.
type Alert struct {
	Status       alerts.Status     `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"` // 0001-01-01T00:00:00Z while firing
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// newPayload builds n's payload with at most maxAlerts alerts (0: all).
// Common labels and annotations are those of every alert, including the
// ones left out, as in Alertmanager.
func newPayload(n alerts.Notification, maxAlerts int) Payload {
	p := Payload{
		Version:            "4",
		GroupKey:           n.GroupKey,
		Status:             n.Status,
		Receiver:           n.Receiver,
		GroupLabels:        orEmpty(n.GroupLabels),
		CommonLabels:       common(n.Alerts, func(a alerts.Alert) map[string]string { return a.Labels }),
		CommonAnnotations:  common(n.Alerts, func(a alerts.Alert) map[string]string { return a.Annotations }),
		ExternalURL:        n.ExternalURL,
		NotificationReason: n.Reason,
		Alerts:             []Alert{},
	}
	list := n.Alerts
	if maxAlerts > 0 && len(list) > maxAlerts {
		p.TruncatedAlerts = len(list) - maxAlerts
		list = list[:maxAlerts]
	}
	for _, a := range list {
		p.Alerts = append(p.Alerts, Alert{
			Status:       a.Status,
			Labels:       orEmpty(a.Labels),
			Annotations:  orEmpty(a.Annotations),
			StartsAt:     a.StartsAt.UTC(),
			EndsAt:       a.EndsAt.UTC(),
			GeneratorURL: a.URL,
			Fingerprint:  a.Fingerprint,
		})
	}
	return p
}

// common returns the pairs every alert has in the map get returns.
func common(list []alerts.Alert, get func(alerts.Alert) map[string]string) map[string]string {
	out := map[string]string{}
	if len(list) == 0 {
		return out
	}
	for k, v := range get(list[0]) {
		out[k] = v
	}
	for _, a := range list[1:] {
		m := get(a)
		for k, v := range out {
			if w, ok := m[k]; !ok || w != v {
				delete(out, k)
			}
		}
	}
	return out
}

// orEmpty makes nil maps encode as {} rather than null.
func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
