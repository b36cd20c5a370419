package probes_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/probes"
)

// probeOnce runs p with a timeout and fails the test when the prober
// itself could not run.
func probeOnce(t testing.TB, p probes.Prober, timeout time.Duration) probes.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	r, err := p.Probe(ctx)
	if err != nil {
		t.Fatalf("Probe: %v", err)
	}
	return r
}

// wantOutcome checks a result's verdict and error class.
func wantOutcome(t testing.TB, r probes.Result, ok bool, sentinel error) {
	t.Helper()
	if r.OK != ok {
		t.Fatalf("OK = %v, want %v (err: %v)", r.OK, ok, r.Err)
	}
	switch {
	case sentinel == nil && r.Err != nil:
		t.Fatalf("Err = %v, want nil", r.Err)
	case sentinel != nil && !errors.Is(r.Err, sentinel):
		t.Fatalf("Err = %v (class %q), want %v", r.Err, probes.ErrorClass(r.Err), sentinel)
	}
}

func startHTTP(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func boolp(b bool) *bool { return &b }
func intp(i int) *int    { return &i }

func startHTTPUnstarted(t testing.TB, h http.Handler, connState func(net.Conn, http.ConnState)) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = connState
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func mustJSONPath(t testing.TB, path string) probes.JSONPath {
	t.Helper()
	var p probes.JSONPath
	if err := p.UnmarshalText([]byte(path)); err != nil {
		t.Fatalf("jsonpath %q: %v", path, err)
	}
	return p
}

func wantErrIs(t testing.TB, err, sentinel error) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("error %v (class %q), want %v", err, probes.ErrorClass(err), sentinel)
	}
}

// probeTimed runs p with timeout and returns the result and the wall time
// it took. Up to three attempts are made while a run overshoots
// timeout+100ms: on a loaded two-core CI machine one wake-up can come late,
// but a probe that does not honour its deadline overshoots every time.
func probeTimed(t testing.TB, p probes.Prober, timeout time.Duration) (probes.Result, time.Duration) {
	t.Helper()
	var (
		r    probes.Result
		took time.Duration
	)
	for attempt := 0; attempt < 3; attempt++ {
		start := time.Now()
		r = probeOnce(t, p, timeout)
		took = time.Since(start)
		if took <= timeout+100*time.Millisecond {
			break
		}
		t.Logf("attempt %d overshot: %s", attempt+1, took)
	}
	return r, took
}
