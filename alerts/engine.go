package alerts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Conditions an alert can be about; one rule can watch several.
const (
	CondDown     = "down"     // consecutive_failures
	CondDegraded = "degraded" // degraded_for
	CondCert     = "cert"     // cert_expiry
	CondSLOBurn  = "slo_burn" // slo_burn
)

// Flapping: an alert that starts firing flapStarts times within
// flapWindow has its notifications held until it settles.
const (
	flapStarts = 4
	flapWindow = time.Hour
)

// Observation is one evaluation of one check, which the server makes once
// per check interval from the newest result of each region.
type Observation struct {
	Check string
	// State is the check's quorum state: up, degraded, down or unknown
	// (no fresh data: nothing changes).
	State string
	// Failing are the regions whose newest result failed, of Regions.
	Failing []string
	Regions int
	Error   string // newest failure text ("" when hidden or none)
	Target  string // "" when hide_target
	URL     string // the check on the server ("" without a public URL)
	// CertDaysLeft is the days until the earliest certificate expiry, when
	// CertKnown.
	CertDaysLeft int
	CertKnown    bool
	// Burns are the check's SLO burn windows (nil without an SLO).
	Burns []Burn
	At    time.Time
}

// Burn is the state of one burn-rate window pair of an SLO.
type Burn struct {
	Severity            Severity
	Firing              bool
	Long, Short         time.Duration
	LongRate, ShortRate float64
	Factor              float64
	BudgetRemaining     float64
	// ShortBad is the bad events in the short window; a rule fires only
	// with at least its min_bad_events there.
	ShortBad int64
}

// alertState is one alert as the engine keeps it (and stores it).
type alertState struct {
	Fingerprint string
	Rule        string
	Check       string
	Condition   string
	Severity    Severity
	Status      string    // pending, firing or resolved
	Since       time.Time // the condition holds since
	StartsAt    time.Time // firing since
	EndsAt      time.Time // resolved at
	Fails, Oks  int
	State       string
	Failing     []string
	Regions     int
	Summary     string
	Error       string
	Target      string
	URL         string
}

const (
	statusPending  = "pending"
	statusFiring   = "firing"
	statusResolved = "resolved"
)

// Options configure an Engine.
type Options struct {
	Rules       []Rule
	Defaults    Defaults                  // alert_defaults
	Overrides   map[string]CheckOverrides // by check
	Notifiers   map[string]Notifier
	Store       *Store
	Silences    []Silence // from the config; the API's are in the store
	Maintenance []Maintenance
	ExternalURL string
	Logger      *slog.Logger
	Registerer  prometheus.Registerer // nil: no metrics
	Now         func() time.Time      // nil: time.Now
}

// Engine evaluates the rules on observations and notifies through the
// outbox.
type Engine struct {
	o         Options
	log       *slog.Logger
	now       func() time.Time
	rules     []Rule
	metrics   *metrics
	mu        sync.Mutex
	alerts    map[string]*alertState
	groups    map[string]*group
	nlog      map[string]map[string]logEntry
	flaps     map[string][]time.Time // fingerprint → recent firing starts
	apiSilent []Silence
	apiMaint  []Maintenance            // windows made through the API
	wake      map[string]chan struct{} // per receiver
}

// group is one rule × severity: its alerts are notified together.
type group struct {
	key       string
	rule      Rule
	severity  Severity
	nextFlush time.Time // zero: nothing scheduled
	lastFlush time.Time
}

// New builds an engine and loads the stored alerts and notification log,
// so a restart neither forgets a firing alert nor notifies it again.
func New(ctx context.Context, o Options) (*Engine, error) {
	if o.Store == nil {
		return nil, errors.New("alerts: no store")
	}
	e := &Engine{o: o, log: o.Logger, now: o.Now, alerts: map[string]*alertState{}, groups: map[string]*group{},
		flaps: map[string][]time.Time{}, wake: map[string]chan struct{}{}}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.now == nil {
		e.now = time.Now
	}
	for _, r := range o.Rules {
		r = r.WithDefaults(o.Defaults)
		for _, sev := range []Severity{SeverityPage, SeverityTicket, SeverityInfo} {
			for _, name := range r.Notifiers(sev) {
				if _, ok := o.Notifiers[name]; !ok {
					return nil, fmt.Errorf("alert %s: notifier %q is not configured", r.Name, name)
				}
			}
		}
		e.rules = append(e.rules, r)
	}
	for name := range o.Notifiers {
		e.wake[name] = make(chan struct{}, 1)
	}
	e.metrics = newMetrics(o.Registerer, e)
	if err := e.load(ctx); err != nil {
		return nil, err
	}
	return e, nil
}

// load restores alerts, the notification log and API silences.
func (e *Engine) load(ctx context.Context) error {
	stored, err := e.o.Store.alerts(ctx)
	if err != nil {
		return err
	}
	if e.nlog, err = e.o.Store.notifyLog(ctx); err != nil {
		return err
	}
	if e.apiSilent, err = e.o.Store.Silences(ctx, e.now()); err != nil {
		return err
	}
	if e.apiMaint, err = e.o.Store.Maintenances(ctx); err != nil {
		return err
	}
	now := e.now()
	for _, a := range stored {
		r, ok := e.rule(a.Rule)
		if !ok {
			_ = e.o.Store.deleteAlert(ctx, a.Fingerprint) // the rule is gone
			continue
		}
		e.alerts[a.Fingerprint] = a
		g := e.group(r, a.Severity)
		for _, le := range e.nlog[g.key] {
			if le.SentAt.After(g.lastFlush) {
				g.lastFlush = le.SentAt
			}
		}
		g.nextFlush = now // anything that changed while down is sent; the rest is known to the log
	}
	return nil
}

func (e *Engine) rule(name string) (Rule, bool) {
	for _, r := range e.rules {
		if r.Name == name {
			return r, true
		}
	}
	return Rule{}, false
}

func (e *Engine) group(r Rule, sev Severity) *group {
	key := r.Name + "/" + string(sev)
	g, ok := e.groups[key]
	if !ok {
		g = &group{key: key, rule: r, severity: sev}
		e.groups[key] = g
	}
	g.rule = r
	return g
}

func fingerprint(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:8])
}

// Observe applies one evaluation of a check to every rule watching it.
func (e *Engine) Observe(ctx context.Context, obs Observation) error {
	if obs.At.IsZero() {
		obs.At = e.now()
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var errs []error
	for _, r := range e.rules {
		if !r.Watches(obs.Check) {
			continue
		}
		r = r.forCheck(e.o.Overrides[obs.Check])
		if r.ConsecutiveFailures > 0 {
			errs = append(errs, e.apply(ctx, r, r.Severity, CondDown, obs, evalDown(r, obs)))
		}
		if r.DegradedFor > 0 {
			errs = append(errs, e.apply(ctx, r, r.Severity, CondDegraded, obs, evalDegraded(r, obs)))
		}
		if r.CertExpiry > 0 {
			errs = append(errs, e.apply(ctx, r, r.Severity, CondCert, obs, evalCert(r, obs)))
		}
		if r.SLOBurn {
			for _, sev := range []Severity{SeverityPage, SeverityTicket} {
				errs = append(errs, e.apply(ctx, r, sev, CondSLOBurn, obs, evalBurn(r, sev, obs)))
			}
		}
	}
	return errors.Join(errs...)
}

// verdict is what one observation says about one condition.
type verdict struct {
	skip    bool   // no information (unknown state): nothing changes
	bad     bool   // the condition holds
	fireNow bool   // fire without waiting for consecutive observations
	summary string // when bad
}

func evalDown(r Rule, o Observation) verdict {
	if o.State == "unknown" || o.State == "" {
		return verdict{skip: true}
	}
	v := verdict{bad: o.State == "down"}
	if v.bad {
		v.summary = fmt.Sprintf("%s is down in %d of %d regions (%s)", o.Check, len(o.Failing), o.Regions, strings.Join(o.Failing, ", "))
		if o.Error != "" {
			v.summary += ": " + o.Error
		}
	}
	return v
}

func evalDegraded(r Rule, o Observation) verdict {
	if o.State == "unknown" || o.State == "" {
		return verdict{skip: true}
	}
	v := verdict{bad: o.State == "degraded" || o.State == "down"}
	if v.bad {
		v.summary = fmt.Sprintf("%s has been %s for %s or more", o.Check, o.State, r.DegradedFor)
		if o.Error != "" {
			v.summary += ": " + o.Error
		}
	}
	return v
}

func evalCert(r Rule, o Observation) verdict {
	if !o.CertKnown {
		return verdict{skip: true}
	}
	v := verdict{bad: o.CertDaysLeft < r.CertExpiry, fireNow: true}
	if v.bad {
		v.summary = fmt.Sprintf("%s: the certificate expires in %d days (alert below %d)", o.Check, o.CertDaysLeft, r.CertExpiry)
		if o.CertDaysLeft < 0 {
			v.summary = fmt.Sprintf("%s: the certificate expired %d days ago", o.Check, -o.CertDaysLeft)
		}
	}
	return v
}

func evalBurn(r Rule, sev Severity, o Observation) verdict {
	if o.Burns == nil {
		return verdict{skip: true}
	}
	v := verdict{fireNow: true}
	for _, b := range o.Burns {
		if b.Severity != sev || !b.Firing || b.ShortBad < int64(r.MinBadEvents) {
			continue
		}
		v.bad = true
		v.summary = fmt.Sprintf("%s is burning its error budget %.1f× over %s (%.1f× over %s), %s threshold %.4g×; %.0f%% of the budget left",
			o.Check, b.LongRate, shortDuration(b.Long), b.ShortRate, shortDuration(b.Short), sev, b.Factor, 100*b.BudgetRemaining)
		break
	}
	return v
}

// shortDuration writes 1h, 5m, 3d.
func shortDuration(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

// apply moves one alert through its lifecycle: inactive → pending →
// firing → resolved.
func (e *Engine) apply(ctx context.Context, r Rule, sev Severity, cond string, o Observation, v verdict) error {
	if v.skip {
		return nil
	}
	fp := fingerprint(r.Name, o.Check, cond, string(sev))
	a, exists := e.alerts[fp]
	now := o.At
	if !exists {
		if !v.bad {
			return nil
		}
		a = &alertState{Fingerprint: fp, Rule: r.Name, Check: o.Check, Condition: cond, Severity: sev, Status: statusPending, Since: now}
		e.alerts[fp] = a
	}
	before := a.Status
	if !exists {
		before = ""
	}
	if a.Status == statusResolved {
		if !v.bad {
			return nil // waiting to be notified as resolved
		}
		// Fires again before its resolved notification went out: one alert.
		a.Status, a.EndsAt, a.Since = statusFiring, time.Time{}, now
		e.schedule(r, sev, now)
	}
	if v.bad {
		a.Fails, a.Oks = a.Fails+1, 0
		a.State, a.Failing, a.Regions, a.Summary = o.State, o.Failing, o.Regions, v.summary
		a.Error, a.Target, a.URL = o.Error, o.Target, o.URL
	} else {
		a.Oks, a.Fails = a.Oks+1, 0
		a.State, a.Failing = o.State, nil
	}
	switch a.Status {
	case statusPending:
		switch {
		case !v.bad:
			delete(e.alerts, fp)
			return e.o.Store.deleteAlert(ctx, fp)
		case v.fireNow || fires(r, cond, a, now):
			a.Status, a.StartsAt = statusFiring, now
			e.flaps[fp] = append(recent(e.flaps[fp], now), now)
			e.log.Info("alert firing", "rule", r.Name, "check", o.Check, "condition", cond, "severity", sev)
			e.schedule(r, sev, now)
		}
	case statusFiring:
		if !v.bad && (v.fireNow || a.Oks >= r.ResolveAfter) {
			a.Status, a.EndsAt = statusResolved, now
			e.log.Info("alert resolved", "rule", r.Name, "check", o.Check, "condition", cond, "severity", sev)
			e.schedule(r, sev, now)
		}
	}
	if a.Status == before {
		// Only transitions are written (with synchronous=FULL, a write per
		// observation of every firing alert would cost an fsync each); the
		// counters of a pending alert may restart after a crash.
		return nil
	}
	return e.o.Store.saveAlert(ctx, a)
}

// fires reports whether a pending alert has held long enough.
func fires(r Rule, cond string, a *alertState, now time.Time) bool {
	switch cond {
	case CondDown:
		return a.Fails >= r.ConsecutiveFailures
	case CondDegraded:
		return now.Sub(a.Since) >= r.DegradedFor
	}
	return true
}

// recent keeps the firing starts within the flap window.
func recent(starts []time.Time, now time.Time) []time.Time {
	return slices.DeleteFunc(starts, func(t time.Time) bool { return now.Sub(t) > flapWindow })
}

// flapping reports whether an alert started firing too often lately.
func (e *Engine) flapping(fp string, now time.Time) bool {
	return len(recent(e.flaps[fp], now)) >= flapStarts
}

// schedule plans the group's next notification: the first one after
// group_wait (to collect the other checks of one outage), later ones no
// sooner than group_interval after the previous.
func (e *Engine) schedule(r Rule, sev Severity, now time.Time) {
	g := e.group(r, sev)
	at := now.Add(r.GroupWait)
	if !g.lastFlush.IsZero() && e.notified(g) {
		at = later(now, g.lastFlush.Add(r.GroupInterval))
	}
	if g.nextFlush.IsZero() || at.Before(g.nextFlush) {
		g.nextFlush = at
	}
}

// notified reports whether any receiver was told the group fires.
func (e *Engine) notified(g *group) bool {
	for _, le := range e.nlog[g.key] {
		if len(le.Firing) > 0 {
			return true
		}
	}
	return false
}

// Watches reports whether any rule watches check, so callers can skip
// building observations nobody reads.
func (e *Engine) Watches(check string) bool {
	for _, r := range e.rules {
		if r.Watches(check) {
			return true
		}
	}
	return false
}
