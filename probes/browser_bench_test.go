package probes_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/probes"
)

// benchRun runs one check and fails the benchmark unless it passed.
func benchRun(b *testing.B, p *probes.BrowserProber) probes.Result {
	r, err := tryRun(b, p)
	if err != nil {
		b.Fatal(err)
	}
	return r
}

func tryRun(b *testing.B, p *probes.BrowserProber) (probes.Result, error) {
	ctx, cancel := context.WithTimeout(b.Context(), 30*time.Second)
	defer cancel()
	r, err := p.Probe(ctx)
	if err == nil && !r.OK {
		err = r.Err
	}
	return r, err
}

// BenchmarkBrowserColdLaunch: a new Browser (Chromium start) and its first
// run, then Close.
func BenchmarkBrowserColdLaunch(b *testing.B) {
	needChromium(b)
	srv := startPages(b)
	spec := probes.BrowserSpec{URL: srv.URL + "/other"}
	for b.Loop() {
		br, err := probes.NewBrowser(probes.BrowserOptions{})
		if err != nil {
			b.Fatal(err)
		}
		benchRun(b, newBrowserProber(b, br, spec))
		if err := br.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBrowserWarmRun: one run of a simple page on a running browser.
// overhead-ms is the run's wall time beyond the page's own load time (new
// incognito context and tab, interception, vitals, closing).
func BenchmarkBrowserWarmRun(b *testing.B) {
	br := newBrowser(b, probes.BrowserOptions{})
	srv := startPages(b)
	p := newBrowserProber(b, br, probes.BrowserSpec{URL: srv.URL + "/other"})
	benchRun(b, p) // start the browser
	var overhead time.Duration
	for b.Loop() {
		start := time.Now()
		r := benchRun(b, p)
		overhead += time.Since(start) - r.Browser.Load
	}
	b.ReportMetric(float64(overhead.Milliseconds())/float64(b.N), "overhead-ms/op")
}

// BenchmarkBrowserThroughput: runs of a simple page with two at a time
// (MaxConcurrency 2), as runs per minute, with the peak size of the process
// tree while they ran.
func BenchmarkBrowserThroughput(b *testing.B) {
	br := newBrowser(b, probes.BrowserOptions{MaxConcurrency: 2})
	srv := startPages(b)
	p := newBrowserProber(b, br, probes.BrowserSpec{URL: srv.URL + "/other"})
	benchRun(b, p)
	var peakRSS atomic.Int64
	var peakProcs atomic.Int64
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Go(func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			s := br.Stats()
			if s.RSS > peakRSS.Load() {
				peakRSS.Store(s.RSS)
			}
			if int64(s.Processes) > peakProcs.Load() {
				peakProcs.Store(int64(s.Processes))
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	})
	b.ResetTimer()
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				if _, err := tryRun(b, p); err != nil {
					b.Error(err) // not Fatal: this is not the benchmark's goroutine
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(stop)
	sampler.Wait()
	b.ReportMetric(float64(b.N)/elapsed.Minutes(), "runs/min")
	b.ReportMetric(float64(peakRSS.Load())/(1<<20), "peak-rss-MB")
	b.ReportMetric(float64(peakProcs.Load()), "peak-procs")
}
