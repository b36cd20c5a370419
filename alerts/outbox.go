package alerts

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"
)

// Delivery tuning.
const (
	// attemptTimeout bounds one Notify call.
	attemptTimeout = 30 * time.Second
	// backoffBase and backoffMax space retries: 1s, 2s, 4s … at most 1m,
	// so a provider back after an outage gets its backlog within a minute.
	backoffBase = time.Second
	backoffMax  = time.Minute
	// giveUpAfter ends retrying of a notification that old.
	giveUpAfter = 24 * time.Hour
	// keepDelivered is how long sent and given-up rows stay in the outbox.
	keepDelivered = 7 * 24 * time.Hour
	// idlePoll is how often an idle receiver looks at the outbox anyway.
	idlePoll = 5 * time.Second
)

// Run evaluates timers every second and delivers the outbox, one worker
// per notifier (a hanging provider holds up only its own queue), until
// ctx ends.
func (e *Engine) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for name, n := range e.o.Notifiers {
		wg.Go(func() { e.deliverLoop(ctx, name, n) })
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	lastPrune := time.Time{}
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-t.C:
		}
		if err := e.Tick(ctx); err != nil && ctx.Err() == nil {
			e.log.Error("alert evaluation", "err", err)
		}
		if now := e.now(); now.Sub(lastPrune) > time.Hour {
			lastPrune = now
			if err := e.o.Store.prune(ctx, now.Add(-keepDelivered)); err != nil && ctx.Err() == nil {
				e.log.Warn("prune outbox", "err", err)
			}
		}
	}
}

// deliverLoop sends one receiver's notifications in order.
func (e *Engine) deliverLoop(ctx context.Context, name string, n Notifier) {
	for ctx.Err() == nil {
		wait := e.deliverNext(ctx, name, n)
		if wait == 0 {
			continue
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-e.wake[name]:
		case <-t.C:
		}
		t.Stop()
	}
}

// deliverNext delivers the receiver's next due notification and returns 0,
// or how long to wait for the next one.
func (e *Engine) deliverNext(ctx context.Context, name string, n Notifier) time.Duration {
	now := e.now()
	p, ok, next, err := e.o.Store.due(ctx, name, now)
	switch {
	case err != nil:
		if ctx.Err() == nil {
			e.log.Error("read outbox", "notifier", name, "err", err)
		}
		return idlePoll
	case !ok && next.IsZero():
		return idlePoll
	case !ok:
		return min(max(next.Sub(now), 10*time.Millisecond), idlePoll)
	}
	actx, cancel := context.WithTimeout(ctx, attemptTimeout)
	err = n.Notify(actx, p.N)
	cancel()
	if ctx.Err() != nil {
		return idlePoll // shutting down: the row stays due and is sent after a restart
	}
	done := e.now()
	switch {
	case err == nil:
		e.metrics.result(name, "sent")
		if p.Attempts > 0 {
			e.log.Info("notification delivered", "notifier", name, "attempt", p.Attempts+1)
		}
		err = e.o.Store.markSent(ctx, p.ID, done)
	case IsPermanent(err) || done.Sub(p.Created) > giveUpAfter:
		e.metrics.result(name, "given_up")
		e.log.Error("notification given up", "notifier", name, "rule", p.N.Rule, "attempt", p.Attempts+1, "err", err)
		err = e.o.Store.markGivenUp(ctx, p.ID, done, err)
	default:
		e.metrics.result(name, "failed")
		delay := max(backoff(p.Attempts+1), RetryDelay(err))
		e.log.Warn("notification failed, retrying", "notifier", name, "attempt", p.Attempts+1, "retry_in", delay, "err", err)
		err = e.o.Store.markFailed(ctx, p.ID, done.Add(delay), err)
	}
	if err != nil && ctx.Err() == nil {
		e.log.Error("update outbox", "notifier", name, "err", err)
		return idlePoll
	}
	return 0
}

// backoff is the delay before retry n (1-based), with ±20 % jitter.
func backoff(n int) time.Duration {
	d := backoffBase << min(n-1, 10)
	d = min(d, backoffMax)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}
