package scheduler

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/vantageprobe/vantage/probes"
)

// recorder collects runs.
type recorder struct {
	mu   sync.Mutex
	runs []Run
	ch   chan Run
}

func newRecorder() *recorder { return &recorder{ch: make(chan Run, 1024)} }

func (r *recorder) Record(_ context.Context, run Run) error {
	r.mu.Lock()
	r.runs = append(r.runs, run)
	r.mu.Unlock()
	r.ch <- run
	return nil
}

// next waits for the next recorded run.
func (r *recorder) next(t *testing.T) Run {
	t.Helper()
	select {
	case run := <-r.ch:
		return run
	case <-time.After(5 * time.Second):
		t.Fatal("no run recorded within 5s")
		return Run{}
	}
}

// prober is a fake prober: it counts concurrent calls and can block.
type prober struct {
	block    chan struct{} // nil: return at once
	inFlight atomic.Int64
	maxSeen  atomic.Int64
	deadline atomic.Int64 // last ctx deadline seen, unix nanos
}

func (p *prober) Probe(ctx context.Context) (probes.Result, error) {
	n := p.inFlight.Add(1)
	defer p.inFlight.Add(-1)
	for {
		m := p.maxSeen.Load()
		if n <= m || p.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	if d, ok := ctx.Deadline(); ok {
		p.deadline.Store(d.UnixNano())
	}
	if p.block != nil {
		select {
		case <-p.block:
		case <-ctx.Done():
		}
	}
	return probes.Result{OK: true}, nil
}

func newFake(t *testing.T, rec Recorder, maxInFlight int) (*Scheduler, *clockwork.FakeClock) {
	t.Helper()
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	s, err := New(Options{Recorder: rec, Clock: clock, MaxInFlight: maxInFlight})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	return s, clock
}

// advanceTo moves the fake clock to at, once the jobs of checks have their
// next runs planned at or after it and gocron waits on the clock.
func advanceTo(t *testing.T, s *Scheduler, clock *clockwork.FakeClock, at time.Time, checks ...string) {
	t.Helper()
	for _, c := range checks {
		waitFor(t, func() bool { return !s.NextRun(c, "local").IsZero() })
	}
	waitFor(t, func() bool { return !s.NextRun(checks[len(checks)-1], "local").Before(at) })
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatalf("scheduler never waited on the clock: %v", err)
	}
	clock.Advance(at.Sub(clock.Now()))
}

func TestRunsOnDeterministicSlots(t *testing.T) {
	rec := newRecorder()
	s, clock := newFake(t, rec, 0)
	const interval = 30 * time.Second
	p := &prober{}
	if err := s.Sync([]Job{{Check: "api", Region: "local", Interval: interval, Timeout: 5 * time.Second, Prober: p, Version: "1"}}); err != nil {
		t.Fatal(err)
	}
	s.Start()
	off := offset("api", "local", interval)
	want := nextSlot(clock.Now(), interval, off)
	for i := range 3 {
		advanceTo(t, s, clock, want, "api")
		run := rec.next(t)
		if !run.Planned.Equal(want) || run.Check != "api" || run.Region != "local" {
			t.Fatalf("run %d planned %s, want %s", i, run.Planned, want)
		}
		if run.Lag != 0 {
			t.Fatalf("lag %s with a fake clock", run.Lag)
		}
		// Probes run on real time: the deadline is the run's timeout from now.
		if left := time.Until(time.Unix(0, p.deadline.Load())); left > 5*time.Second || left < 4*time.Second {
			t.Fatalf("probe deadline %s away, want the 5s timeout", left)
		}
		want = want.Add(interval)
		// The run is recorded before it ends: the next slot would find it
		// still running, an overrun, if the clock moved on before that.
		waitFor(t, func() bool { return s.Stats().InFlight == 0 })
	}
	if time.Duration(rec.runs[0].Planned.UnixNano())%interval != off {
		t.Fatalf("slot not on the check's offset")
	}
}

func TestSpreadIsEvenAndStable(t *testing.T) {
	const interval = 60 * time.Second
	var buckets [10]int
	for i := range 1000 {
		off := offset(fmt.Sprintf("check-%d", i), "local", interval)
		if off != offset(fmt.Sprintf("check-%d", i), "local", interval) {
			t.Fatal("offset is not deterministic")
		}
		buckets[off*10/interval]++
	}
	for i, n := range buckets {
		if n < 60 || n > 140 {
			t.Fatalf("bucket %d holds %d of 1000 checks: %v", i, n, buckets)
		}
	}
	if offset("api", "eu", interval) == offset("api", "us", interval) {
		t.Fatal("regions of one check share a slot")
	}
}

func TestNoOverlap(t *testing.T) {
	rec := newRecorder()
	s, clock := newFake(t, rec, 0)
	const interval = 10 * time.Second
	p := &prober{block: make(chan struct{})}
	if err := s.Sync([]Job{{Check: "slow", Region: "local", Interval: interval, Timeout: interval, Prober: p, Version: "1"}}); err != nil {
		t.Fatal(err)
	}
	s.Start()
	first := nextSlot(clock.Now(), interval, offset("slow", "local", interval))
	advanceTo(t, s, clock, first, "slow")
	waitFor(t, func() bool { return p.inFlight.Load() == 1 })
	// The next slot comes while the first run still blocks: it is skipped.
	advanceTo(t, s, clock, first.Add(interval), "slow")
	waitFor(t, func() bool { return s.Stats().Overruns == 1 })
	close(p.block)
	rec.next(t)
	if p.maxSeen.Load() != 1 {
		t.Fatalf("%d runs of one job overlapped", p.maxSeen.Load())
	}
}

func TestGlobalInFlightLimit(t *testing.T) {
	rec := newRecorder()
	s, clock := newFake(t, rec, 2)
	p := &prober{block: make(chan struct{})}
	var jobs []Job
	for i := range 5 {
		jobs = append(jobs, Job{Check: fmt.Sprintf("c%d", i), Region: "local", Interval: time.Minute, Timeout: time.Minute, Prober: p, Version: "1"})
	}
	if err := s.Sync(jobs); err != nil {
		t.Fatal(err)
	}
	s.Start()
	at, last := latestNextRun(t, s, "c0", "c1", "c2", "c3", "c4")
	advanceTo(t, s, clock, at, last)
	waitFor(t, func() bool { return p.inFlight.Load() == 2 })
	close(p.block)
	for range 5 {
		rec.next(t)
	}
	if p.maxSeen.Load() != 2 {
		t.Fatalf("max in flight %d, limit 2", p.maxSeen.Load())
	}
}

func TestSyncKeepsUntouchedSchedules(t *testing.T) {
	rec := newRecorder()
	s, clock := newFake(t, rec, 0)
	p := &prober{}
	job := func(name, version string) Job {
		return Job{Check: name, Region: "local", Interval: time.Hour, Timeout: time.Minute, Prober: p, Version: version}
	}
	if err := s.Sync([]Job{job("keep", "1"), job("change", "1"), job("remove", "1")}); err != nil {
		t.Fatal(err)
	}
	s.Start()
	waitFor(t, func() bool { return !s.NextRun("keep", "local").IsZero() })
	before := s.NextRun("keep", "local")
	clock.Advance(time.Minute) // no slot passes: an hourly job at most once
	if err := s.Sync([]Job{job("keep", "1"), job("change", "2"), job("add", "1")}); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Jobs != 3 {
		t.Fatalf("%d jobs after sync, want 3", st.Jobs)
	}
	if got := s.NextRun("keep", "local"); !got.Equal(before) {
		t.Fatalf("untouched job moved from %s to %s", before, got)
	}
	if !s.NextRun("remove", "local").IsZero() {
		t.Fatal("removed job still scheduled")
	}
	waitFor(t, func() bool { return !s.NextRun("add", "local").IsZero() })
	if s.NextRun("add", "local").Sub(clock.Now()) > time.Hour {
		t.Fatal("added job not scheduled within one interval")
	}
}

func TestSyncRejectsBadJobs(t *testing.T) {
	s, _ := newFake(t, newRecorder(), 0)
	p := &prober{}
	for _, j := range []Job{
		{Check: "", Region: "r", Interval: time.Second, Timeout: time.Second, Prober: p},
		{Check: "a", Region: "r", Interval: time.Second, Timeout: 2 * time.Second, Prober: p},
		{Check: "a", Region: "r", Interval: time.Second, Timeout: time.Second},
	} {
		if err := s.Sync([]Job{j}); err == nil {
			t.Errorf("Sync(%+v) accepted a bad job", j)
		}
	}
	j := Job{Check: "a", Region: "r", Interval: time.Second, Timeout: time.Second, Prober: p}
	if err := s.Sync([]Job{j, j}); err == nil {
		t.Error("duplicate job accepted")
	}
}

func TestShutdownWaitsForInFlight(t *testing.T) {
	rec := newRecorder()
	s, clock := newFake(t, rec, 0)
	p := &prober{block: make(chan struct{})}
	if err := s.Sync([]Job{{Check: "a", Region: "local", Interval: time.Minute, Timeout: time.Minute, Prober: p, Version: "1"}}); err != nil {
		t.Fatal(err)
	}
	s.Start()
	at, _ := latestNextRun(t, s, "a")
	advanceTo(t, s, clock, at, "a")
	waitFor(t, func() bool { return p.inFlight.Load() == 1 })
	done := make(chan error)
	go func() { done <- s.Shutdown(context.Background()) }()
	select {
	case <-done:
		t.Fatal("Shutdown returned while a probe was in flight")
	case <-time.After(50 * time.Millisecond):
	}
	close(p.block)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(rec.runs) != 1 {
		t.Fatalf("in-flight result not recorded: %d runs", len(rec.runs))
	}
}

// latestNextRun waits until every named job is planned and returns the
// latest of their next runs.
func latestNextRun(t *testing.T, s *Scheduler, checks ...string) (time.Time, string) {
	t.Helper()
	var (
		latest time.Time
		which  string
	)
	for _, c := range checks {
		waitFor(t, func() bool { return !s.NextRun(c, "local").IsZero() })
		if n := s.NextRun(c, "local"); n.After(latest) {
			latest, which = n, c
		}
	}
	return latest, which
}

// waitFor polls cond until it holds or 5 s pass.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestShutdownDropsCancelledRuns: a probe that Shutdown has to cancel is
// not recorded as a failure of its target.
func TestShutdownDropsCancelledRuns(t *testing.T) {
	rec := newRecorder()
	s, clock := newFake(t, rec, 0)
	p := &prober{block: make(chan struct{})} // returns only when its context ends
	if err := s.Sync([]Job{{Check: "a", Region: "local", Interval: time.Minute, Timeout: time.Minute, Prober: p, Version: "1"}}); err != nil {
		t.Fatal(err)
	}
	s.Start()
	at, _ := latestNextRun(t, s, "a")
	advanceTo(t, s, clock, at, "a")
	waitFor(t, func() bool { return p.inFlight.Load() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Aborted != 1 || st.Runs != 0 || len(rec.runs) != 0 {
		t.Fatalf("stats %+v, %d recorded: the cancelled run must be dropped", st, len(rec.runs))
	}
}

// TestSlot: the exported slot is the run's planned slot: at most t and
// less than an interval before it, the same for every t in the slot, and
// spread over the interval by check and region.
func TestSlot(t *testing.T) {
	const interval = time.Second
	t0 := time.Unix(1_700_000_000, 123_456_789)
	s := Slot("api", "local", interval, t0)
	if s.After(t0) || t0.Sub(s) >= interval {
		t.Fatalf("slot %v for %v", s, t0)
	}
	if got := Slot("api", "local", interval, s.Add(interval-1)); !got.Equal(s) {
		t.Errorf("end of the slot: %v, want %v", got, s)
	}
	if got := Slot("api", "local", interval, s.Add(interval)); !got.Equal(s.Add(interval)) {
		t.Errorf("next slot: %v", got)
	}
	if got := Slot("api", "local", interval, s); !got.Equal(plannedSlot(s, interval, offset("api", "local", interval))) {
		t.Errorf("differs from the scheduler's planned slot")
	}
	if Slot("api", "eu-west", interval, t0).Equal(s) && Slot("web", "local", interval, t0).Equal(s) {
		t.Errorf("checks and regions not spread")
	}
}

// TestLateRunKeepsItsTimeout: a run that waited for a probe slot still
// gets its whole timeout: the scheduler never cuts a probe short, so a
// timeout recorded is the check's own (a late run that overlaps its next
// slot makes that one an overrun, counted).
func TestLateRunKeepsItsTimeout(t *testing.T) {
	rec := newRecorder()
	s, clock := newFake(t, rec, 1)
	const interval, timeout = 10 * time.Second, 5 * time.Second
	// Two checks whose slots come one after the other: the first blocks
	// the only probe slot, the second waits for it.
	var first, second string
	now := clock.Now()
	for i := 0; first == "" && i < 100; i++ {
		a, b := fmt.Sprintf("a%d", i), fmt.Sprintf("b%d", i)
		na, nb := nextSlot(now, interval, offset(a, "local", interval)), nextSlot(now, interval, offset(b, "local", interval))
		if na.Before(nb) && nb.Sub(na) < interval/2 {
			first, second = a, b
		}
	}
	if first == "" {
		t.Fatal("no two checks with slots in order")
	}
	blocker := &prober{block: make(chan struct{})}
	late := &prober{}
	if err := s.Sync([]Job{
		{Check: first, Region: "local", Interval: interval, Timeout: interval, Prober: blocker, Version: "1"},
		{Check: second, Region: "local", Interval: interval, Timeout: timeout, Prober: late, Version: "1"},
	}); err != nil {
		t.Fatal(err)
	}
	s.Start()
	advanceTo(t, s, clock, s.NextRun(first, "local"), first)
	waitFor(t, func() bool { return blocker.inFlight.Load() == 1 })
	slot := s.NextRun(second, "local")
	advanceTo(t, s, clock, slot, second)
	clock.Advance(7 * time.Second) // the second run waits 7 s of its 10 s interval
	close(blocker.block)
	var run Run
	for run.Check != second {
		run = rec.next(t)
	}
	if run.Lag < 7*time.Second {
		t.Fatalf("lag %v, want the 7 s it waited", run.Lag)
	}
	if left := time.Until(time.Unix(0, late.deadline.Load())); left < timeout-time.Second {
		t.Fatalf("probe deadline %v away, want its %v timeout (not what was left of the interval)", left, timeout)
	}
}
