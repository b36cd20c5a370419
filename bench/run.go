package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"runtime"
	"time"
)

// Bounds of the run's waits.
const (
	readyLimit = 2 * time.Minute  // config load and database open at start-up
	stopGrace  = 45 * time.Second // SIGTERM → exit: in-flight probes, final flush, last agent push
	scrapeEach = 2 * time.Second  // /metrics and /proc samples in the window
)

type run struct {
	o      Options
	dir    string
	log    *slog.Logger
	hz     int64
	client *http.Client
	server *child
	agents []*child
}

// window is what was sampled over the measuring window.
type window struct {
	from, to   time.Time
	use0, use1 map[string]usage // by process ("server", "bench-a", …, "bench")
	m0, m1     sample
	maxRSS     map[string]int64
	depthMax   float64
	depthSum   float64
	depthN     int
	samples    []sampleAt // with Soak
}

func (r *run) do(ctx context.Context) (_ *Report, err error) {
	r.hz = clockTicks()
	r.client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 4}}
	defer r.client.CloseIdleConnections()
	f, err := startFarm(ctx, r.dir)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, f.Close()) }()
	var sf *soakFarm
	var soak *Soak
	if r.o.Soak {
		soak = &Soak{ChromiumBefore: chromiumProcesses()}
		if sf, err = startSoakFarm(); err != nil {
			return nil, err
		}
		defer func() { err = errors.Join(err, sf.Close()) }()
	}
	checks := plan(r.o)
	listen, err := freeAddr()
	if err != nil {
		return nil, err
	}
	admin, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cfg, tokens, err := writeConfig(r.o, f, sf, checks, listen, admin, r.dir)
	if err != nil {
		return nil, err
	}
	base := "http://" + listen
	defer r.stopAll() // on any early return, Ctrl-C included: no child outlives the bench
	r.log.Info("starting server", "checks", r.o.Checks, "config", cfg)
	if r.server, err = start("server", r.o.Command("serve", "-c", cfg, "--log-level", "info"), r.log); err != nil {
		return nil, err
	}
	if err := r.server.waitFor(ctx, "server ready (GET /readyz)", readyLimit, func() bool { return r.ready(ctx, base) }); err != nil {
		return nil, err
	}
	for _, region := range r.o.regions()[1:] {
		a, err := start(region, r.o.Command("agent", "--server", base, "--region", region, "--token-file", tokens[region],
			"--spool", filepath.Join(r.dir, region+"-spool.db"), "--log-level", "info"), r.log)
		if err != nil {
			return nil, err
		}
		r.agents = append(r.agents, a)
	}
	r.log.Info("warming up", "duration", r.o.Warmup)
	if err := r.sleepWatching(ctx, r.o.Warmup); err != nil {
		return nil, err
	}
	r.log.Info("measuring", "duration", r.o.Duration, "pprof", "http://"+admin+"/debug/pprof/")
	w, err := r.measure(ctx, base)
	if err != nil {
		return nil, err
	}
	rep := newReport(r.o, r.hz)
	if err := r.renders(ctx, base, rep); err != nil {
		return nil, err
	}
	r.log.Info("stopping")
	produced, err := r.stopAll()
	if err != nil {
		return nil, err
	}
	a, err := analyze(ctx, filepath.Join(r.dir, "bench.db"), checks, r.o, w.from, w.to, r.starts())
	if err != nil {
		return nil, err
	}
	rep.fill(w, a, produced)
	if soak != nil {
		for _, c := range checks {
			if c.hostile >= 0 {
				soak.HostileChecks++
			}
		}
		judge(w.samples, soak)
		finishSoak(soak, sf, rep.Results.Equal)
		rep.Soak = soak
	}
	return rep, nil
}

// freeAddr returns a free port on 127.0.0.1 for the server.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("listen on 127.0.0.1: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func (r *run) ready(ctx context.Context, base string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
	if err != nil {
		return false
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// children returns the running vantage processes, server first.
func (r *run) children() []*child {
	var cs []*child
	if r.server != nil {
		cs = append(cs, r.server)
	}
	return append(cs, r.agents...)
}

// sleepWatching waits d, failing early when a child exits.
func (r *run) sleepWatching(ctx context.Context, d time.Duration) error {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		for _, c := range r.children() {
			if c.exited() {
				return c.failure()
			}
		}
		if err := sleep(ctx, min(time.Until(end), 200*time.Millisecond)); err != nil {
			return err
		}
	}
	return nil
}

// usages reads every vantage process's usage and the bench's own.
func (r *run) usages() (map[string]usage, error) {
	m := map[string]usage{}
	for _, c := range r.children() {
		u, err := readUsage(fmt.Sprint(c.cmd.Process.Pid), r.hz)
		if err != nil {
			if c.exited() {
				return nil, c.failure()
			}
			return nil, fmt.Errorf("%s: %w", c.name, err)
		}
		m[c.name] = u
	}
	u, err := readUsage("self", r.hz)
	if err != nil {
		return nil, err
	}
	m["bench"] = u
	return m, nil
}

// measure samples the window: CPU at both ends, /metrics and RSS every
// scrapeEach.
func (r *run) measure(ctx context.Context, base string) (*window, error) {
	w := &window{maxRSS: map[string]int64{}}
	var err error
	if w.m0, err = scrape(ctx, r.client, base); err != nil {
		return nil, err
	}
	w.from = time.Now()
	if w.use0, err = r.usages(); err != nil {
		return nil, err
	}
	w.to = w.from.Add(r.o.Duration)
	for {
		left := time.Until(w.to)
		if left <= 0 {
			break
		}
		if err := r.sleepWatching(ctx, min(left, scrapeEach)); err != nil {
			return nil, err
		}
		u, err := r.usages()
		if err != nil {
			return nil, err
		}
		for name, x := range u {
			w.maxRSS[name] = max(w.maxRSS[name], x.rss)
		}
		if time.Until(w.to) > 0 {
			m, err := scrape(ctx, r.client, base)
			if err != nil {
				return nil, err
			}
			d := m.sum("vantage_results_queue_depth")
			w.depthMax, w.depthSum, w.depthN = max(w.depthMax, d), w.depthSum+d, w.depthN+1
			if r.o.Soak {
				s := sampleAt{at: time.Now(), rss: map[string]int64{}, goroutines: m.sum("go_goroutines")}
				for name, x := range u {
					if name != "bench" {
						s.rss[name] = x.rss
					}
				}
				w.samples = append(w.samples, s)
			}
		}
	}
	if w.use1, err = r.usages(); err != nil {
		return nil, err
	}
	w.to = time.Now()
	if w.m1, err = scrape(ctx, r.client, base); err != nil {
		return nil, err
	}
	d := w.m1.sum("vantage_results_queue_depth")
	w.depthMax, w.depthSum, w.depthN = max(w.depthMax, d), w.depthSum+d, w.depthN+1
	return w, nil
}

// renders times GET / and GET /metrics after the window.
func (r *run) renders(ctx context.Context, base string, rep *Report) error {
	ds, n, err := timedGET(ctx, r.client, base+"/", r.o.Renders)
	if err != nil {
		return err
	}
	rep.Render.Index = newTiming(ds, n)
	ds, n, err = timedGET(ctx, r.client, base+"/metrics", r.o.Renders)
	if err != nil {
		return err
	}
	rep.Render.Metrics = newTiming(ds, n)
	return nil
}

// stopAll stops the agents (each pushes what it holds), then the server
// (which flushes every queued result). It returns the results each
// process's scheduler produced, by region; it is safe to call twice.
func (r *run) stopAll() (map[string]*stopLine, error) {
	produced := map[string]*stopLine{}
	var errs []error
	for _, c := range append(r.agents[:len(r.agents):len(r.agents)], r.server) {
		if c == nil {
			continue
		}
		st, err := c.stop(stopGrace)
		errs = append(errs, err)
		region := c.name
		if c == r.server {
			region = "local"
		}
		produced[region] = st
	}
	return produced, errors.Join(errs...)
}

// starts returns when each region's process started.
func (r *run) starts() map[string]time.Time {
	m := map[string]time.Time{"local": r.server.started}
	for _, a := range r.agents {
		m[a.name] = a.started
	}
	return m
}

func cpus() int { return runtime.NumCPU() }
