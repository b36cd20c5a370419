package pagerduty

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"slices"
	"time"

	"github.com/vantageprobe/vantage/alerts"
)

const (
	// maxSummary is the payload summary's limit, in characters.
	maxSummary = 1024
	// maxBody is the size PagerDuty accepts an event below.
	maxBody = 512 << 10
	// maxLinks caps the links to checks an event carries.
	maxLinks = 5
)

// event is an Events API v2 event.
type event struct {
	RoutingKey  string   `json:"routing_key"`
	EventAction string   `json:"event_action"`
	DedupKey    string   `json:"dedup_key"`
	Client      string   `json:"client,omitempty"`
	ClientURL   string   `json:"client_url,omitempty"`
	Payload     *payload `json:"payload,omitempty"`
	Links       []link   `json:"links,omitempty"`
}

type payload struct {
	Summary       string   `json:"summary"`
	Source        string   `json:"source"`
	Severity      Severity `json:"severity"`
	Timestamp     string   `json:"timestamp,omitempty"`
	Component     string   `json:"component,omitempty"`
	Group         string   `json:"group,omitempty"`
	Class         string   `json:"class,omitempty"`
	CustomDetails any      `json:"custom_details,omitempty"`
}

type link struct {
	Href string `json:"href"`
	Text string `json:"text"`
}

// details are the custom_details of a trigger.
type details struct {
	Rule     string   `json:"rule"`
	Severity string   `json:"severity"`
	Reason   string   `json:"reason,omitempty"`
	Firing   int      `json:"firing"`
	Resolved int      `json:"resolved"`
	Alerts   []detail `json:"alerts"`
}

type detail struct {
	Check    string            `json:"check"`
	Status   alerts.Status     `json:"status"`
	State    string            `json:"state,omitempty"`
	Regions  []string          `json:"regions,omitempty"`
	Summary  string            `json:"summary,omitempty"`
	Error    string            `json:"error,omitempty"`
	Target   string            `json:"target,omitempty"`
	URL      string            `json:"url,omitempty"`
	StartsAt string            `json:"starts_at,omitempty"`
	EndsAt   string            `json:"ends_at,omitempty"`
	Labels   map[string]string `json:"labels,omitempty"`
}

// DedupKey is the dedup_key of every event about notif's group: a hash of
// its group key (its idempotency key when it has none), so a retry, a
// reminder and the resolve all address the same PagerDuty alert.
func DedupKey(notif alerts.Notification) string {
	sum := sha256.Sum256([]byte(cmp.Or(notif.GroupKey, notif.Key)))
	return hex.EncodeToString(sum[:])
}

// event builds the event for notif.
func (n *Notifier) event(notif alerts.Notification) event {
	ev := event{RoutingKey: n.routingKey, DedupKey: DedupKey(notif)}
	if notif.Status == alerts.StatusResolved {
		ev.EventAction = "resolve"
		return ev
	}
	ev.EventAction = "trigger"
	ev.Client = n.client
	ev.ClientURL = cmp.Or(n.clientURL, alerts.WebURL(notif.ExternalURL))
	ev.Links = links(notif)
	ev.Payload = &payload{
		Summary:       n.summaryOf(notif),
		Source:        n.sourceOf(notif),
		Severity:      cmp.Or(n.severity, severityOf(notif.Severity)),
		Timestamp:     timestamp(notif),
		Component:     alerts.Values(notif)["checks"],
		Group:         groupOf(notif),
		Class:         notif.Rule,
		CustomDetails: detailsOf(notif),
	}
	return ev
}

// encode marshals ev; a trigger too large for PagerDuty loses its
// custom_details to a note saying so.
func (n *Notifier) encode(ev event, receiver string) ([]byte, error) {
	body, err := json.Marshal(ev)
	if err != nil || len(body) < maxBody || ev.Payload == nil {
		return body, err
	}
	n.log.Warn("pagerduty event too large, custom_details dropped", "notifier", receiver, "bytes", len(body))
	ev.Payload.CustomDetails = map[string]string{
		"note": fmt.Sprintf("custom_details dropped: the event was %d bytes, PagerDuty accepts less than %d", len(body), maxBody),
	}
	body, err = json.Marshal(ev)
	if err == nil && len(body) >= maxBody {
		err = fmt.Errorf("event is %d bytes even without custom_details, PagerDuty accepts less than %d", len(body), maxBody)
	}
	return body, err
}

// summaryOf renders the summary on one line, cut to PagerDuty's limit.
func (n *Notifier) summaryOf(notif alerts.Notification) string {
	var s string
	if n.summary.IsZero() {
		s = alerts.Title(notif)
		if lines := alerts.Lines(notif); len(lines) > 0 {
			s += " — " + lines[0]
			if len(lines) > 1 {
				s += fmt.Sprintf(" (+%d more)", len(lines)-1)
			}
		}
	} else {
		s = n.summary.Render(notif, nil)
	}
	return alerts.Truncate(alerts.OneLine(s), maxSummary)
}

// sourceOf is the configured source, else the first alert's target host,
// else its check.
func (n *Notifier) sourceOf(notif alerts.Notification) string {
	if n.source != "" {
		return n.source
	}
	if len(notif.Alerts) > 0 {
		a := notif.Alerts[0]
		return cmp.Or(hostOf(a.Target), a.Check, DefaultClient)
	}
	return DefaultClient
}

// hostOf returns the host of a URL or host:port target ("" if none).
func hostOf(target string) string {
	if target == "" {
		return ""
	}
	if u, err := url.Parse(target); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	if h, _, err := net.SplitHostPort(target); err == nil {
		return h
	}
	return target
}

// timestamp is when the first firing alert started, else when the
// notification was made, in RFC 3339.
func timestamp(notif alerts.Notification) string {
	t := notif.Time
	if f := notif.Firing(); len(f) > 0 && !f[0].StartsAt.IsZero() {
		t = f[0].StartsAt
	}
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// groupOf is the group label the group was formed by or its first alert
// carries ("" if none).
func groupOf(notif alerts.Notification) string {
	if g := notif.GroupLabels["group"]; g != "" {
		return g
	}
	if len(notif.Alerts) > 0 {
		return notif.Alerts[0].Labels["group"]
	}
	return ""
}

func detailsOf(notif alerts.Notification) details {
	d := details{
		Rule: notif.Rule, Severity: string(notif.Severity), Reason: notif.Reason,
		Firing: len(notif.Firing()), Resolved: len(notif.Resolved()),
		Alerts: make([]detail, 0, len(notif.Alerts)),
	}
	for _, a := range notif.Alerts {
		d.Alerts = append(d.Alerts, detail{
			Check: a.Check, Status: a.Status, State: a.State, Regions: a.Regions,
			Summary: a.Summary, Error: a.Error, Target: a.Target, URL: a.URL,
			StartsAt: rfc3339(a.StartsAt), EndsAt: rfc3339(a.EndsAt), Labels: a.Labels,
		})
	}
	return d
}

// links point at the alerts' checks on the server.
func links(notif alerts.Notification) []link {
	var out []link
	var seen []string
	for _, a := range notif.Alerts {
		u := alerts.WebURL(a.URL)
		if u == "" || slices.Contains(seen, u) || len(out) == maxLinks {
			continue
		}
		seen = append(seen, u)
		out = append(out, link{Href: u, Text: "Vantage: " + a.Check})
	}
	return out
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
