// Package agent is a regional vantage point: it pulls its assignment from
// the server, probes with the same scheduler and probes as the server,
// keeps every result in a durable spool and pushes the spool to the server
// in order, so nothing is lost while the server is unreachable.
package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vantageprobe/vantage/config"
	"github.com/vantageprobe/vantage/probes"
	"github.com/vantageprobe/vantage/results"
	"github.com/vantageprobe/vantage/scheduler"
)

// Defaults.
const (
	DefaultPollInterval = 15 * time.Second
	DefaultPushInterval = time.Second
	pushBatch           = 1000
	maxBackoff          = 10 * time.Second // push retries while the server is unreachable
	Version             = "vantage-agent/1"
)

// Options configure an Agent.
type Options struct {
	Server       string        // base URL of the server, e.g. https://vantage.example.com
	Region       string        // this agent's region
	Token        probes.Secret // the region's token
	Spool        *Spool
	Browser      probes.BrowserOptions
	PollInterval time.Duration // assignment re-poll, default 15 s
	PushInterval time.Duration // spool push, default 1 s
	HTTPClient   *http.Client  // default: a client with a 30 s timeout
	// AssignmentFile keeps the last assignment, so that an agent restarted
	// while the server is down probes at once ("" = not kept).
	AssignmentFile string
	Logger         *slog.Logger
}

// Agent runs one region's checks.
type Agent struct {
	o       Options
	log     *slog.Logger
	sched   *scheduler.Scheduler
	etag    string
	mu      sync.Mutex
	browser *probes.Browser
	noBrow  error
	checks  int
	// rejected counts results the server refused, set aside.
	rejected atomic.Int64
}

// New builds an agent; Run starts it.
func New(o Options) (*Agent, error) {
	switch {
	case o.Server == "" || o.Region == "" || o.Token == "" || o.Spool == nil:
		return nil, errors.New("agent: server, region, token and spool are required")
	}
	if _, err := url.Parse(o.Server); err != nil {
		return nil, fmt.Errorf("agent: server URL: %w", err)
	}
	o.Server = strings.TrimSuffix(o.Server, "/")
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.PushInterval <= 0 {
		o.PushInterval = DefaultPushInterval
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	a := &Agent{o: o, log: o.Logger.With("region", o.Region)}
	var err error
	a.sched, err = scheduler.New(scheduler.Options{Recorder: spoolRecorder{o.Spool}, Logger: a.log})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// Runs returns how many results the agent's scheduler produced.
func (a *Agent) Runs() int64 { return a.sched.Stats().Runs }

// spoolRecorder puts every result in the spool first.
type spoolRecorder struct{ s *Spool }

func (r spoolRecorder) Record(ctx context.Context, run scheduler.Run) error {
	return r.s.Append(ctx, results.FromResult(run.Check, run.Region, run.Result))
}

// Run probes and pushes until ctx ends, then stops the scheduler (letting
// in-flight probes finish) and makes a last push attempt.
func (a *Agent) Run(ctx context.Context) error {
	a.loadAssignment()
	a.sched.Start()
	var wg sync.WaitGroup
	wg.Go(func() { a.pollLoop(ctx) })
	wg.Go(func() { a.pushLoop(ctx) })
	<-ctx.Done()
	wg.Wait()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	err := a.sched.Shutdown(sctx)
	_ = a.pushAll(sctx) // whatever is not pushed stays in the spool for the next start
	a.mu.Lock()
	if a.browser != nil {
		err = errors.Join(err, a.browser.Close())
	}
	a.mu.Unlock()
	return err
}

// pollLoop keeps the assignment current; while the server is unreachable
// the last assignment keeps running.
func (a *Agent) pollLoop(ctx context.Context) {
	for {
		wait := a.o.PollInterval
		if err := a.poll(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("assignment not updated, keeping the last one", "err", err)
			if a.etag == "" {
				wait = min(wait, time.Second) // no assignment from the server yet: ask again soon
			}
		}
		if !sleep(ctx, wait) {
			return
		}
	}
}

func (a *Agent) poll(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.o.Server+"/api/v1/agent/checks", nil)
	if err != nil {
		return fmt.Errorf("pull assignment: %w", err)
	}
	a.authorize(req)
	if a.etag != "" {
		req.Header.Set("If-None-Match", a.etag)
	}
	resp, err := a.o.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("pull assignment: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	switch {
	case err != nil:
		return fmt.Errorf("pull assignment: %w", err)
	case resp.StatusCode == http.StatusNotModified:
		return nil
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("pull assignment: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	cfg, err := config.ParseAssignment(body)
	if err != nil {
		return fmt.Errorf("assignment from the server: %w", err)
	}
	if err := a.apply(cfg); err != nil {
		return err
	}
	a.etag = resp.Header.Get("ETag")
	a.saveAssignment(body)
	return nil
}

// loadAssignment starts the last assignment kept on disk, if any.
func (a *Agent) loadAssignment() {
	if a.o.AssignmentFile == "" {
		return
	}
	doc, err := os.ReadFile(a.o.AssignmentFile)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	if err == nil {
		var cfg *config.Config
		if cfg, err = config.ParseAssignment(doc); err == nil {
			err = a.apply(cfg)
		}
	}
	if err != nil {
		a.log.Warn("last assignment not used", "err", err)
	}
}

// saveAssignment keeps doc for the next start (written whole or not at all).
func (a *Agent) saveAssignment(doc []byte) {
	if a.o.AssignmentFile == "" {
		return
	}
	tmp := a.o.AssignmentFile + ".tmp"
	err := os.WriteFile(tmp, doc, 0o600) // it holds the checks' secrets
	if err == nil {
		err = os.Rename(tmp, a.o.AssignmentFile)
	}
	if err != nil {
		a.log.Warn("assignment not kept on disk", "err", err)
	}
}

// apply schedules the assigned checks as this agent's region.
func (a *Agent) apply(cfg *config.Config) error {
	jobs := make([]scheduler.Job, 0, len(cfg.Checks))
	for _, c := range cfg.Checks {
		p, err := a.prober(c)
		if err != nil {
			return fmt.Errorf("check %s: %w", c.Name, err)
		}
		jobs = append(jobs, scheduler.Job{Check: c.Name, Region: a.o.Region, Interval: c.Interval, Timeout: c.Timeout, Prober: p, Version: c.Fingerprint()})
	}
	if err := a.sched.Sync(jobs); err != nil {
		return fmt.Errorf("schedule assignment: %w", err)
	}
	a.mu.Lock()
	changed := a.checks != len(jobs)
	a.checks = len(jobs)
	a.mu.Unlock()
	if changed {
		a.log.Info("assignment applied", "checks", len(jobs))
	}
	return nil
}

// prober builds c's prober; browser checks share one Chromium.
func (a *Agent) prober(c config.Check) (probes.Prober, error) {
	if c.Browser == nil {
		return c.Prober(nil)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.browser == nil && a.noBrow == nil {
		o := a.o.Browser
		o.Logger = a.log
		a.browser, a.noBrow = probes.NewBrowser(o)
	}
	if a.noBrow != nil {
		return probes.Unavailable(a.noBrow), nil
	}
	return c.Prober(a.browser)
}

// pushLoop pushes the spool in order, backing off while the server is
// unreachable or failing.
func (a *Agent) pushLoop(ctx context.Context) {
	wait := a.o.PushInterval
	failing := false
	for sleep(ctx, wait) {
		err := a.pushAll(ctx)
		switch {
		case err == nil:
			if failing {
				a.log.Info("pushing results again", "spooled", a.o.Spool.Stats().Records)
			}
			failing, wait = false, a.o.PushInterval
		case ctx.Err() != nil:
			return
		default:
			if !failing {
				a.log.Warn("cannot push results, keeping them in the spool", "err", err)
			}
			failing, wait = true, min(2*wait, maxBackoff)
		}
	}
}

// pushAll pushes the spool, oldest first, until it is empty.
func (a *Agent) pushAll(ctx context.Context) error {
	for {
		batch, err := a.o.Spool.Peek(ctx, pushBatch)
		if err != nil || len(batch) == 0 {
			return err
		}
		if err := a.deliver(ctx, batch); err != nil {
			return err
		}
		if err := a.o.Spool.Remove(ctx, batch[len(batch)-1].Seq); err != nil {
			return err
		}
	}
}

// deliver pushes batch. A batch the server refuses as such (400, 403,
// 413: a result it will never take, such as one of a kind a server older
// than the agent does not know) is split in halves until the refused
// results are alone; those
// are set aside, logged and counted, so that one bad result cannot hold
// the spool up for good. Other failures (the server down, 401, 429, 5xx)
// keep everything for the next try.
func (a *Agent) deliver(ctx context.Context, batch []Spooled) error {
	err := a.push(ctx, batch)
	var refused *refusedError
	if !errors.As(err, &refused) {
		return err
	}
	if len(batch) == 1 {
		r := batch[0].Record
		a.rejected.Add(1)
		a.log.Error("the server refused a result; set aside", "check", r.Check, "id", r.ID, "started", r.Started, "err", err)
		return nil
	}
	half := len(batch) / 2
	if err := a.deliver(ctx, batch[:half]); err != nil {
		return err
	}
	return a.deliver(ctx, batch[half:])
}

// Rejected returns how many results the server refused and the agent set
// aside since it started.
func (a *Agent) Rejected() int64 { return a.rejected.Load() }

// refusedError is a push the server refused because of what the batch
// holds.
type refusedError struct{ err error }

func (e *refusedError) Error() string { return e.err.Error() }
func (e *refusedError) Unwrap() error { return e.err }

// ingestBatch mirrors the server's ingest body.
type ingestBatch struct {
	Agent struct {
		Version      string    `json:"version"`
		Now          time.Time `json:"now"`
		SpoolDepth   int64     `json:"spool_depth"`
		SpoolDropped int64     `json:"spool_dropped"`
	} `json:"agent"`
	Results []results.Record `json:"results"`
}

func (a *Agent) push(ctx context.Context, batch []Spooled) error {
	var b ingestBatch
	st := a.o.Spool.Stats()
	b.Agent.Version, b.Agent.Now, b.Agent.SpoolDepth, b.Agent.SpoolDropped = Version, time.Now().UTC(), st.Records, st.Dropped
	b.Results = make([]results.Record, len(batch))
	for i, s := range batch {
		b.Results[i] = s.Record
	}
	body, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("encode batch: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.o.Server+"/api/v1/agent/results", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("push results: %w", err)
	}
	a.authorize(req)
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.o.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("push results: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		err := fmt.Errorf("push results: %s: %s", resp.Status, strings.TrimSpace(string(msg)))
		switch resp.StatusCode {
		case http.StatusBadRequest, http.StatusForbidden, http.StatusRequestEntityTooLarge:
			return &refusedError{err}
		}
		return err
	}
	return nil
}

func (a *Agent) authorize(req *http.Request) {
	req.Header.Set("Authorization", "Bearer "+a.o.Token.Reveal())
	req.Header.Set("User-Agent", Version)
}

// sleep waits d or until ctx ends; it reports whether to go on.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
