package opsgenie

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/vantageprobe/vantage/alerts"
)

// Opsgenie's limits on an alert's fields, in characters.
const (
	maxMessage     = 130
	maxDescription = 15000
	maxTag         = 50
	maxTags        = 20
	maxDetail      = 1000
	maxNote        = 25000
)

// createAlert is the body of POST /v2/alerts.
type createAlert struct {
	Message     string            `json:"message"`
	Alias       string            `json:"alias"`
	Description string            `json:"description,omitempty"`
	Responders  []Responder       `json:"responders,omitempty"`
	Tags        []string          `json:"tags,omitempty"`
	Details     map[string]string `json:"details,omitempty"`
	Entity      string            `json:"entity,omitempty"`
	Source      string            `json:"source"`
	Priority    Priority          `json:"priority"`
}

// closeAlert is the body of POST /v2/alerts/{alias}/close.
type closeAlert struct {
	Source string `json:"source"`
	Note   string `json:"note,omitempty"`
}

// Alias identifies notif's group in Opsgenie: a hash of its group key (its
// idempotency key when it has none), the same for the create, reminders
// and the close.
func Alias(notif alerts.Notification) string {
	sum := sha256.Sum256([]byte(cmp.Or(notif.GroupKey, notif.Key)))
	return hex.EncodeToString(sum[:])
}

// request returns the operation, URL and body for notif.
func (n *Notifier) request(notif alerts.Notification) (op, where string, body []byte, err error) {
	alias := Alias(notif)
	if notif.Status == alerts.StatusResolved {
		where = n.base + "/v2/alerts/" + url.PathEscape(alias) + "/close?identifierType=alias"
		body, err = json.Marshal(closeAlert{Source: n.source, Note: alerts.Truncate(strings.Join(alerts.Lines(notif), "\n"), maxNote)})
		return "close", where, body, err
	}
	body, err = json.Marshal(createAlert{
		Message:     n.messageOf(notif),
		Alias:       alias,
		Description: n.descriptionOf(notif),
		Responders:  n.responders,
		Tags:        n.tagsOf(notif),
		Details:     detailsOf(notif),
		Entity:      alerts.Truncate(alerts.Values(notif)["checks"], 512),
		Source:      n.source,
		Priority:    cmp.Or(n.priority, priorityOf(notif.Severity)),
	})
	return "create", n.base + "/v2/alerts", body, err
}

func (n *Notifier) messageOf(notif alerts.Notification) string {
	s := alerts.Title(notif)
	if !n.message.IsZero() {
		s = n.message.Render(notif, nil)
	}
	return alerts.Truncate(alerts.OneLine(s), maxMessage)
}

func (n *Notifier) descriptionOf(notif alerts.Notification) string {
	if !n.description.IsZero() {
		return alerts.Truncate(n.description.Render(notif, nil), maxDescription)
	}
	lines := alerts.Lines(notif)
	for _, a := range notif.Alerts {
		if a.URL != "" {
			lines = append(lines, a.Check+": "+a.URL)
		}
	}
	return alerts.Truncate(strings.Join(lines, "\n"), maxDescription)
}

// tagsOf is the rule, the severity and the configured tags, without
// duplicates, within Opsgenie's limits.
func (n *Notifier) tagsOf(notif alerts.Notification) []string {
	var out []string
	for _, t := range append([]string{notif.Rule, string(notif.Severity)}, n.tags...) {
		t = alerts.Truncate(alerts.OneLine(t), maxTag)
		if t != "" && !slices.Contains(out, t) && len(out) < maxTags {
			out = append(out, t)
		}
	}
	return out
}

// detailsOf describes the group and its first alert as key/value pairs.
func detailsOf(notif alerts.Notification) map[string]string {
	v := alerts.Values(notif)
	d := map[string]string{
		"rule": v["rule"], "severity": v["severity"], "reason": v["reason"], "checks": v["checks"],
		"alerts": v["count"], "firing": strconv.Itoa(len(notif.Firing())),
		"state": v["state"], "regions": v["regions"], "error": v["error"], "target": v["target"],
		"url": v["url"], "starts_at": v["starts_at"], "external_url": notif.ExternalURL,
	}
	for k, s := range d {
		if s == "" {
			delete(d, k)
			continue
		}
		d[k] = alerts.Truncate(s, maxDetail)
	}
	return d
}
