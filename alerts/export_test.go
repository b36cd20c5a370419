package alerts

import (
	"context"
	"time"
)

// DeliverNext delivers one due notification of a receiver (for tests that
// drive the outbox step by step); 0 means it delivered or failed one.
func DeliverNext(ctx context.Context, e *Engine, name string, n Notifier) time.Duration {
	return e.deliverNext(ctx, name, n)
}
