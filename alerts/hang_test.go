package alerts_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/alerts"
	"github.com/vantageprobe/vantage/alerts/webhook"
)

// TestHangingReceiverIsolated: a webhook endpoint that takes the request
// and does not answer holds up neither the other receivers nor the
// engine, and gets its notification, once, when it answers.
func TestHangingReceiverIsolated(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	var slowGot, slowDone, fastGot atomic.Int32
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		slowGot.Add(1)
		<-release
		slowDone.Add(1)
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(free) // runs before slow.Close
	fast := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		fastGot.Add(1)
	}))
	t.Cleanup(fast.Close)
	hook := func(url string) alerts.Notifier {
		n, err := webhook.New(webhook.Config{URL: webhook.Secret(url), Timeout: 20 * time.Second}, webhook.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	st, err := alerts.OpenStore(t.Context(), filepath.Join(t.TempDir(), "alerts.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	eng, err := alerts.New(t.Context(), alerts.Options{Store: st,
		Rules:     []alerts.Rule{{Name: "down", All: true, ConsecutiveFailures: 1, GroupWait: time.Millisecond, GroupInterval: time.Millisecond, Notify: []string{"slow", "fast"}}},
		Notifiers: map[string]alerts.Notifier{"slow": hook(slow.URL), "fast": hook(fast.URL)}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	done := make(chan struct{})
	go func() { eng.Run(ctx); close(done) }()
	t.Cleanup(func() { free(); <-done })

	observe := func(check string) {
		t.Helper()
		if err := eng.Observe(ctx, alerts.Observation{Check: check, State: "down", Failing: []string{"eu", "us"}, Regions: 3,
			Error: "connection refused", At: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	observe("api")
	wait := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s (slow got %d, answered %d; fast got %d)", what, slowGot.Load(), slowDone.Load(), fastGot.Load())
			}
		}
	}
	wait("both receivers to get the first alert", func() bool { return fastGot.Load() == 1 && slowGot.Load() == 1 })
	// While the slow receiver hangs, the engine goes on: a second check's
	// alert reaches the fast receiver.
	observe("db")
	wait("the second alert at the fast receiver", func() bool { return fastGot.Load() == 2 })
	if slowDone.Load() != 0 || slowGot.Load() != 1 {
		t.Fatalf("the hanging receiver answered %d, got %d", slowDone.Load(), slowGot.Load())
	}
	// It answers: its queue moves on, in order, each notification once.
	free()
	wait("the slow receiver's queue", func() bool { return slowDone.Load() == 2 })
	time.Sleep(1500 * time.Millisecond)
	if slowGot.Load() != 2 || fastGot.Load() != 2 {
		t.Fatalf("slow got %d, fast %d: want each notification once", slowGot.Load(), fastGot.Load())
	}
}
