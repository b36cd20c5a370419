// Package server is the composition root of `vantage serve`: it wires the
// config into the scheduler and probes, fans results out to the store, and
// serves the JSON API, the overview page and health endpoints. It also
// reloads the config and shuts everything down in order.
package server

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vantageprobe/vantage/alerts"
	"github.com/vantageprobe/vantage/config"
	"github.com/vantageprobe/vantage/probes"
	"github.com/vantageprobe/vantage/results"
	"github.com/vantageprobe/vantage/results/sqlite"
	"github.com/vantageprobe/vantage/scheduler"
	"github.com/vantageprobe/vantage/statuspage"
	"github.com/vantageprobe/vantage/tracing"
)

// LocalRegion is the server's own vantage point.
const LocalRegion = config.LocalRegion

// ShutdownGrace bounds how long in-flight probes may finish on shutdown.
const ShutdownGrace = 15 * time.Second

// Options configure a Server.
type Options struct {
	Config     *config.Config
	ConfigPath string // re-read by Reload; "" disables reloading
	Logger     *slog.Logger
	// Listener, when set, is used instead of listening on Config.Server.Listen.
	Listener net.Listener
	// LoadConfig reads ConfigPath on reload; default config.Load.
	LoadConfig func(path string) (*config.Config, error)
	// UptimeRefresh is how often vantage_check_uptime_ratio is recomputed
	// (default 1 minute).
	UptimeRefresh time.Duration
	// SLORefresh is how often SLOs and burn rates are evaluated (default
	// 30 seconds).
	SLORefresh time.Duration
}

// Server is a running Vantage server.
type Server struct {
	opts      Options
	log       *slog.Logger
	store     *sqlite.Store
	sched     *scheduler.Scheduler
	checks    atomic.Pointer[checkSet]
	browser   *probes.Browser // started on the first browser check; nil until then
	noBrowser error           // why there is no browser, when Chromium is missing
	ready     atomic.Bool
	agents    agents // status of the regions' agents
	series    seriesTable
	gzips     sync.Pool // *gzip.Writer for /metrics
	chunks    sync.Pool // *[]byte, the chunks /metrics is compressed in
	tracer    atomic.Pointer[tracing.Exporter]
	// alertStore keeps alert state and the outbox; alerting is the running
	// engine, replaced on reload; slos are the newest SLO statuses.
	alertStore *alerts.Store
	alerting   atomic.Pointer[alerting]
	firstAlert *alerts.Engine // built by New, started by Run
	slos       sloCache
	page       atomic.Pointer[statuspage.Page] // nil without status_page
	runCtx     context.Context                 // Run's, for engines started by a reload
	// probeSlots caps the concurrent /probe requests (sized at start-up).
	probeSlots chan struct{}
	uptimes    uptimeCache
	metrics    *metrics
	limits     limiter // the public listener's rate limit
	reload     sync.Mutex
	started    time.Time
}

// checkSet is the current config's checks, replaced whole on reload.
type checkSet struct {
	cfg    *config.Config
	byName map[string]config.Check
	// checkLabels are the escaped `check="…"` label pairs of cfg.Checks,
	// in order, for /metrics.
	checkLabels []string
	// adminToken is the SHA-256 of server.admin_token; nil: none is set.
	adminToken *[sha256.Size]byte
	series     int // check × regions configured
}

func newCheckSet(cfg *config.Config) *checkSet {
	cs := &checkSet{cfg: cfg, byName: make(map[string]config.Check, len(cfg.Checks))}
	for _, c := range cfg.Checks {
		cs.byName[c.Name] = c
		cs.checkLabels = append(cs.checkLabels, `check="`+escapeLabel(c.Name)+`"`)
		cs.series += len(c.Regions)
	}
	if tok := cfg.Server.AdminToken; tok != "" {
		h := sha256.Sum256([]byte(tok.Reveal()))
		cs.adminToken = &h
	}
	return cs
}

func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// New opens the store and schedules the checks; Run starts everything.
func New(ctx context.Context, o Options) (*Server, error) {
	if o.Config == nil {
		return nil, errors.New("server: no config")
	}
	if o.LoadConfig == nil {
		o.LoadConfig = config.Load
	}
	cfg := o.Config
	reg := prometheus.NewRegistry()
	store, err := sqlite.Open(ctx, sqlite.Options{
		Path: cfg.Storage.Path, QueueSize: cfg.Storage.QueueSize, RawRetention: cfg.Storage.Retention.Raw,
		RollupRetention: cfg.Storage.Retention.Rollups, HourRetention: cfg.Storage.Retention.Hourly, Logger: logger(o.Logger), Registerer: reg,
	})
	if err != nil {
		return nil, fmt.Errorf("open results store: %w", err)
	}
	s := &Server{opts: o, log: logger(o.Logger), store: store,
		probeSlots: make(chan struct{}, max(cfg.ProbeEndpoint.MaxConcurrent, 1))}
	tr, err := tracing.New(ctx, cfg.Tracing, s.log)
	if err != nil {
		_ = store.Close()
		return nil, fmt.Errorf("tracing: %w", err)
	}
	s.tracer.Store(tr)
	if s.alertStore, err = alerts.OpenStore(ctx, cfg.Storage.AlertsPath); err != nil {
		_ = tr.Shutdown(ctx)
		_ = store.Close()
		return nil, err
	}
	s.metrics = newMetrics(reg, s)
	if recs, lerr := store.Latest(ctx); lerr == nil { // /metrics shows the last results at once after a restart
		for _, rec := range recs {
			s.series.put(rec, nil, false)
		}
	}
	s.sched, err = scheduler.New(scheduler.Options{Recorder: recorder{s}, Logger: s.log})
	if err == nil {
		err = s.apply(cfg)
	}
	if err == nil {
		err = s.alertStore.SyncConfigIncidents(ctx, cfg.Incidents)
	}
	if err == nil {
		s.firstAlert, err = s.newEngine(ctx, cfg, true)
	}
	if err == nil {
		var p *statuspage.Page
		if p, err = s.newPage(cfg); p != nil {
			s.page.Store(p)
		}
	}
	if err != nil {
		if s.sched != nil {
			_ = s.sched.Shutdown(ctx)
		}
		if s.browser != nil {
			_ = s.browser.Close()
		}
		_ = store.Close()
		_ = s.alertStore.Close()
		return nil, err
	}
	return s, nil
}

// apply schedules cfg's checks and makes cfg current.
func (s *Server) apply(cfg *config.Config) error {
	jobs := make([]scheduler.Job, 0, len(cfg.Checks))
	for _, c := range cfg.Checks {
		if !c.InRegion(LocalRegion) {
			continue // probed by agents only
		}
		p, err := s.prober(cfg, c)
		if err != nil {
			return fmt.Errorf("check %s: %w", c.Name, err)
		}
		jobs = append(jobs, scheduler.Job{
			Check: c.Name, Region: LocalRegion, Interval: c.Interval, Timeout: c.Timeout,
			Prober: p, Version: c.Fingerprint(),
		})
	}
	if err := s.sched.Sync(jobs); err != nil {
		return fmt.Errorf("schedule checks: %w", err)
	}
	s.checks.Store(newCheckSet(cfg))
	return nil
}

// prober builds c's prober. Browser checks share one Chromium, started
// with the first of them; when Chromium is missing, their runs fail as
// "probe could not run" and every other check keeps working.
func (s *Server) prober(cfg *config.Config, c config.Check) (probes.Prober, error) {
	if c.Browser == nil {
		return c.Prober(nil)
	}
	if s.browser == nil && s.noBrowser == nil {
		s.browser, s.noBrowser = probes.NewBrowser(withLogger(cfg.Browser.Options(), s.log))
		if s.noBrowser != nil {
			s.log.Error("browser checks cannot run", "err", s.noBrowser)
		}
	}
	if s.noBrowser != nil {
		return probes.Unavailable(s.noBrowser), nil
	}
	return c.Prober(s.browser)
}

func withLogger(o probes.BrowserOptions, l *slog.Logger) probes.BrowserOptions {
	o.Logger = l
	return o
}

// Reload re-reads the config file. An invalid file is rejected with its
// problems (returned, for the caller to log or answer) and the running
// config stays.
func (s *Server) Reload(ctx context.Context) error {
	if s.opts.ConfigPath == "" {
		return errors.New("reload: the server was not started from a config file")
	}
	s.reload.Lock()
	defer s.reload.Unlock()
	cfg, err := s.opts.LoadConfig(s.opts.ConfigPath)
	if err != nil {
		return fmt.Errorf("config rejected, the running config stays: %w", err)
	}
	old := s.checks.Load().cfg
	// The listeners and the store are opened once; the rest of server
	// (tokens, rate limit, links) applies with the new check set.
	if cfg.Storage != old.Storage || cfg.Server.Listen != old.Server.Listen || cfg.Server.AdminListen != old.Server.AdminListen {
		s.log.Warn("config reload: changes to server.listen, server.admin_listen and storage take effect on restart")
	}
	if err := s.apply(cfg); err != nil {
		return fmt.Errorf("config not applied: %w", err)
	}
	s.series.retain(cfg)
	if !reflect.DeepEqual(cfg.Tracing, old.Tracing) {
		s.replaceTracer(ctx, cfg.Tracing)
	}
	// The checks run on the new config from here on, so a later step that
	// fails does not stop the others: each is reported.
	var errs []error
	if err := s.alertStore.SyncConfigIncidents(ctx, cfg.Incidents); err != nil {
		errs = append(errs, fmt.Errorf("config applied but incidents unchanged: %w", err))
	}
	if !reflect.DeepEqual(old.StatusPage, cfg.StatusPage) {
		if p, err := s.newPage(cfg); err != nil {
			errs = append(errs, fmt.Errorf("config applied but the status page unchanged: %w", err))
		} else {
			s.page.Store(p)
			if p != nil && s.runCtx != nil {
				go func() { _ = p.Refresh(s.runCtx) }()
			}
		}
	}
	s.incidentsChanged()
	if s.runCtx != nil && alertingChanged(old, cfg) {
		if eng, err := s.newEngine(ctx, cfg, true); err != nil {
			errs = append(errs, fmt.Errorf("config applied but alerting unchanged: %w", err))
		} else {
			s.startAlerting(s.runCtx, eng)
		}
	}
	return errors.Join(errs...)
}

// Store returns the results store (for tests and the demo).
func (s *Server) Store() results.Store { return s.store }

// Run serves until ctx ends, then shuts down: stop scheduling, let
// in-flight probes finish (bounded), flush every queued result, close the
// database.
func (s *Server) Run(ctx context.Context) error {
	ln := s.opts.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", s.checks.Load().cfg.Server.Listen); err != nil {
			_ = s.close(ctx)
			return fmt.Errorf("listen: %w", err)
		}
	}
	servers := []*http.Server{newHTTPServer(s.Handler())}
	listeners := []net.Listener{ln}
	if admin := s.checks.Load().cfg.Server.AdminListen; admin != "" {
		aln, err := net.Listen("tcp", admin)
		if err != nil {
			ln.Close()
			_ = s.close(ctx)
			return fmt.Errorf("admin listener (server.admin_listen %s; \"off\" for none): %w", admin, err)
		}
		servers = append(servers, newHTTPServer(s.AdminHandler()))
		listeners = append(listeners, aln)
	}
	s.started = time.Now()
	s.reload.Lock()
	s.runCtx = ctx
	s.startAlerting(ctx, s.firstAlert)
	s.reload.Unlock()
	actx, stopAlertLoop := context.WithCancel(ctx)
	alertLoopDone := make(chan struct{}, 2)
	go func() {
		defer func() { alertLoopDone <- struct{}{} }()
		s.alertLoop(actx)
	}()
	go func() {
		defer func() { alertLoopDone <- struct{}{} }()
		s.statusLoop(actx)
	}()
	s.sched.Start()
	uctx, stopUptimes := context.WithCancel(ctx)
	uptimesDone := make(chan struct{})
	go func() {
		defer close(uptimesDone)
		s.uptimeLoop(uctx, cmp.Or(s.opts.UptimeRefresh, time.Minute))
	}()
	s.ready.Store(true)
	s.log.Info("serving", "addr", ln.Addr().String(), "checks", len(s.checks.Load().cfg.Checks))
	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func() { errc <- srv.Serve(listeners[i]) }()
	}
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
		runErr = fmt.Errorf("serve: %w", runErr)
	}
	s.ready.Store(false)
	stopUptimes()
	<-uptimesDone
	stopAlertLoop()
	<-alertLoopDone
	<-alertLoopDone
	for _, srv := range servers {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		_ = srv.Shutdown(sctx)
		cancel()
	}
	return errors.Join(runErr, s.close(ctx))
}

func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

// close stops the scheduler (in-flight probes get ShutdownGrace) and then
// closes the store, which commits every queued result.
func (s *Server) close(ctx context.Context) error {
	gctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownGrace)
	defer cancel()
	err := s.sched.Shutdown(gctx)
	if s.browser != nil {
		err = errors.Join(err, s.browser.Close())
	}
	err = errors.Join(err, s.store.Close())
	s.stopAlerting()
	err = errors.Join(err, s.alertStore.Close())
	tctx, tcancel := context.WithTimeout(context.WithoutCancel(ctx), tracerShutdown)
	defer tcancel()
	if terr := s.tracer.Load().Shutdown(tctx); terr != nil {
		s.log.Warn("spans not all exported", "err", terr)
	}
	return err
}

// tracerShutdown bounds how long queued spans may take to export on
// shutdown or when a reload replaces the exporters.
const tracerShutdown = 5 * time.Second

// replaceTracer starts the exporters of a reloaded tracing config; the old
// ones flush in the background. A config the exporters refuse keeps the
// old ones.
func (s *Server) replaceTracer(ctx context.Context, cfg tracing.Config) {
	tr, err := tracing.New(ctx, cfg, s.log)
	if err != nil {
		s.log.Error("config reload: tracing unchanged", "err", err)
		return
	}
	old := s.tracer.Swap(tr)
	go func() {
		tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), tracerShutdown)
		defer cancel()
		_ = old.Shutdown(tctx)
	}()
}

// recorder fans each run out to the store and the metrics.
type recorder struct{ s *Server }

func (r recorder) Record(ctx context.Context, run scheduler.Run) error {
	detail := run.Result.Detail() // once: the stored JSON and the metrics' typed copy
	rec := results.FromResultDetail(run.Check, run.Region, run.Result, detail)
	// Never wait on the store: while the database fails or lags (a full
	// disk), probing, metrics and alerting go on, and a result that does
	// not fit in the store's queue is dropped and counted there.
	if _, err := r.s.store.WriteOrDrop(rec); err != nil {
		return err
	}
	r.s.observe(rec, &detail)
	return nil
}

// observe feeds a stored result to the metrics; detail is its typed detail
// when known (nil: decoded from rec).
func (s *Server) observe(rec results.Record, detail *probes.ReportDetail) {
	s.series.put(rec, detail, true)
	if c, ok := s.checks.Load().byName[rec.Check]; ok && c.HideTarget {
		rec.Target = "" // the exporter sends no target attributes and no error text then
	}
	s.tracer.Load().Export(rec)
}

// Runs returns how many results the scheduler has produced.
func (s *Server) Runs() int64 { return s.sched.Stats().Runs }

// alertingChanged reports whether a reload changes what the alert engine
// was built from.
func alertingChanged(old, cfg *config.Config) bool {
	return !reflect.DeepEqual(old.Alerts, cfg.Alerts) || !reflect.DeepEqual(old.Notifiers, cfg.Notifiers) ||
		old.AlertDefaults != cfg.AlertDefaults || !reflect.DeepEqual(old.AlertOverrides(), cfg.AlertOverrides()) ||
		!reflect.DeepEqual(old.Silences, cfg.Silences) || !reflect.DeepEqual(old.Maintenance, cfg.Maintenance) ||
		old.Server.ExternalURL != cfg.Server.ExternalURL
}
