package scheduler

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// lagRecorder keeps every run's lag and when each job first ran.
type lagRecorder struct {
	mu    sync.Mutex
	lags  []time.Duration
	first map[string]time.Time
}

func (r *lagRecorder) Record(_ context.Context, run Run) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lags = append(r.lags, run.Lag)
	if _, ok := r.first[run.Check]; !ok {
		r.first[run.Check] = time.Now()
	}
	return nil
}

// BenchmarkScheduler10kChecks schedules 10,000 checks at a 30 s interval
// on the real clock with an instant prober, runs for one interval and a
// bit, and reports how long it took until every check had run once, and
// the scheduling lag p50/p99/max. Run with -benchtime 1x: one iteration
// takes about 35 s.
func BenchmarkScheduler10kChecks(b *testing.B) {
	const (
		n        = 10000
		interval = 30 * time.Second
	)
	for b.Loop() {
		rec := &lagRecorder{first: make(map[string]time.Time, n)}
		s, err := New(Options{Recorder: rec})
		if err != nil {
			b.Fatal(err)
		}
		p := &prober{}
		jobs := make([]Job, n)
		for i := range jobs {
			jobs[i] = Job{Check: fmt.Sprintf("check-%05d", i), Region: "local", Interval: interval, Timeout: time.Second, Prober: p, Version: "1"}
		}
		start := time.Now()
		if err := s.Sync(jobs); err != nil {
			b.Fatal(err)
		}
		s.Start()
		setup := time.Since(start)
		deadline := start.Add(interval + 5*time.Second)
		for time.Now().Before(deadline) {
			rec.mu.Lock()
			all := len(rec.first) == n
			rec.mu.Unlock()
			if all {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		_ = s.Shutdown(context.Background())
		rec.mu.Lock()
		var last time.Time
		for _, t := range rec.first {
			if t.After(last) {
				last = t
			}
		}
		slices.Sort(rec.lags)
		q := func(p float64) time.Duration { return rec.lags[int(p*float64(len(rec.lags)-1))] }
		b.ReportMetric(float64(len(rec.first)), "checks-run")
		b.ReportMetric(last.Sub(start).Seconds(), "s-until-all-ran")
		b.ReportMetric(setup.Seconds()*1000, "ms-to-schedule")
		b.ReportMetric(float64(q(0.50).Microseconds())/1000, "lag-p50-ms")
		b.ReportMetric(float64(q(0.99).Microseconds())/1000, "lag-p99-ms")
		b.ReportMetric(float64(rec.lags[len(rec.lags)-1].Microseconds())/1000, "lag-max-ms")
		b.ReportMetric(float64(s.Stats().Overruns), "overruns")
		rec.mu.Unlock()
	}
}
