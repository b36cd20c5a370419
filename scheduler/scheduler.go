// Package scheduler decides when probes run: one singleton job per
// check × region on gocron, start times spread deterministically over the
// interval, a global limit on in-flight probes, and Sync on reload that
// leaves untouched checks on their schedule. It hands every result to a
// Recorder and knows nothing of storage.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/google/uuid"
	"github.com/jonboulle/clockwork"

	"github.com/vantageprobe/vantage/probes"
)

// DefaultMaxInFlight is the default global limit of concurrent probes.
const DefaultMaxInFlight = 256

// Job is one check probed from one region.
type Job struct {
	Check    string
	Region   string
	Interval time.Duration
	Timeout  time.Duration // per-run deadline, ≤ Interval
	Prober   probes.Prober
	// Version identifies the job's configuration: Sync restarts a job
	// whose Version changed and leaves the others alone.
	Version string
}

func (j Job) key() string { return j.Check + "\x00" + j.Region }

// Run is one execution of a job.
type Run struct {
	Check   string
	Region  string
	Planned time.Time // the slot the run belongs to
	Lag     time.Duration
	Result  probes.Result
}

// Recorder receives every run; the scheduler declares what it needs.
type Recorder interface {
	Record(ctx context.Context, run Run) error
}

// Options configure a Scheduler.
type Options struct {
	Recorder    Recorder
	MaxInFlight int // default DefaultMaxInFlight
	Logger      *slog.Logger
	Clock       clockwork.Clock // default: the real clock
}

// Stats are the scheduler's counters.
type Stats struct {
	Jobs     int
	Runs     int64         // runs that produced a result
	Overruns int64         // runs skipped because the previous one still ran or no slot was free in time
	Errors   int64         // probes that could not run, and recorder errors
	Aborted  int64         // runs cancelled by Shutdown, not recorded
	InFlight int64         // probes running now
	MaxLag   time.Duration // largest planned → actual start delay seen
}

// Scheduler runs jobs.
type Scheduler struct {
	opts  Options
	cron  gocron.Scheduler
	sem   chan struct{}
	ctx   context.Context // cancelled by Shutdown: ends in-flight probes
	stop  context.CancelFunc
	mu    sync.Mutex
	jobs  map[string]entry
	stats struct {
		runs, overruns, errors, aborted, inFlight, maxLag atomic.Int64
	}
}

type entry struct {
	id      uuid.UUID
	version string
}

// New builds a stopped scheduler.
func New(o Options) (*Scheduler, error) {
	if o.Recorder == nil {
		return nil, errors.New("scheduler: a Recorder is required")
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = DefaultMaxInFlight
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	s := &Scheduler{opts: o, sem: make(chan struct{}, o.MaxInFlight), jobs: map[string]entry{}}
	s.ctx, s.stop = context.WithCancel(context.Background())
	cron, err := gocron.NewScheduler(
		gocron.WithClock(o.Clock),
		gocron.WithLocation(time.UTC),
		gocron.WithStopTimeout(time.Minute),
	)
	if err != nil {
		return nil, fmt.Errorf("new gocron scheduler: %w", err)
	}
	s.cron = cron
	return s, nil
}

// Start begins running jobs.
func (s *Scheduler) Start() { s.cron.Start() }

// Sync makes the running jobs equal to jobs: new ones start on their
// slots, removed ones stop, changed ones (Version) restart, and the rest
// keep their schedule untouched.
func (s *Scheduler) Sync(jobs []Job) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	want := make(map[string]Job, len(jobs))
	for _, j := range jobs {
		if err := validate(j); err != nil {
			return err
		}
		if _, dup := want[j.key()]; dup {
			return fmt.Errorf("scheduler: job %s/%s given twice", j.Check, j.Region)
		}
		want[j.key()] = j
	}
	var errs []error
	for k, e := range s.jobs {
		if j, ok := want[k]; ok && j.Version == e.version {
			delete(want, k) // untouched
			continue
		}
		if err := s.cron.RemoveJob(e.id); err != nil && !errors.Is(err, gocron.ErrJobNotFound) {
			errs = append(errs, fmt.Errorf("remove job: %w", err))
		}
		delete(s.jobs, k)
	}
	for k, j := range want {
		id, err := s.add(j)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.jobs[k] = entry{id: id, version: j.Version}
	}
	return errors.Join(errs...)
}

func validate(j Job) error {
	switch {
	case j.Check == "" || j.Region == "":
		return errors.New("scheduler: job needs a check and a region")
	case j.Interval <= 0:
		return fmt.Errorf("scheduler: job %s/%s: interval must be positive", j.Check, j.Region)
	case j.Timeout <= 0 || j.Timeout > j.Interval:
		return fmt.Errorf("scheduler: job %s/%s: timeout must be positive and at most the interval", j.Check, j.Region)
	case j.Prober == nil:
		return fmt.Errorf("scheduler: job %s/%s: no prober", j.Check, j.Region)
	}
	return nil
}

// add schedules j on its first slot after now.
func (s *Scheduler) add(j Job) (uuid.UUID, error) {
	off := offset(j.Check, j.Region, j.Interval)
	first := nextSlot(s.opts.Clock.Now(), j.Interval, off)
	g := &guard{}
	// Singleton behaviour comes from guard rather than gocron's
	// WithSingletonMode, which keeps a goroutine and a 1,000-slot channel
	// (16 KB) per job: 16 MB for 1,000 checks.
	job, err := s.cron.NewJob(
		gocron.DurationJob(j.Interval),
		gocron.NewTask(func() { s.run(j, off, g) }),
		gocron.WithName(j.Check+"/"+j.Region),
		gocron.WithStartAt(gocron.WithStartDateTimePast(first)),
	)
	if err != nil {
		return uuid.UUID{}, fmt.Errorf("schedule %s/%s: %w", j.Check, j.Region, err)
	}
	return job.ID(), nil
}

// run executes one probe of j, bounded by its timeout and the global
// in-flight limit, and records the result.
func (s *Scheduler) run(j Job, off time.Duration, g *guard) {
	start := s.opts.Clock.Now()
	planned := plannedSlot(start, j.Interval, off)
	if !g.running.CompareAndSwap(false, true) {
		s.overrun(j, g, "previous run still in progress")
		return
	}
	// The job is free again before its probe slot is: once InFlight reads
	// 0, no run holds its job, and the next slot of any job runs. One
	// deferred call, so that a panic anywhere below frees both.
	acquired := false
	defer func() {
		g.running.Store(false)
		if acquired {
			s.release()
		}
	}()
	if prev := g.last.Swap(planned.UnixNano()); prev >= planned.UnixNano() {
		return // this slot already ran (a timer fired twice)
	}
	if !s.acquire(planned.Add(j.Interval)) {
		s.overrun(j, g, "no free probe slot before the next run")
		return
	}
	acquired = true
	if g.overrunning.Swap(false) {
		s.opts.Logger.Info("probes on time again", "check", j.Check, "region", j.Region)
	}
	lag := s.opts.Clock.Since(planned)
	s.noteLag(lag)
	// The run ends by its timeout, which ends before the next slot when
	// the run starts on time (a hanging target does not make the next run
	// skip). A run that started late keeps its whole timeout all the same:
	// cutting it to what is left of the interval would record timeouts
	// that are the scheduler's, not the target's. If it then overlaps its
	// next slot, that run is skipped and counted as an overrun.
	deadline := time.Now().Add(min(j.Timeout, j.Interval-time.Millisecond))
	ctx, cancel := context.WithDeadline(s.ctx, deadline)
	res, err := j.Prober.Probe(ctx)
	cancel()
	if s.ctx.Err() != nil {
		s.stats.aborted.Add(1) // shutdown cancelled it: not a verdict on the target
		return
	}
	if err != nil {
		s.stats.errors.Add(1)
		if !g.broken.Swap(true) {
			s.opts.Logger.Error("probe could not run", "check", j.Check, "region", j.Region, "err", err)
		}
		return
	}
	if g.broken.Swap(false) {
		s.opts.Logger.Info("probe runs again", "check", j.Check, "region", j.Region)
	}
	s.stats.runs.Add(1)
	run := Run{Check: j.Check, Region: j.Region, Planned: planned, Lag: lag, Result: res}
	// Record with the scheduler's context, not the probe's expired one.
	if err := s.opts.Recorder.Record(context.WithoutCancel(s.ctx), run); err != nil {
		s.stats.errors.Add(1)
		s.opts.Logger.Error("record result", "check", j.Check, "region", j.Region, "err", err)
	}
}

// guard keeps the runs of one job apart: one at a time, one per slot.
type guard struct {
	running     atomic.Bool
	overrunning atomic.Bool  // the last run was skipped (logged once until a run is on time)
	broken      atomic.Bool  // the prober could not run (logged once until it runs)
	last        atomic.Int64 // the latest slot run, unix nanos
}

// overrun counts a skipped run and logs when a job starts skipping.
func (s *Scheduler) overrun(j Job, g *guard, why string) {
	s.stats.overruns.Add(1)
	if !g.overrunning.Swap(true) {
		s.opts.Logger.Warn("probe skipped", "check", j.Check, "region", j.Region, "err", why)
	}
}

// acquire takes an in-flight slot, waiting until deadline at most.
func (s *Scheduler) acquire(deadline time.Time) bool {
	select {
	case s.sem <- struct{}{}:
		s.stats.inFlight.Add(1)
		return true
	default:
	}
	t := s.opts.Clock.NewTimer(s.opts.Clock.Until(deadline))
	defer t.Stop()
	select {
	case s.sem <- struct{}{}:
		s.stats.inFlight.Add(1)
		return true
	case <-t.Chan():
		return false
	case <-s.ctx.Done():
		return false
	}
}

func (s *Scheduler) release() {
	s.stats.inFlight.Add(-1)
	<-s.sem
}

func (s *Scheduler) noteLag(lag time.Duration) {
	for {
		cur := s.stats.maxLag.Load()
		if int64(lag) <= cur || s.stats.maxLag.CompareAndSwap(cur, int64(lag)) {
			return
		}
	}
}

// Stats returns the scheduler's counters.
func (s *Scheduler) Stats() Stats {
	s.mu.Lock()
	n := len(s.jobs)
	s.mu.Unlock()
	return Stats{
		Jobs: n, Runs: s.stats.runs.Load(), Overruns: s.stats.overruns.Load(), Errors: s.stats.errors.Load(), Aborted: s.stats.aborted.Load(),
		InFlight: s.stats.inFlight.Load(), MaxLag: time.Duration(s.stats.maxLag.Load()),
	}
}

// NextRun returns when the job of check × region runs next (zero if unknown).
func (s *Scheduler) NextRun(check, region string) time.Time {
	s.mu.Lock()
	e, ok := s.jobs[Job{Check: check, Region: region}.key()]
	s.mu.Unlock()
	if !ok {
		return time.Time{}
	}
	for _, j := range s.cron.Jobs() {
		if j.ID() == e.id {
			t, _ := j.NextRun()
			return t
		}
	}
	return time.Time{}
}

// Shutdown stops scheduling and waits for in-flight probes (and their
// recording) until ctx ends; then it cancels the probes still running.
//
// Once stopped it logs its final counters at info level ("scheduler
// stopped", runs = results handed to the Recorder): `vantage bench`
// compares them with the results stored.
func (s *Scheduler) Shutdown(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- s.cron.Shutdown() }()
	var err error
	select {
	case err = <-done:
		s.stop()
	case <-ctx.Done():
		s.stop() // cancel in-flight probes; their results are still recorded
		err = <-done
	}
	st := s.Stats()
	s.opts.Logger.Info("scheduler stopped", "runs", st.Runs, "errors", st.Errors, "overruns", st.Overruns, "aborted", st.Aborted)
	if err != nil {
		return fmt.Errorf("stop scheduler: %w", err)
	}
	return nil
}
