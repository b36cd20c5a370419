package sqlite

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/vantageprobe/vantage/results"
)

// entry is one queued record and when it was queued.
type entry struct {
	rec results.Record
	at  time.Time
}

// queue is the bounded FIFO between Write and the writer goroutine. It
// counts records through it (queued → taken → done) so that Flush can wait
// for exactly the records queued before it.
type queue struct {
	capacity int
	batch    int
	interval time.Duration
	wake     chan struct{} // to the writer; buffered, 1
	closing  chan struct{} // closed by close

	mu       sync.Mutex
	items    []entry
	queued   uint64 // records ever queued
	taken    uint64 // records handed to the writer
	done     uint64 // records committed, or given up at Close
	flushTo  uint64 // commit up to here without waiting for a full batch
	failures uint64 // failed commit attempts
	lastErr  error  // of the last failed attempt
	failing  bool   // the last commit attempt failed
	dropped  uint64 // records given up at Close
	closed   bool
	changed  chan struct{} // closed and replaced whenever the counters move
}

func newQueue(capacity, batch int, interval time.Duration) *queue {
	return &queue{
		capacity: capacity, batch: batch, interval: interval,
		wake: make(chan struct{}, 1), closing: make(chan struct{}), changed: make(chan struct{}),
	}
}

// broadcastLocked wakes everyone waiting on q.changed.
func (q *queue) broadcastLocked() {
	close(q.changed)
	q.changed = make(chan struct{})
}

// kick wakes the writer without blocking.
func (q *queue) kick() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// put queues recs in order, waiting for room while the queue is full. It
// reports whether it had to wait. On error a prefix of recs may be queued.
func (q *queue) put(ctx context.Context, recs []results.Record) (waited bool, err error) {
	for len(recs) > 0 {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return waited, ErrClosed
		}
		free := q.capacity - len(q.items)
		if free == 0 {
			ch := q.changed
			q.mu.Unlock()
			waited = true
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return waited, ctx.Err()
			}
		}
		n := min(free, len(recs))
		kick := q.appendLocked(recs[:n])
		q.mu.Unlock()
		recs = recs[n:]
		if kick {
			q.kick()
		}
	}
	return waited, nil
}

// tryPut queues all of recs, or none of them and reports false when the
// queue has no room for all of them: it never waits.
func (q *queue) tryPut(recs []results.Record) (bool, error) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return false, ErrClosed
	}
	if q.capacity-len(q.items) < len(recs) {
		q.mu.Unlock()
		return false, nil
	}
	kick := q.appendLocked(recs)
	q.mu.Unlock()
	if kick {
		q.kick()
	}
	return true, nil
}

// appendLocked queues recs, for which there is room, and reports whether
// the writer needs a kick (the queue was empty or holds a batch).
func (q *queue) appendLocked(recs []results.Record) bool {
	wasEmpty := len(q.items) == 0
	now := time.Now()
	if q.items == nil {
		// Start small and let append grow under a burst: a queue that
		// preallocated a whole batch (10,000 records, 3 MB) every time it
		// emptied turned a trickle of probes into megabytes of garbage.
		q.items = make([]entry, 0, min(q.capacity, max(len(recs), 64)))
	}
	for _, r := range recs {
		r.Detail = bytes.Clone(r.Detail) // the caller may reuse its buffer
		q.items = append(q.items, entry{rec: r, at: now})
	}
	q.queued += uint64(len(recs))
	return wasEmpty || len(q.items) >= q.batch
}

// next hands the writer its next batch: a full batch, or whatever is queued
// once the oldest record is interval old, a Flush waits or the queue is
// closing. Otherwise it says how long to wait (0: until woken). exit is
// true once the queue is closed and empty.
func (q *queue) next(now time.Time) (batch []entry, wait time.Duration, exit bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := len(q.items)
	if n == 0 {
		return nil, 0, q.closed
	}
	age := now.Sub(q.items[0].at)
	if n < q.batch && !q.closed && q.taken >= q.flushTo && age < q.interval {
		return nil, q.interval - age, false
	}
	k := min(n, q.batch)
	batch = q.items[:k:k]
	if k == n {
		q.items = nil
	} else {
		q.items = q.items[k:]
	}
	q.taken += uint64(k)
	q.broadcastLocked() // room for waiting writers
	return batch, 0, false
}

// finish marks n taken records as done; dropped ones were given up.
func (q *queue) finish(n int, dropped bool, err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.done += uint64(n)
	q.failing = dropped
	if dropped {
		q.dropped += uint64(n)
		q.failures++
		q.lastErr = err
	}
	q.broadcastLocked()
}

// fail records a failed commit attempt; waiting Flushes return err.
func (q *queue) fail(err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.failures++
	q.lastErr = err
	q.failing = true
	q.broadcastLocked()
}

// health reports ErrClosed, or the error of the last commit attempt when it
// failed; nil while commits succeed.
func (q *queue) health() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case q.closed:
		return ErrClosed
	case q.failing:
		return fmt.Errorf("last commit failed: %w", q.lastErr)
	}
	return nil
}

// flush waits until every record queued before the call is done.
func (q *queue) flush(ctx context.Context) error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return ErrClosed
	}
	target, failures := q.queued, q.failures
	q.flushTo = max(q.flushTo, target)
	q.mu.Unlock()
	q.kick()
	for {
		q.mu.Lock()
		done, failed, err, ch := q.done >= target, q.failures != failures, q.lastErr, q.changed
		q.mu.Unlock()
		switch {
		case done:
			return nil
		case failed:
			return err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// close stops put and makes the writer drain the queue and exit.
func (q *queue) close() {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.closing)
		q.broadcastLocked()
	}
	q.mu.Unlock()
	q.kick()
}

// isClosed reports whether close was called.
func (q *queue) isClosed() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.closed
}

// depth is the number of records waiting in the queue.
func (q *queue) depth() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}

// lost returns an error when records were given up at Close.
func (q *queue) lost() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.dropped == 0 {
		return nil
	}
	return fmt.Errorf("%d records not stored: %w", q.dropped, q.lastErr)
}
