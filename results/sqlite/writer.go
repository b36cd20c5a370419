package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/vantageprobe/vantage/results"
)

// Retry policy of a failed batch: back off and retry forever while open
// (the queue fills and Write applies backpressure); at Close, give up
// after closeAttempts so that Close returns.
const (
	retryMin      = 50 * time.Millisecond
	retryMax      = 5 * time.Second
	closeAttempts = 3
)

// Write queues recs for storage. It blocks only while the queue is full,
// returns ctx's error if ctx ends while waiting (a prefix of recs may then
// be queued; writing them again is safe, IDs are stored once), and
// ErrClosed after Close. Records need an ID, a check, a region and a start time.
func (s *Store) Write(ctx context.Context, recs ...results.Record) error {
	if s.opts.ReadOnly {
		return errReadOnly
	}
	for i := range recs {
		if err := validRecord(&recs[i]); err != nil {
			return fmt.Errorf("write results: record %d: %w", i, err)
		}
	}
	waited, err := s.q.put(ctx, recs)
	if waited {
		s.stats.queueFullWaits.Add(1)
	}
	if err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}

// errReadOnly is returned by the writes of a store opened ReadOnly.
var errReadOnly = errors.New("write results: the store is open read-only")

// ErrQueueFull is returned by TryWrite when the queue has no room: the
// database is failing or slower than the results arrive.
var ErrQueueFull = errors.New("results queue is full")

// TryWrite queues all of recs, or none of them with ErrQueueFull when the
// queue has no room for all of them; it never waits. It suits a caller
// that can ask its client to retry (agent ingest answers 503).
func (s *Store) TryWrite(recs ...results.Record) error {
	if s.opts.ReadOnly {
		return errReadOnly
	}
	for i := range recs {
		if err := validRecord(&recs[i]); err != nil {
			return fmt.Errorf("write results: record %d: %w", i, err)
		}
	}
	ok, err := s.q.tryPut(recs)
	switch {
	case err != nil:
		return fmt.Errorf("write results: %w", err)
	case !ok:
		return fmt.Errorf("write results: %w (%d records waiting)", ErrQueueFull, s.q.depth())
	}
	return nil
}

// QueueSize is the queue's bound in records: a larger TryWrite never fits.
func (s *Store) QueueSize() int { return s.opts.QueueSize }

// WriteOrDrop queues recs without waiting, as the scheduler needs: probing
// goes on while the database cannot keep up or fails (a full disk), and
// what does not fit in the queue is dropped, counted in Stats.Dropped and
// vantage_results_dropped_total, and logged at most every dropLogEvery.
// It returns the number dropped, or an error (nothing queued) for an
// invalid record or a closed store.
func (s *Store) WriteOrDrop(recs ...results.Record) (dropped int, err error) {
	err = s.TryWrite(recs...)
	if !errors.Is(err, ErrQueueFull) {
		return 0, err
	}
	s.stats.dropped.Add(int64(len(recs)))
	s.logDrops(false)
	return len(recs), nil
}

// dropLogEvery spaces the error logs of dropped results.
const dropLogEvery = 10 * time.Second

// logDrops logs an error for the results dropped since its last log: at
// the first drop, then at most every dropLogEvery. WriteOrDrop calls it
// as it drops, the writer after each commit (so the last drops are told
// once the queue takes records again), and Close with force.
func (s *Store) logDrops(force bool) {
	total := s.stats.dropped.Load()
	s.dropLog.Lock()
	defer s.dropLog.Unlock()
	if total == s.dropLog.total || (!force && !s.dropLog.at.IsZero() && time.Since(s.dropLog.at) < dropLogEvery) {
		return
	}
	s.log.Error("results dropped: the queue is full", "dropped", total-s.dropLog.total, "dropped_total", total,
		"queue_size", s.opts.QueueSize, "last_commit_error", s.q.health())
	s.dropLog.at, s.dropLog.total = time.Now(), total
}

// validRecord checks what the store relies on.
func validRecord(r *results.Record) error {
	switch {
	case r.ID == "":
		return errors.New("id is empty")
	case r.Check == "":
		return errors.New("check is empty")
	case r.Region == "":
		return errors.New("region is empty")
	case r.Started.Year() < 1700 || r.Started.Year() > 2200:
		return fmt.Errorf("start time %s is out of range", r.Started.Format(time.RFC3339))
	}
	return nil
}

// Flush returns once every record queued before the call is committed, or
// with the error of a commit attempt that failed meanwhile (the writer
// retries it), or with ctx's error.
func (s *Store) Flush(ctx context.Context) error {
	if err := s.q.flush(ctx); err != nil {
		return fmt.Errorf("flush results: %w", err)
	}
	return nil
}

// runWriter is the writer goroutine: it commits batches from the queue
// until the queue is closed and drained, and writes the pending rollup
// sums when they are due and no batch comes, and at the end.
func (s *Store) runWriter() {
	defer close(s.writerDone)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		batch, wait, exit := s.q.next(time.Now())
		if exit {
			s.flushAtClose()
			return
		}
		if batch != nil {
			s.commitBatch(batch)
			continue
		}
		if d, ok := s.pending.dueIn(time.Now()); ok {
			if d <= 0 {
				if err := s.flushPending(context.Background()); err != nil {
					s.log.Warn("rollups not written, tried again later", "err", err)
				}
				continue
			}
			if wait <= 0 || d < wait {
				wait = d
			}
		}
		var fire <-chan time.Time
		if wait > 0 {
			timer.Reset(wait)
			fire = timer.C
		}
		select {
		case <-s.q.wake:
		case <-fire:
		}
		timer.Stop()
	}
}

// flushAtClose writes the pending rollup sums as the store closes, with a
// few attempts; if they all fail, the next Open sums the records again.
func (s *Store) flushAtClose() {
	var err error
	for attempt := 0; attempt < closeAttempts; attempt++ {
		if err = s.flushPending(context.Background()); err == nil {
			return
		}
		time.Sleep(retryMin << attempt)
	}
	s.log.Error("rollups not written at close; the next start sums their records again", "err", err)
}

// commitBatch writes batch, retrying with back-off until it commits (or,
// once the store is closing, until closeAttempts failed).
func (s *Store) commitBatch(batch []entry) {
	ctx := context.Background() // the batch outlives any caller
	backoff := retryMin
	for attempt := 1; ; attempt++ {
		start := time.Now()
		dups, err := s.writeBatch(ctx, batch)
		if err == nil {
			took := time.Since(start)
			s.stats.batchCommitted(len(batch)-dups, dups, took)
			if s.metrics != nil {
				s.metrics.batchSeconds.Observe(took.Seconds())
			}
			s.q.finish(len(batch), false, nil)
			s.logDrops(false)
			return
		}
		s.stats.batchErrors.Add(1)
		if s.q.isClosed() && attempt >= closeAttempts {
			s.log.Error("results batch dropped at close", "err", err, "attempt", attempt, "records", len(batch))
			s.q.finish(len(batch), true, err)
			return
		}
		s.log.Warn("results batch failed, retrying", "err", err, "attempt", attempt, "records", len(batch))
		s.q.fail(err)
		select {
		case <-time.After(backoff):
		case <-s.q.closing:
		}
		backoff = min(2*backoff, retryMax)
	}
}

// writeBatch stores batch in one transaction: raw rows (duplicates
// skipped) and the latest table of the new records, and the pending
// rollup sums when they are due (see pending.go); the new records join
// the sums once committed. It returns the number of duplicates.
func (s *Store) writeBatch(ctx context.Context, batch []entry) (dups int, err error) {
	p := &s.pending
	p.flushMu.Lock()
	defer p.flushMu.Unlock()
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("write batch: begin: %w", err)
	}
	defer tx.Rollback() // a no-op after Commit
	floor, err := seqFloor(ctx, tx)
	if err != nil {
		return 0, fmt.Errorf("write batch: %w", err)
	}
	next := floor
	added, seqs, err := insertRecords(ctx, tx, batch, &next)
	if err != nil {
		return 0, fmt.Errorf("write batch: %w", err)
	}
	if err := insertScreenshots(ctx, tx, added); err != nil {
		return 0, fmt.Errorf("write batch: %w", err)
	}
	if err := updateLatest(ctx, tx, added, seqs); err != nil {
		return 0, fmt.Errorf("write batch: %w", err)
	}
	// Due sums are written in this transaction, marked up to the records
	// before this batch's (every one of them is in the sums or the
	// tables); this batch's records join the sums after.
	now := time.Now()
	flush := p.keys > 0 && p.due(now, len(added))
	if flush {
		if err := p.write(ctx, tx, floor-1); err != nil {
			return 0, fmt.Errorf("write batch: %w", err)
		}
	} else if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("write batch: commit: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if flush { // under the lock: readers must not see the tables with the sums and the sums too
		if err := tx.Commit(); err != nil {
			return 0, fmt.Errorf("write batch: commit: %w", err)
		}
		p.clearLocked()
	}
	p.addLocked(added, now)
	return len(batch) - len(added), nil
}

// insertRecords inserts the raw rows, numbered from *next on, and returns
// the records that were new (an ID already stored is skipped) with the
// seq each got; *next ends past the last.
func insertRecords(ctx context.Context, tx *sql.Tx, batch []entry, next *int64) ([]*results.Record, []int64, error) {
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO results (seq, `+recordColumnList()+`) VALUES (?, `+
		placeholders(len(recordColumns))+`) ON CONFLICT (id) DO NOTHING`)
	if err != nil {
		return nil, nil, fmt.Errorf("prepare insert: %w", err)
	}
	defer stmt.Close()
	added := make([]*results.Record, 0, len(batch))
	seqs := make([]int64, 0, len(batch))
	args := make([]any, 0, 1+len(recordColumns))
	for i := range batch {
		r := &batch[i].rec
		args = append(append(args[:0], *next), recordArgs(r)...)
		res, err := stmt.ExecContext(ctx, args...)
		if err != nil {
			return nil, nil, fmt.Errorf("insert record %s: %w", r.ID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, nil, fmt.Errorf("insert record %s: %w", r.ID, err)
		} else if n == 1 {
			added, seqs = append(added, r), append(seqs, *next)
			*next++
		}
	}
	return added, seqs, nil
}

// insertScreenshots stores the screenshots of the new records.
func insertScreenshots(ctx context.Context, tx *sql.Tx, recs []*results.Record) error {
	var stmt *sql.Stmt
	for _, r := range recs {
		if len(r.Screenshot) == 0 {
			continue
		}
		if stmt == nil {
			var err error
			if stmt, err = tx.PrepareContext(ctx, `INSERT INTO screenshots (id, check_name, region, started, png) VALUES (?, ?, ?, ?, ?)`); err != nil {
				return fmt.Errorf("prepare screenshot insert: %w", err)
			}
			defer stmt.Close()
		}
		if _, err := stmt.ExecContext(ctx, r.ID, r.Check, r.Region, r.Started.UnixNano(), r.Screenshot); err != nil {
			return fmt.Errorf("insert screenshot of %s: %w", r.ID, err)
		}
	}
	return nil
}

// updateLatest points the latest table at the newest of recs (stored with
// seqs) per check × region, unless a newer record is already there.
func updateLatest(ctx context.Context, tx *sql.Tx, recs []*results.Record, seqs []int64) error {
	newest := make(map[[2]string]int) // index into recs
	for i, r := range recs {
		k := [2]string{r.Check, r.Region}
		if cur, ok := newest[k]; !ok || !r.Started.Before(recs[cur].Started) {
			newest[k] = i
		}
	}
	if len(newest) == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, upsertLatestSQL)
	if err != nil {
		return fmt.Errorf("prepare latest: %w", err)
	}
	defer stmt.Close()
	for _, i := range newest {
		r := recs[i]
		if _, err := stmt.ExecContext(ctx, r.Check, r.Region, seqs[i], r.Started.UnixNano()); err != nil {
			return fmt.Errorf("update latest %s/%s: %w", r.Check, r.Region, err)
		}
	}
	return nil
}

// upsertLatestSQL points a latest row at a newer record.
const upsertLatestSQL = `INSERT INTO latest (check_name, region, seq, started) VALUES (?, ?, ?, ?)
	ON CONFLICT (check_name, region) DO UPDATE SET seq = excluded.seq, started = excluded.started
	WHERE excluded.started >= latest.started`
