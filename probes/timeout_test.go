package probes_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/probes"
	"github.com/vantageprobe/vantage/probes/probestest"
)

// slack is how far past its timeout a probe may end.
const slack = 100 * time.Millisecond

// TestTimeoutsAreHard runs each kind against servers that never finish and
// checks the probe ends within timeout + 100 ms with ErrTimeout.
func TestTimeoutsAreHard(t *testing.T) {
	const timeout = 300 * time.Millisecond
	ca := probestest.NewCA(t)
	hang := probestest.Hang(t)
	headerTrickle := httpTrickle(t, "HTTP/1.1 200 OK\r\nX-Slow: ")
	bodyTrickle := httpTrickle(t, "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n")
	tcpTrickle := probestest.Trickle(t, []byte("220 "), time.Second)
	tlsHang := probestest.StartTLS(t, ca.Issue(t, probestest.CertOptions{}), probestest.TLSOptions{}, func(c net.Conn) {
		_, _ = io.Copy(io.Discard, c) // completes the handshake, then never answers
	})
	tests := []struct {
		name  string
		build func() (probes.Prober, error)
		phase string
	}{
		{"http accept and hang", func() (probes.Prober, error) { return probes.NewHTTP(probes.HTTPSpec{URL: "http://" + hang + "/"}) }, "processing"},
		{"http header trickle 1 B/s", func() (probes.Prober, error) {
			return probes.NewHTTP(probes.HTTPSpec{URL: "http://" + headerTrickle + "/"})
		}, "transfer"},
		{"http body trickle 1 B/s", func() (probes.Prober, error) {
			return probes.NewHTTP(probes.HTTPSpec{URL: "http://" + bodyTrickle + "/"})
		}, "transfer"},
		{"http body trickle with body regex", func() (probes.Prober, error) {
			return probes.NewHTTP(probes.HTTPSpec{URL: "http://" + bodyTrickle + "/", Expect: probes.HTTPExpect{Body: mustPattern("never")}})
		}, "transfer"},
		{"https handshake never answered", func() (probes.Prober, error) { return probes.NewHTTP(probes.HTTPSpec{URL: "https://" + hang + "/"}) }, "tls"},
		{"https request never answered", func() (probes.Prober, error) {
			return probes.NewHTTP(probes.HTTPSpec{URL: "https://" + tlsHang + "/", TLSConfig: probes.TLSOptions{InsecureSkipVerify: true}})
		}, "processing"},
		{"tls handshake never answered", func() (probes.Prober, error) { return probes.NewTLS(probes.TLSSpec{Address: hang}) }, "tls"},
		{"tcp expect never answered", func() (probes.Prober, error) {
			return probes.NewTCP(probes.TCPSpec{Address: hang, Send: "hello\n", Expect: mustPattern("^ok")})
		}, "processing"},
		{"tcp expect trickle", func() (probes.Prober, error) {
			return probes.NewTCP(probes.TCPSpec{Address: tcpTrickle, Expect: mustPattern("never")})
		}, "processing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := tt.build()
			if err != nil {
				t.Fatal(err)
			}
			r, took := probeTimed(t, p, timeout)
			wantOutcome(t, r, false, probes.ErrTimeout)
			if took > timeout+slack {
				t.Fatalf("probe took %s, limit %s", took, timeout+slack)
			}
			if got := r.Err.Error(); got != "timeout during "+tt.phase {
				t.Errorf("error %q, want timeout during %s", got, tt.phase)
			}
		})
	}
}

func TestConnRefused(t *testing.T) {
	addr := probestest.RefusedAddr(t)
	for _, build := range []func() (probes.Prober, error){
		func() (probes.Prober, error) { return probes.NewHTTP(probes.HTTPSpec{URL: "http://" + addr + "/"}) },
		func() (probes.Prober, error) { return probes.NewTLS(probes.TLSSpec{Address: addr}) },
	} {
		p, err := build()
		if err != nil {
			t.Fatal(err)
		}
		wantOutcome(t, probeOnce(t, p, 2*time.Second), false, probes.ErrConnRefused)
	}
}

// TestHTTPAccuracy: against a target that answers after 50 ms, the median
// total of 20 probes is within [50 ms, 53 ms] and processing ≥ 49 ms. A
// round whose median misses is retried twice (a loaded CI machine can slow
// one round); a probe that mismeasures misses every round.
func TestHTTPAccuracy(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	srv := startHTTP(t, probestest.Delay(50*time.Millisecond, "ok"))
	p := newHTTP(t, probes.HTTPSpec{URL: srv.URL})
	var median time.Duration
	for round := 1; round <= 3; round++ {
		median = medianOf20(t, p)
		t.Logf("round %d: median %s", round, median)
		if median >= 50*time.Millisecond && median <= 53*time.Millisecond {
			return
		}
	}
	t.Fatalf("median total %s outside [50ms, 53ms] in 3 rounds", median)
}

func medianOf20(t *testing.T, p probes.Prober) time.Duration {
	totals := make([]time.Duration, 0, 20)
	for range 20 {
		r, err := p.Probe(context.Background())
		if err != nil || !r.OK {
			t.Fatalf("probe: %v %v", err, r.Err)
		}
		if r.Phases.Processing < 49*time.Millisecond {
			t.Fatalf("processing %s < 49ms", r.Phases.Processing)
		}
		totals = append(totals, r.Duration)
	}
	slices.Sort(totals)
	return (totals[9] + totals[10]) / 2
}

// httpTrickle serves raw HTTP: it reads the request head, writes prefix,
// then one byte per second until the client goes away or the test ends.
func httpTrickle(t *testing.T, prefix string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	t.Cleanup(func() { close(done); ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { trickle(c, prefix, done) })
		}
	})
	return ln.Addr().String()
}

func trickle(c net.Conn, prefix string, done <-chan struct{}) {
	defer c.Close()
	if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
		return
	}
	if _, err := io.WriteString(c, prefix); err != nil {
		return
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
			if _, err := c.Write([]byte("x")); err != nil {
				return
			}
		}
	}
}

// TestTimedOutProbesLeakNothing: probes that time out in the TLS handshake
// or while waiting for an answer leave no goroutine (dial, handshake or
// read) behind.
func TestTimedOutProbesLeakNothing(t *testing.T) {
	// A server that never answers but lets go when the client does, so that
	// only the client's goroutines are counted.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	hang := ln.Addr().String()
	before := runtime.NumGoroutine()
	for _, url := range []string{"https://" + hang + "/", "http://" + hang + "/"} {
		p := newHTTP(t, probes.HTTPSpec{URL: url})
		for range 10 {
			r := probeOnce(t, p, 100*time.Millisecond)
			wantOutcome(t, r, false, probes.ErrTimeout)
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before+2 {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines before, %d after 20 timed-out probes", before, runtime.NumGoroutine())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
