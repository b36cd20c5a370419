package sqlite

import (
	"sync/atomic"
	"time"
)

// Stats is a snapshot of the store's activity since Open.
type Stats struct {
	QueueDepth        int           // records queued, not yet taken by the writer
	QueueFullWaits    int64         // Write calls that had to wait for room (backpressure)
	Dropped           int64         // records WriteOrDrop dropped because the queue was full
	BatchesCommitted  int64         // write transactions committed
	RecordsWritten    int64         // new records stored (duplicates not included)
	DuplicatesIgnored int64         // records whose ID was already stored
	LastBatchLatency  time.Duration // time to write and commit the last batch
	BatchErrors       int64         // failed commit attempts (each retried)
	RowsPruned        int64         // rows deleted by retention
}

// counters are the live values behind Stats.
type counters struct {
	queueFullWaits atomic.Int64
	dropped        atomic.Int64
	batches        atomic.Int64
	written        atomic.Int64
	duplicates     atomic.Int64
	lastBatch      atomic.Int64 // nanoseconds
	batchErrors    atomic.Int64
	pruned         atomic.Int64
}

// batchCommitted counts one committed batch.
func (c *counters) batchCommitted(written, dups int, took time.Duration) {
	c.batches.Add(1)
	c.written.Add(int64(written))
	c.duplicates.Add(int64(dups))
	c.lastBatch.Store(int64(took))
}

// Stats returns a snapshot of the store's counters.
func (s *Store) Stats() Stats {
	return Stats{
		QueueDepth:        s.q.depth(),
		QueueFullWaits:    s.stats.queueFullWaits.Load(),
		Dropped:           s.stats.dropped.Load(),
		BatchesCommitted:  s.stats.batches.Load(),
		RecordsWritten:    s.stats.written.Load(),
		DuplicatesIgnored: s.stats.duplicates.Load(),
		LastBatchLatency:  time.Duration(s.stats.lastBatch.Load()),
		BatchErrors:       s.stats.batchErrors.Load(),
		RowsPruned:        s.stats.pruned.Load(),
	}
}

// Healthy reports whether the store takes writes: nil while commits
// succeed, the last commit error while they fail, ErrClosed after Close.
// It does not force a commit.
func (s *Store) Healthy() error { return s.q.health() }
