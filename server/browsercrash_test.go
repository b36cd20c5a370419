package server_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/results"
)

// TestChromiumKilledMidRun: Chromium killed while a browser check runs
// makes that run alone a prober error (counted, no result stored); an
// HTTP check beside it keeps succeeding on time, and the browser check
// runs again on a new Chromium.
func TestChromiumKilledMidRun(t *testing.T) {
	arrived := make(chan struct{}, 16)
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/block" {
			select {
			case arrived <- struct{}{}:
			default:
			}
			<-r.Context().Done()
			return
		}
		fmt.Fprint(w, "ok")
	}))
	t.Cleanup(page.Close)
	e := start(t, fmt.Sprintf("  - {name: page, interval: 2s, timeout: 1500ms, browser: {url: %q}}\n  - {name: api, interval: 1s, http: {url: %q}}\n",
		page.URL+"/block", page.URL+"/ok"))
	select {
	case <-arrived:
	case <-time.After(30 * time.Second):
		t.Fatal("the browser check never reached the page")
	}
	errorsBefore := metric(t, e.getBody, "vantage_scheduler_errors_total")
	killed := time.Now()
	pids := ourChromiums(t)
	if len(pids) == 0 {
		t.Fatal("no Chromium started by this test process")
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
	}
	// The browser check runs again, on a new Chromium.
	for len(arrived) > 0 {
		<-arrived
	}
	select {
	case <-arrived:
	case <-time.After(30 * time.Second):
		t.Fatal("the browser check did not run again after Chromium was killed")
	}
	// The run in progress is not recorded: a prober error, counted, not
	// a verdict on the page.
	if after := metric(t, e.getBody, "vantage_scheduler_errors_total"); after != errorsBefore+1 {
		t.Errorf("vantage_scheduler_errors_total %v → %v, want one more: the killed run", errorsBefore, after)
	}
	for _, pid := range ourChromiums(t) {
		if slices.Contains(pids, pid) {
			t.Fatalf("Chromium %d survived SIGKILL", pid)
		}
	}
	// The HTTP check went on, every run a success, about one a second.
	time.Sleep(time.Second)
	recs, err := e.srv.Store().Results(t.Context(), results.Query{Check: "api", Since: killed.Add(-time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if span := time.Since(killed); len(recs) < int(span.Seconds())-1 {
		t.Errorf("%d api results in the %s since the kill, want one a second", len(recs), span.Round(time.Millisecond))
	}
	for _, r := range recs {
		if !r.OK {
			t.Errorf("api failed at %s: %s %s", r.Started, r.ErrorClass, r.Error)
		}
	}
	e.get(t, "/readyz", 200, nil)
}

// ourChromiums returns the Chromium processes this test process started
// (its children with a Vantage profile); other packages' tests run their
// own at the same time.
func ourChromiums(t *testing.T) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skip("no /proc")
	}
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err1 := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		stat, err2 := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err1 != nil || err2 != nil || !bytes.Contains(cmdline, []byte("--user-data-dir=")) || !bytes.Contains(cmdline, []byte("vantage-chromium-")) {
			continue
		}
		// stat: pid (comm) state ppid …; comm may hold spaces.
		rest := stat[bytes.LastIndexByte(stat, ')')+2:]
		var state string
		var ppid int
		if _, err := fmt.Sscan(string(rest), &state, &ppid); err == nil && ppid == os.Getpid() {
			out = append(out, pid)
		}
	}
	return out
}
