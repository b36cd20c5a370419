package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"sync"
	"time"

	"github.com/vantageprobe/vantage/alerts"
	"github.com/vantageprobe/vantage/config"
	"github.com/vantageprobe/vantage/results"
)

// sloRefresh is how often SLOs and their burn rates are evaluated.
const sloRefresh = 30 * time.Second

// alerting is the running alert engine and its loop.
type alerting struct {
	engine *alerts.Engine
	stop   context.CancelFunc
	done   chan struct{}
}

// sloCache holds the newest SLO status of every check with an SLO.
type sloCache struct {
	mu sync.RWMutex
	m  map[string]results.SLOStatus
}

func (c *sloCache) get(check string) (results.SLOStatus, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	st, ok := c.m[check]
	return st, ok
}

func (c *sloCache) all() map[string]results.SLOStatus {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.m
}

// newEngine builds the alert engine of cfg on the server's alert store.
func (s *Server) newEngine(ctx context.Context, cfg *config.Config, withMetrics bool) (*alerts.Engine, error) {
	notifiers, err := cfg.BuildNotifiers(s.log)
	if err != nil {
		return nil, err
	}
	o := alerts.Options{
		Rules: cfg.Alerts, Defaults: cfg.AlertDefaults, Overrides: cfg.AlertOverrides(),
		Notifiers: notifiers, Store: s.alertStore, Silences: cfg.Silences,
		Maintenance: cfg.Maintenance, ExternalURL: cfg.Server.ExternalURL, Logger: s.log,
	}
	if withMetrics {
		o.Registerer = s.metrics.alertRegistry()
	}
	return alerts.New(ctx, o)
}

// startAlerting runs eng until the server stops or a reload replaces it.
func (s *Server) startAlerting(ctx context.Context, eng *alerts.Engine) {
	actx, stop := context.WithCancel(ctx)
	a := &alerting{engine: eng, stop: stop, done: make(chan struct{})}
	go func() {
		defer close(a.done)
		eng.Run(actx)
	}()
	if old := s.alerting.Swap(a); old != nil {
		old.stop()
		<-old.done
	}
}

// stopAlerting stops the engine (its outbox rows stay for the next start).
func (s *Server) stopAlerting() {
	if a := s.alerting.Swap(nil); a != nil {
		a.stop()
		<-a.done
	}
}

// engine returns the running alert engine, or nil.
func (s *Server) engine() *alerts.Engine {
	if a := s.alerting.Load(); a != nil {
		return a.engine
	}
	return nil
}

// alertLoop observes every check once per interval and refreshes the SLOs
// every sloRefresh, until ctx ends.
func (s *Server) alertLoop(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	last := map[string]time.Time{}
	var lastSLO time.Time
	for {
		now := time.Now()
		if now.Sub(lastSLO) >= cmp.Or(s.opts.SLORefresh, sloRefresh) {
			lastSLO = now
			if err := s.refreshSLOs(ctx, now); err != nil && ctx.Err() == nil {
				s.log.Warn("slo evaluation", "err", err)
			}
		}
		s.observeDue(ctx, last, now)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// observeDue hands the engine an observation of each check whose interval
// has passed since its last one.
func (s *Server) observeDue(ctx context.Context, last map[string]time.Time, now time.Time) {
	eng := s.engine()
	if eng == nil {
		return
	}
	cs := s.checks.Load()
	for _, chk := range cs.cfg.Checks {
		if now.Sub(last[chk.Name]) < chk.Interval || !eng.Watches(chk.Name) {
			continue
		}
		last[chk.Name] = now
		if err := eng.Observe(ctx, s.observation(cs.cfg, chk, now)); err != nil && ctx.Err() == nil {
			s.log.Error("alert evaluation", "check", chk.Name, "err", err)
		}
	}
}

// observation describes a check now, from the newest result of each region.
func (s *Server) observation(cfg *config.Config, chk config.Check, now time.Time) alerts.Observation {
	o := alerts.Observation{Check: chk.Name, Regions: len(chk.Regions), At: now, CertDaysLeft: math.MaxInt32}
	var latest []results.Record
	for _, region := range chk.Regions {
		e, ok := s.series.get(chk.Name, region)
		if !ok {
			continue
		}
		latest = append(latest, e.rec)
		if !fresh(chk, e.rec, now) {
			continue
		}
		if !e.rec.OK {
			o.Failing = append(o.Failing, region)
			if o.Error == "" {
				o.Error = e.rec.Error
			}
		}
		if t := e.detail.TLS; t != nil && !t.EarliestChainExpiry.IsZero() {
			days := int(math.Floor(t.EarliestChainExpiry.Sub(now).Hours() / 24))
			o.CertDaysLeft, o.CertKnown = min(o.CertDaysLeft, days), true
		}
	}
	o.State = checkState(chk, latest, now)
	if chk.HideTarget {
		o.Error = ""
	} else {
		o.Target = chk.Target()
	}
	o.URL = checkLink(cfg.Server, chk.Name)
	if st, ok := s.slos.get(chk.Name); ok {
		for _, b := range results.BurnAlerts(st, results.BurnWindows(st.Spec.Window), 1) {
			o.Burns = append(o.Burns, alerts.Burn{
				Severity: alerts.Severity(b.Severity), Firing: b.Firing, Long: b.Long, Short: b.Short,
				LongRate: b.LongBurn, ShortRate: b.ShortBurn, Factor: b.Factor, BudgetRemaining: st.BudgetRemaining, ShortBad: b.ShortBad,
			})
		}
	}
	return o
}

// refreshSLOs evaluates the SLO of every check that has one.
func (s *Server) refreshSLOs(ctx context.Context, now time.Time) error {
	cfg := s.checks.Load().cfg
	maint := s.maintenance(cfg)
	fresh := map[string]results.SLOStatus{}
	var errs []error
	for _, chk := range cfg.Checks {
		if chk.SLO == nil {
			continue
		}
		st, err := EvaluateSLO(ctx, s.store, maint, chk, now)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		fresh[chk.Name] = st
	}
	s.slos.mu.Lock()
	s.slos.m = fresh
	s.slos.mu.Unlock()
	return errors.Join(errs...)
}

// maintenance returns every maintenance window: the config's and those
// made through the API (the engine has both).
func (s *Server) maintenance(cfg *config.Config) []alerts.Maintenance {
	if eng := s.engine(); eng != nil {
		return eng.Maintenance()
	}
	return cfg.Maintenance
}

// EvaluateSLO evaluates one check's SLO now, leaving out its windows of
// maint when the SLO says so (for the server and `vantage slo`).
func EvaluateSLO(ctx context.Context, r results.SLOReader, maint []alerts.Maintenance, chk config.Check, now time.Time) (results.SLOStatus, error) {
	if chk.SLO == nil {
		return results.SLOStatus{}, fmt.Errorf("check %s has no slo", chk.Name)
	}
	var exclude []results.Interval
	if chk.SLO.ExcludeMaintenance {
		for _, m := range maint {
			if !m.Covers(chk.Name) {
				continue
			}
			for _, iv := range m.Intervals(now.Add(-chk.SLO.WithDefaults().Window), now) {
				exclude = append(exclude, results.Interval{Start: iv[0], End: iv[1]})
			}
		}
	}
	return results.EvaluateSLO(ctx, r, chk.Name, *chk.SLO, exclude, now)
}

// checkLink is where a notification links a check: its JSON API page on
// the public URL when the public listener serves the API, else on the
// admin URL; none when neither is known (a link that answers 404 is worse
// than none).
func checkLink(srv config.Server, check string) string {
	base := srv.AdminURL
	if srv.PublicAPI {
		base = srv.ExternalURL
	}
	if base == "" {
		return ""
	}
	return base + "/api/v1/checks/" + url.PathEscape(check)
}
