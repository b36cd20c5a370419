package probes_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/probes"
)

// Bounds measured on Chromium 156 (headless, --no-sandbox, --disable-gpu):
// an idle browser is 5-6 processes (browser, two zygotes, GPU, network and
// storage utilities) and about 250 MB of summed RSS; each open tab adds a
// renderer.
const (
	maxIdleProcesses = 12
	maxIdleRSS       = 600 << 20
)

// vantageChromiums counts every process on the machine whose command line
// names a Vantage profile dir under os.TempDir() (every Chromium process,
// and its crash handlers, whose database is under the profile): a process
// that outlived its Browser shows up here. Tests that call it give
// themselves a TMPDIR of their own (privateTempDir), so that browsers of
// other test binaries running at the same time are not counted.
func vantageChromiums(t testing.TB) int {
	t.Helper()
	prefix := []byte(filepath.Join(os.TempDir(), "vantage-chromium-"))
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && bytes.Contains(cmdline, prefix) && !isZombie(e.Name()) {
			n++
		}
	}
	return n
}

// privateTempDir points TMPDIR (and so the Browser's profile dir) at a
// directory of this test only.
func privateTempDir(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
}

func isZombie(pid string) bool {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	i := bytes.LastIndexByte(b, ')')
	return err != nil || i < 0 || i+2 >= len(b) || b[i+2] == 'Z'
}

// TestBrowserLeak: 200 runs leave the browser at its idle size.
func TestBrowserLeak(t *testing.T) {
	const runs, workers = 200, 2
	privateTempDir(t)
	b := newBrowser(t, probes.BrowserOptions{MaxConcurrency: workers})
	srv := startPages(t)
	p := newBrowserProber(t, b, probes.BrowserSpec{URL: srv.URL + "/other"})
	var wg sync.WaitGroup
	errs := make(chan error, runs)
	for range workers {
		wg.Go(func() {
			for range runs / workers {
				ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
				r, err := p.Probe(ctx)
				cancel()
				if err == nil && !r.OK {
					err = r.Err
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("run: %v", err)
	}
	s := b.Stats()
	t.Logf("after %d runs: %+v (RSS %d MB)", runs, s, s.RSS>>20)
	if s.Runs != runs || s.InFlight != 0 || s.Starts != 1 || s.Restarts != 0 {
		t.Errorf("stats %+v: want %d runs, none in flight, one start", s, runs)
	}
	if s.Processes < 2 || s.Processes > maxIdleProcesses || s.RSS > maxIdleRSS {
		t.Errorf("%d processes, %d MB: want 2-%d processes and at most %d MB", s.Processes, s.RSS>>20, maxIdleProcesses, maxIdleRSS>>20)
	}
	if n := vantageChromiums(t); n != s.Processes {
		t.Errorf("%d Chromium processes with a Vantage profile on the machine, Stats says %d", n, s.Processes)
	}
}

// TestBrowserCrash: SIGKILL of Chromium during a run gives that run a
// prober error and the next run a new browser.
func TestBrowserCrash(t *testing.T) {
	b := newBrowser(t, probes.BrowserOptions{})
	arrived := make(chan struct{}, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("/block", func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-r.Context().Done()
	})
	mux.HandleFunc("/ok", html(`<p>ok</p>`))
	srv := startHTTP(t, mux)
	wantOutcome(t, browse(t, b, probes.BrowserSpec{URL: srv.URL + "/ok"}), true, nil)
	pid, dir := probes.BrowserPID(b), probes.BrowserProfileDir(b)

	p := newBrowserProber(t, b, probes.BrowserSpec{URL: srv.URL + "/block"})
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		_, err := p.Probe(ctx)
		done <- err
	}()
	<-arrived
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "browser crashed; restarting") {
			t.Fatalf("Probe during the crash: %v, want a prober error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Probe did not return after the browser died")
	}

	wantOutcome(t, browse(t, b, probes.BrowserSpec{URL: srv.URL + "/ok"}), true, nil)
	if s := b.Stats(); s.Starts != 2 || s.Restarts != 1 || probes.BrowserPID(b) == pid {
		t.Errorf("stats %+v: want a second start", s)
	}
	if left := probes.ProcessesUsing(dir); len(left) > 0 {
		t.Errorf("processes of the crashed browser are left: %v", left)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("profile dir of the crashed browser: %v", err)
	}
}

// TestBrowserHang: a browser that stops answering (SIGSTOP) makes the run a
// prober error and is replaced.
func TestBrowserHang(t *testing.T) {
	b := newBrowser(t, probes.BrowserOptions{})
	probes.SetBrowserCallTimeout(b, 500*time.Millisecond)
	srv := startPages(t)
	spec := probes.BrowserSpec{URL: srv.URL + "/other"}
	wantOutcome(t, browse(t, b, spec), true, nil)
	pid := probes.BrowserPID(b)
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGCONT) })
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err := newBrowserProber(t, b, spec).Probe(ctx)
	if err == nil || !strings.Contains(err.Error(), "browser hung; restarting") {
		t.Fatalf("Probe on a stopped browser: %v, want a prober error", err)
	}
	wantOutcome(t, browse(t, b, spec), true, nil)
	if s := b.Stats(); s.Restarts != 1 || probes.BrowserPID(b) == pid {
		t.Errorf("stats %+v: want one restart", s)
	}
}

// TestBrowserMemoryLimit: a process tree over the limit is restarted
// before the next run.
func TestBrowserMemoryLimit(t *testing.T) {
	b := newBrowser(t, probes.BrowserOptions{MemoryLimit: 1})
	srv := startPages(t)
	for range 2 {
		wantOutcome(t, browse(t, b, probes.BrowserSpec{URL: srv.URL + "/other"}), true, nil)
	}
	if s := b.Stats(); s.Starts != 2 || s.Restarts != 1 || s.Runs != 2 {
		t.Errorf("stats %+v: want a restart between the two runs", s)
	}
	dir := probes.BrowserProfileDir(b)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if left := probes.ProcessesUsing(dir); len(left) > 0 {
		t.Errorf("after Close, processes are left: %v", left)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	_, err := newBrowserProber(t, b, probes.BrowserSpec{URL: srv.URL + "/other"}).Probe(t.Context())
	if err == nil {
		t.Errorf("Probe after Close: no error")
	}
}
