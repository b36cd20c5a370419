package probes_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptrace"
	"syscall"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/probes"
	"github.com/vantageprobe/vantage/probes/probestest"
)

// cpuTime is this process's user+system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measure runs fn b.N times and reports CPU per op (of the whole process:
// prober and the loopback target together).
func measure(b *testing.B, fn func()) {
	b.ReportAllocs()
	start := cpuTime(b)
	b.ResetTimer()
	for b.Loop() {
		fn()
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/op")
}

func benchTarget(b *testing.B) string {
	srv := startHTTP(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") }))
	return srv.URL + "/"
}

// BenchmarkHTTPProbe: one HTTP probe on a fresh loopback connection, every
// phase traced, status asserted.
func BenchmarkHTTPProbe(b *testing.B) {
	p := newHTTP(b, probes.HTTPSpec{URL: benchTarget(b)})
	ctx := context.Background()
	measure(b, func() {
		r, err := p.Probe(ctx)
		if err != nil || !r.OK {
			b.Fatalf("probe: %v %v", err, r.Err)
		}
	})
}

// BenchmarkBareHTTP is the floor: a bare net/http GET with httptrace hooks
// on a fresh connection to the same target.
func BenchmarkBareHTTP(b *testing.B) {
	url := benchTarget(b)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	ctx := context.Background()
	measure(b, func() {
		var t [6]time.Time
		trace := &httptrace.ClientTrace{
			DNSStart:             func(httptrace.DNSStartInfo) { t[0] = time.Now() },
			ConnectStart:         func(string, string) { t[1] = time.Now() },
			ConnectDone:          func(string, string, error) { t[2] = time.Now() },
			WroteRequest:         func(httptrace.WroteRequestInfo) { t[3] = time.Now() },
			GotFirstResponseByte: func() { t[4] = time.Now() },
		}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		t[5] = time.Now()
		if resp.StatusCode != 200 || t[4].Before(t[3]) {
			b.Fatal("bad response")
		}
	})
}

// BenchmarkTCPProbe: connect to a loopback listener.
func BenchmarkTCPProbe(b *testing.B) {
	p, err := probes.NewTCP(probes.TCPSpec{Address: probestest.Echo(b, "")})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	measure(b, func() {
		if r, err := p.Probe(ctx); err != nil || !r.OK {
			b.Fatalf("probe: %v %v", err, r.Err)
		}
	})
}

// BenchmarkDNSProbe: an A query over UDP to a loopback miekg/dns server.
func BenchmarkDNSProbe(b *testing.B) {
	srv := probestest.StartDNS(b, probestest.DNSOptions{Zone: "www.example.test. 300 IN A 192.0.2.1\n"})
	var typ probes.DNSType
	_ = typ.UnmarshalText([]byte("A"))
	p, err := probes.NewDNS(probes.DNSSpec{Server: srv.Addr, Name: "www.example.test", Type: typ})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	measure(b, func() {
		if r, err := p.Probe(ctx); err != nil || !r.OK {
			b.Fatalf("probe: %v %v", err, r.Err)
		}
	})
}
