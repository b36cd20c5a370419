package sqlite

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics exports Stats to Prometheus, plus a histogram of batch commit times.
type metrics struct {
	reg          prometheus.Registerer
	collectors   []prometheus.Collector
	batchSeconds prometheus.Histogram
}

// newMetrics registers the store's collectors with reg.
func newMetrics(reg prometheus.Registerer, s *Store) (*metrics, error) {
	counter := func(name, help string, v func() int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return float64(v()) })
	}
	m := &metrics{reg: reg, batchSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "vantage_results_batch_commit_seconds",
		Help:    "Time to write and commit one batch of results.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14), // 0.5 ms … 4 s
	})}
	m.collectors = []prometheus.Collector{
		m.batchSeconds,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "vantage_results_queue_depth", Help: "Results queued and not yet committed.",
		}, func() float64 { return float64(s.q.depth()) }),
		counter("vantage_results_queue_full_waits_total", "Writes that waited because the results queue was full.", s.stats.queueFullWaits.Load),
		counter("vantage_results_dropped_total", "Results not stored because the results queue was full (the database failing or too slow).", s.stats.dropped.Load),
		counter("vantage_results_batches_total", "Result batches committed.", s.stats.batches.Load),
		counter("vantage_results_written_total", "Results stored (duplicates excluded).", s.stats.written.Load),
		counter("vantage_results_duplicates_total", "Results ignored because their ID was already stored.", s.stats.duplicates.Load),
		counter("vantage_results_batch_errors_total", "Failed result batch commits (retried).", s.stats.batchErrors.Load),
		counter("vantage_results_pruned_rows_total", "Rows deleted by results retention.", s.stats.pruned.Load),
	}
	for i, c := range m.collectors {
		if err := reg.Register(c); err != nil {
			for _, done := range m.collectors[:i] {
				reg.Unregister(done)
			}
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}

// unregister removes the collectors, so that a store can be reopened with
// the same registry.
func (m *metrics) unregister() {
	for _, c := range m.collectors {
		m.reg.Unregister(c)
	}
}
