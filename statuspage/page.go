package statuspage

import (
	"cmp"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

//go:embed static/status.css
var stylesheet []byte

// Option defaults.
const (
	DefaultTTL          = 30 * time.Second
	DefaultHistoryTTL   = time.Hour
	DefaultBuildTimeout = 30 * time.Second
	DefaultWorkers      = 4
	// minuteLag is how long minute rollups stay open: results of the last
	// few minutes still arrive (agents push in batches) and are re-read.
	minuteLag = 3 * time.Minute
	// retryFailed is how long after a failed build the page waits before
	// reading the Source again.
	retryFailed = time.Second
)

// Options configure a Page. Zero values take the defaults.
type Options struct {
	Logger *slog.Logger     // default: discard
	Now    func() time.Time // default time.Now
	// TTL bounds the age of the rendered page and of the rollups it shows
	// (the bars and charts change even when no state does); default 30s.
	TTL time.Duration
	// HistoryTTL is how often the completed days of the 90 are read again
	// from day rollups, for late results from agents (a day that changed
	// has its local-day edges and, today and yesterday, its minutes read
	// again); default 1h.
	HistoryTTL time.Duration
	// BuildTimeout bounds one read of the Source; default 30s.
	BuildTimeout time.Duration
	// Workers bounds the rollup queries run at once; default 4.
	Workers int
	// PathPrefix is where the handler is mounted ("/status" when served
	// under http.StripPrefix("/status", …)); links are made with it.
	PathPrefix string
}

// Page is the public status page. It is safe for concurrent use.
type Page struct {
	cfg      Config
	src      Source
	log      *slog.Logger
	now      func() time.Time
	ttl      time.Duration
	timeout  time.Duration
	prefix   string
	baseURL  string
	title    string
	loc      *time.Location
	vis      visibility
	cssName  string
	css      *response
	notFound *response
	handler  http.Handler

	gen  atomic.Uint64
	snap atomic.Pointer[snapshot]
	// stale asks the next build to read the new minutes too: what changed
	// a state is in them.
	stale atomic.Bool
	// slot is a one-slot semaphore: whoever holds it reads the Source and
	// owns cache, cacheAt and failedAt.
	slot     chan struct{}
	cache    rollupCache
	cacheAt  time.Time
	failedAt time.Time
	// week has its own locks: it is read while a component's page renders.
	week weekCache
}

// New validates cfg and returns a page reading src.
func New(cfg Config, src Source, o Options) (*Page, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("status page: %w", err)
	}
	if src == nil {
		return nil, errors.New("status page: no source")
	}
	if o.PathPrefix != "" && (!strings.HasPrefix(o.PathPrefix, "/") || strings.HasSuffix(o.PathPrefix, "/") ||
		strings.Contains(o.PathPrefix, "//") || strings.ContainsAny(o.PathPrefix, "?#\\ \"'<>")) {
		return nil, fmt.Errorf("status page: path prefix %q must be a path like /status (a leading /, no trailing one)", o.PathPrefix)
	}
	p := &Page{
		cfg: cfg, src: src, log: o.Logger, now: o.Now, ttl: o.TTL, timeout: o.BuildTimeout,
		prefix: o.PathPrefix, baseURL: strings.TrimSuffix(cfg.URL, "/"), title: cfg.Title,
		vis: newVisibility(cfg), slot: make(chan struct{}, 1),
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.now == nil {
		p.now = time.Now
	}
	p.ttl = cmp.Or(p.ttl, DefaultTTL)
	p.timeout = cmp.Or(p.timeout, DefaultBuildTimeout)
	if p.title == "" {
		p.title = DefaultTitle
	}
	loc, err := time.LoadLocation(cmp.Or(cfg.TimeZone, "UTC"))
	if err != nil {
		return nil, fmt.Errorf("status page: time zone: %w", err)
	}
	p.loc = loc
	p.cache = rollupCache{src: src, loc: loc, workers: cmp.Or(o.Workers, DefaultWorkers),
		historyTTL: cmp.Or(o.HistoryTTL, DefaultHistoryTTL), lag: minuteLag}
	p.week = weekCache{src: src, lag: minuteLag}
	sum := sha256.Sum256(stylesheet)
	p.cssName = "status." + hex.EncodeToString(sum[:])[:12] + ".css"
	p.css = newResponse(http.StatusOK, "text/css; charset=utf-8", cacheImmutable, stylesheet, time.Time{})
	if p.notFound, err = p.renderError(context.Background(), http.StatusNotFound, "Not found"); err != nil {
		return nil, fmt.Errorf("status page: %w", err)
	}
	p.handler = p.routes()
	return p, nil
}

// Handler serves the page's routes (see routes.go), GET and HEAD only.
func (p *Page) Handler() http.Handler { return p.handler }

// Invalidate drops the rendered page: the next request reads the states,
// incidents and maintenance again, and the rollups' new minutes, so that
// the bars, uptime and charts agree with a state that changed. Call it when
// a check's state changes or an incident or maintenance window is added,
// updated or resolved. It does not block.
func (p *Page) Invalidate() {
	p.stale.Store(true)
	p.gen.Add(1)
}

// Refresh reads the Source now and replaces the rendered page, blocking
// until done. The server may call it at start-up (in the background: the
// first read of 24 hours of minute rollups takes a while for many checks),
// so that no visitor waits for it.
func (p *Page) Refresh(ctx context.Context) error {
	select {
	case p.slot <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("refresh status page: %w", ctx.Err())
	}
	defer func() { <-p.slot }()
	_, err := p.rebuild(ctx)
	return err
}

// current returns a snapshot no older than the TTL and of the current
// generation, building one when needed. While another request builds, the
// previous snapshot is served; only the very first requests wait.
func (p *Page) current(ctx context.Context) (*snapshot, error) {
	s := p.snap.Load()
	if p.fresh(s) {
		return s, nil
	}
	if s != nil {
		select {
		case p.slot <- struct{}{}:
		default:
			return s, nil // being rebuilt: the previous one will do
		}
	} else {
		select {
		case p.slot <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	defer func() { <-p.slot }()
	if s = p.snap.Load(); p.fresh(s) {
		return s, nil
	}
	if !p.failedAt.IsZero() && p.now().Sub(p.failedAt) < retryFailed {
		if s != nil {
			return s, nil
		}
		return nil, errors.New("status page: source unavailable")
	}
	// The build outlives a visitor who leaves: the next one gets it.
	failing := !p.failedAt.IsZero()
	ns, err := p.rebuild(context.WithoutCancel(ctx))
	switch {
	case err != nil && !failing:
		p.log.Error("status page source failed", "err", err)
	case err == nil && failing:
		p.log.Info("status page source recovered")
	}
	if err != nil {
		if s != nil {
			return s, nil // stale beats nothing
		}
		return nil, err
	}
	return ns, nil
}

// rebuild reads the Source and stores a new snapshot; the caller holds the
// build slot. A failure is remembered in failedAt, so that requests do not
// retry it more than once a second.
func (p *Page) rebuild(ctx context.Context) (*snapshot, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	s, err := p.build(ctx, p.now(), p.gen.Load())
	if err != nil {
		p.failedAt = p.now()
		return nil, fmt.Errorf("status page: %w", err)
	}
	p.failedAt = time.Time{}
	p.snap.Store(s)
	return s, nil
}

// fresh reports whether s can be served as it is.
func (p *Page) fresh(s *snapshot) bool {
	if s == nil || s.gen != p.gen.Load() {
		return false
	}
	age := p.now().Sub(s.built)
	return age >= 0 && age < p.ttl
}
