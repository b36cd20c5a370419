package alerts

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Tick sends what is due: groups whose wait or interval has passed, and
// reminders of groups still firing after repeat_interval.
func (e *Engine) Tick(ctx context.Context) error {
	now := e.now()
	e.mu.Lock()
	defer e.mu.Unlock()
	var errs []error
	for _, g := range e.groups {
		due := !g.nextFlush.IsZero() && !now.Before(g.nextFlush)
		if !due && !e.reminderDue(g, now) && !e.untold(g, now) {
			continue
		}
		errs = append(errs, e.flush(ctx, g, now))
	}
	return errors.Join(errs...)
}

// reminderDue reports whether some receiver of a still-firing group last
// heard of it its repeat interval ago.
func (e *Engine) reminderDue(g *group, now time.Time) bool {
	for name, le := range e.nlog[g.key] {
		repeat := e.repeat(g, name)
		if repeat > 0 && len(le.Firing) > 0 && now.Sub(le.SentAt) >= repeat {
			return true
		}
	}
	return false
}

// repeat is how often a still-firing group is re-sent to a receiver: the
// rule's repeat_interval, or sooner for a receiver that forgets alerts
// not refreshed (0: never).
func (e *Engine) repeat(g *group, receiver string) time.Duration {
	repeat := g.rule.RepeatInterval
	if r, ok := e.o.Notifiers[receiver].(Refresher); ok {
		if ri := r.RefreshInterval(); ri > 0 && (repeat <= 0 || ri < repeat) {
			repeat = ri
		}
	}
	return max(repeat, 0)
}

// untold reports whether a firing alert no receiver was told of has
// become notifiable (its silence or maintenance ended, it stopped
// flapping), once group_interval has passed since the last notification.
func (e *Engine) untold(g *group, now time.Time) bool {
	if !g.nextFlush.IsZero() || now.Before(g.lastFlush.Add(g.rule.GroupInterval)) {
		return false // a notification is planned, or one went out lately
	}
	firing, _ := e.members(g)
	for _, a := range firing {
		if e.muted(a, now) {
			continue
		}
		for _, name := range g.rule.Notifiers(g.severity) {
			if !slices.Contains(e.nlog[g.key][name].Firing, a.Fingerprint) {
				return true
			}
		}
	}
	return false
}

// members returns the group's firing and resolved alerts, oldest first.
func (e *Engine) members(g *group) (firing, resolved []*alertState) {
	for _, a := range e.alerts {
		if a.Rule != g.rule.Name || a.Severity != g.severity {
			continue
		}
		switch a.Status {
		case statusFiring:
			firing = append(firing, a)
		case statusResolved:
			resolved = append(resolved, a)
		}
	}
	byStart := func(x, y *alertState) int {
		return cmp.Or(x.StartsAt.Compare(y.StartsAt), strings.Compare(x.Check, y.Check), strings.Compare(x.Fingerprint, y.Fingerprint))
	}
	slices.SortFunc(firing, byStart)
	slices.SortFunc(resolved, byStart)
	return firing, resolved
}

// flush decides, for every receiver of the group, whether it must hear
// of it now (Alertmanager's rules: new firing alerts, resolved ones it was
// told of, or a reminder), and queues one notification each.
func (e *Engine) flush(ctx context.Context, g *group, now time.Time) error {
	firing, resolved := e.members(g)
	var live []*alertState // firing and not muted
	for _, a := range firing {
		if !e.muted(a, now) {
			live = append(live, a)
		}
	}
	var errs []error
	for _, name := range g.rule.Notifiers(g.severity) {
		errs = append(errs, e.notify(ctx, g, name, live, resolved, now))
	}
	if err := errors.Join(errs...); err != nil {
		return err // the group stays due and is tried again at the next tick
	}
	for _, a := range resolved {
		delete(e.alerts, a.Fingerprint)
		errs = append(errs, e.o.Store.deleteAlert(ctx, a.Fingerprint))
	}
	g.lastFlush, g.nextFlush = now, time.Time{}
	return errors.Join(errs...)
}

// notify queues the group's notification for one receiver, if it needs one.
func (e *Engine) notify(ctx context.Context, g *group, receiver string, live, resolved []*alertState, now time.Time) error {
	last := e.nlog[g.key][receiver]
	told := func(a *alertState) bool { return slices.Contains(last.Firing, a.Fingerprint) }
	var fresh, gone []*alertState
	for _, a := range live {
		if !told(a) {
			fresh = append(fresh, a)
		}
	}
	for _, a := range resolved {
		if told(a) {
			gone = append(gone, a)
		}
	}
	// Firing alerts the receiver knew of but that are now muted count as
	// still known (no resolved message for a silence), but not as live.
	current := fingerprints(live)
	for _, fp := range last.Firing {
		if a, ok := e.alerts[fp]; ok && a.Status == statusFiring && !slices.Contains(current, fp) {
			current = append(current, fp)
		}
	}
	n := e.notifiers(receiver)
	reason := ""
	switch {
	case len(fresh) > 0 && len(last.Firing) == 0:
		reason = "new"
	case len(fresh) > 0:
		reason = "changed"
	case len(gone) > 0 && len(live) == 0 && n.SendResolved():
		reason = "resolved"
	case len(gone) > 0 && n.SendResolved():
		reason = "changed"
	case len(live) > 0 && e.repeat(g, receiver) > 0 && now.Sub(last.SentAt) >= e.repeat(g, receiver):
		reason = "reminder"
	}
	entry := logEntry{SentAt: last.SentAt, Firing: current}
	if reason == "" {
		if len(gone) == 0 && slices.Equal(current, last.Firing) {
			return nil
		}
		if e.nlog[g.key] == nil {
			e.nlog[g.key] = map[string]logEntry{}
		}
		e.nlog[g.key][receiver] = entry // resolved without a message (send_resolved: false)
		return e.o.Store.setLog(ctx, g.key, receiver, entry)
	}
	entry.SentAt = now
	notif := e.notification(g, receiver, reason, live, gone, now)
	if err := e.o.Store.enqueue(ctx, notif, entry); err != nil {
		return err
	}
	if e.nlog[g.key] == nil {
		e.nlog[g.key] = map[string]logEntry{}
	}
	e.nlog[g.key][receiver] = entry
	e.metrics.queued(receiver)
	select {
	case e.wake[receiver] <- struct{}{}:
	default:
	}
	return nil
}

func (e *Engine) notifiers(name string) Notifier { return e.o.Notifiers[name] }

func fingerprints(as []*alertState) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.Fingerprint
	}
	return out
}

// notification builds the message of one receiver.
func (e *Engine) notification(g *group, receiver, reason string, live, gone []*alertState, now time.Time) Notification {
	n := Notification{
		Key:      fmt.Sprintf("%s|%s|%d", g.key, receiver, now.UnixNano()),
		GroupKey: g.key, Receiver: receiver, Status: StatusResolved, Rule: g.rule.Name, Severity: g.severity,
		GroupLabels: map[string]string{"alertname": g.rule.Name, "severity": string(g.severity)},
		ExternalURL: e.o.ExternalURL, Reason: reason, Time: now,
	}
	if len(live) > 0 {
		n.Status = StatusFiring
	}
	for _, a := range live {
		n.Alerts = append(n.Alerts, e.alert(a, StatusFiring))
	}
	for _, a := range gone {
		n.Alerts = append(n.Alerts, e.alert(a, StatusResolved))
	}
	return n
}

// alert is the notified form of an alert.
func (e *Engine) alert(a *alertState, st Status) Alert {
	out := Alert{
		Fingerprint: a.Fingerprint, Status: st, Rule: a.Rule, Severity: a.Severity, Check: a.Check,
		Regions: a.Failing, State: a.State, Summary: a.Summary, Error: a.Error, Target: a.Target, URL: a.URL,
		Labels: map[string]string{
			"alertname": a.Rule, "rule": a.Rule, "check": a.Check, "severity": string(a.Severity), "condition": a.Condition,
		},
		Annotations: map[string]string{"summary": a.Summary},
		StartsAt:    a.StartsAt,
	}
	if len(a.Failing) > 0 {
		out.Labels["regions"] = strings.Join(a.Failing, ",")
	}
	if a.Error != "" {
		out.Annotations["description"] = a.Error
	}
	if st == StatusResolved {
		out.EndsAt = a.EndsAt
		out.Summary = a.Check + " is back: " + a.Summary
	}
	return out
}

// muted reports whether an alert's notifications are held: by a silence,
// by maintenance of its check, or because it flaps.
func (e *Engine) muted(a *alertState, now time.Time) bool {
	if e.flapping(a.Fingerprint, now) {
		return true
	}
	for _, m := range append(slices.Clip(e.o.Maintenance), e.apiMaint...) {
		if m.Covers(a.Check) && m.ActiveAt(now) {
			return true
		}
	}
	sets := labelSets(a)
	silences := append(slices.Clip(e.o.Silences), e.apiSilent...)
	for _, labels := range sets {
		matched := false
		for _, s := range silences {
			if s.Active(now) && s.Matches(labels) {
				matched = true
				break
			}
		}
		if !matched {
			return false
		}
	}
	return true
}

// labelSets are the label sets silences are matched against: one per
// failing region, so that a silence on one region mutes an alert only when
// no other region fails.
func labelSets(a *alertState) []map[string]string {
	base := map[string]string{"check": a.Check, "severity": string(a.Severity), "rule": a.Rule}
	if len(a.Failing) == 0 {
		return []map[string]string{base}
	}
	out := make([]map[string]string, 0, len(a.Failing))
	for _, r := range a.Failing {
		l := map[string]string{"region": r}
		for k, v := range base {
			l[k] = v
		}
		out = append(out, l)
	}
	return out
}
