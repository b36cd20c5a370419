package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/vantageprobe/vantage/demo"
	"github.com/vantageprobe/vantage/probes/probestest"
)

// DelayedTarget is how long the farm's slow HTTP target waits before it
// answers; the bench reports how far the stored durations overshoot it.
const DelayedTarget = 50 * time.Millisecond

// farm is the loopback targets: the demo's (a fast HTTP API, TLS, TCP
// with a banner, DNS) and an HTTP target answering after DelayedTarget.
type farm struct {
	*demo.Targets
	Delayed string // URL of the 50 ms target
	srv     *http.Server
	wg      sync.WaitGroup
}

func startFarm(ctx context.Context, dir string) (*farm, error) {
	t, err := demo.Start(ctx, dir)
	if err != nil {
		return nil, fmt.Errorf("start targets: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = t.Close()
		return nil, fmt.Errorf("listen on 127.0.0.1: %w", err)
	}
	f := &farm{Targets: t, Delayed: "http://" + ln.Addr().String() + "/delay",
		srv: &http.Server{Handler: probestest.Delay(DelayedTarget, "ok\n"), ReadHeaderTimeout: 5 * time.Second}}
	f.wg.Go(func() { _ = f.srv.Serve(ln) })
	return f, nil
}

func (f *farm) Close() error {
	err := errors.Join(f.srv.Close(), f.Targets.Close())
	f.wg.Wait()
	return err
}
