package probes

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Browser defaults.
const (
	DefaultBrowserConcurrency = 2
	DefaultBrowserMemoryLimit = 1 << 30
	// browserCallTimeout bounds a DevTools call that should answer at once
	// (open a tab, evaluate, screenshot): one that takes longer while the run
	// still has time means the browser hangs.
	browserCallTimeout = 10 * time.Second
	browserStopTimeout = 3 * time.Second
	memCheckInterval   = time.Second
)

// errBrowserClosed is returned by runs on a closed Browser.
var errBrowserClosed = errors.New("browser closed")

// BrowserOptions configure the shared browser process.
type BrowserOptions struct {
	ExecPath       string // "" = first of chromium, chromium-browser, google-chrome on PATH
	MaxConcurrency int    // concurrent browser runs, default 2
	// MemoryLimit is in bytes, resident memory of the whole Chromium process
	// tree (summed PSS, so shared pages count once); above it the browser is
	// restarted between runs. Measured after a run, at most once a second.
	// Default 1 GiB.
	MemoryLimit int64
	Logger      *slog.Logger
}

// BrowserStats describe a Browser.
type BrowserStats struct {
	Starts    int64 // Chromium processes started
	Restarts  int64 // of those, replacements of a crashed, hung or too big one
	Runs      int64 // runs that got a tab
	InFlight  int   // runs holding a tab now
	Processes int   // live Chromium processes of this Browser
	RSS       int64 // bytes, resident memory of those processes (summed PSS)
}

// Browser is one long-lived Chromium process shared by every browser check
// of a Vantage process. It is started lazily on the first run, and
// restarted when it crashed, hung (a DevTools call timed out) or exceeded
// MemoryLimit. Each run gets a fresh incognito browser context and tab.
type Browser struct {
	execPath    string
	memoryLimit int64
	log         *slog.Logger
	callTimeout time.Duration
	sem         chan struct{} // run slots
	life        chan struct{} // one token: held while starting or stopping

	bg sync.WaitGroup // tabs closing after their run returned

	mu       sync.Mutex
	cur      *browserInstance
	closed   bool
	tooBig   bool          // RSS over the limit: restart once idle
	idle     chan struct{} // closed (and replaced) whenever inFlight drops to 0
	inFlight int
	// memChecked is when the size of the tree was last measured: reading
	// smaps_rollup of every process costs about 2 ms each.
	memChecked time.Time
	starts     int64
	restarts   int64
	runs       int64
}

// browserInstance is one Chromium process.
type browserInstance struct {
	ctx         context.Context // chromedp context of the browser
	cancel      context.CancelFunc
	allocCancel context.CancelFunc
	pid         int
	dir         string          // its --user-data-dir
	lost        <-chan struct{} // closed when the DevTools connection drops
	stopping    atomic.Bool
	hung        atomic.Bool
}

// dead reports whether the process went away without being stopped.
func (in *browserInstance) dead() bool {
	select {
	case <-in.lost:
		return !in.stopping.Load()
	default:
		return false
	}
}

// NewBrowser resolves the Chromium executable; the process itself starts
// with the first run.
func NewBrowser(o BrowserOptions) (*Browser, error) {
	path, err := findChromium(o.ExecPath)
	if err != nil {
		return nil, err
	}
	n := o.MaxConcurrency
	if n <= 0 {
		n = DefaultBrowserConcurrency
	}
	b := &Browser{
		execPath:    path,
		memoryLimit: cmp.Or(o.MemoryLimit, DefaultBrowserMemoryLimit),
		log:         o.Logger,
		callTimeout: browserCallTimeout,
		sem:         make(chan struct{}, n),
		life:        make(chan struct{}, 1),
		idle:        make(chan struct{}),
	}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	b.log = b.log.With("kind", KindBrowser)
	return b, nil
}

// Close stops Chromium, waits for it and removes its user-data-dir. Runs in
// flight fail with a prober error. Close is idempotent.
func (b *Browser) Close() error {
	b.life <- struct{}{}
	defer func() { <-b.life }()
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	cur := b.cur
	b.cur = nil
	b.mu.Unlock()
	var err error
	if cur != nil {
		err = b.stop(cur)
		b.log.Info("browser stopped")
	}
	b.bg.Wait()
	return err
}

// background runs fn, a run's cleanup, on its own goroutine; Close waits
// for it.
func (b *Browser) background(fn func()) { b.bg.Go(fn) }

// Stats returns counters and the current size of the process tree.
func (b *Browser) Stats() BrowserStats {
	b.mu.Lock()
	s := BrowserStats{Starts: b.starts, Restarts: b.restarts, Runs: b.runs, InFlight: b.inFlight}
	cur := b.cur
	b.mu.Unlock()
	if cur != nil {
		s.Processes, s.RSS = chromiumProcesses(cur.pid, cur.dir)
	}
	return s
}

// acquire waits for a run slot and a running browser. The caller must
// release the instance.
func (b *Browser) acquire(ctx context.Context) (*browserInstance, error) {
	select {
	case b.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for a browser slot: %w", ctx.Err())
	}
	for {
		select {
		case b.life <- struct{}{}:
		case <-ctx.Done():
			<-b.sem
			return nil, fmt.Errorf("wait for the browser: %w", ctx.Err())
		}
		inst, wait, err := b.ready(ctx)
		<-b.life
		if wait == nil {
			if err != nil {
				<-b.sem
			}
			return inst, err
		}
		select {
		case <-wait:
		case <-ctx.Done():
			<-b.sem
			return nil, fmt.Errorf("wait for the browser to restart: %w", ctx.Err())
		}
	}
}

// ready returns the running instance, replacing a dead, hung or too big one
// and starting one when there is none. It returns a channel to wait on when
// a restart must wait for the runs in flight. The caller holds b.life.
func (b *Browser) ready(ctx context.Context) (*browserInstance, <-chan struct{}, error) {
	b.mu.Lock()
	closed, cur, tooBig, inFlight, idle := b.closed, b.cur, b.tooBig, b.inFlight, b.idle
	b.mu.Unlock()
	switch {
	case closed:
		return nil, nil, errBrowserClosed
	case cur != nil && tooBig && inFlight > 0:
		return nil, idle, nil
	case cur != nil && (tooBig || cur.dead() || cur.hung.Load()):
		b.log.Warn("browser restarting", "err", restartReason(cur, tooBig))
		if err := b.stop(cur); err != nil {
			b.log.Warn("browser stop", "err", err)
		}
		b.mu.Lock()
		b.cur, b.tooBig = nil, false
		b.restarts++
		b.mu.Unlock()
	}
	b.mu.Lock()
	inst := b.cur
	b.mu.Unlock()
	if inst == nil {
		var err error
		if inst, err = b.start(ctx); err != nil {
			return nil, nil, err
		}
	}
	b.mu.Lock()
	b.cur = inst
	b.inFlight++
	b.runs++
	b.mu.Unlock()
	return inst, nil, nil
}

func restartReason(in *browserInstance, tooBig bool) error {
	switch {
	case in.dead():
		return errors.New("chromium exited")
	case in.hung.Load():
		return errors.New("a devtools call timed out")
	}
	return errors.New("memory limit exceeded")
}

// release returns a run's slot. hung marks the instance for a restart; a
// process tree over the memory limit is restarted once no run is in flight.
func (b *Browser) release(inst *browserInstance, hung bool) {
	if hung {
		inst.hung.Store(true)
	}
	b.mu.Lock()
	check := !hung && time.Since(b.memChecked) >= memCheckInterval
	if check {
		b.memChecked = time.Now()
	}
	b.mu.Unlock()
	over := false
	if check && !inst.dead() {
		_, rss := chromiumTree(inst.pid)
		over = rss > b.memoryLimit
	}
	b.mu.Lock()
	b.inFlight--
	if over && inst == b.cur {
		b.tooBig = true
	}
	if b.inFlight == 0 {
		close(b.idle)
		b.idle = make(chan struct{})
	}
	b.mu.Unlock()
	<-b.sem
}
