package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/results"
	"github.com/vantageprobe/vantage/results/sqlite"
)

// TestMain lets a test run the real command as a subprocess: the test
// binary re-executes itself with VANTAGE_TEST_MAIN=1.
func TestMain(m *testing.M) {
	if os.Getenv("VANTAGE_TEST_MAIN") == "1" {
		os.Args = append([]string{"vantage"}, strings.Split(os.Getenv("VANTAGE_TEST_ARGS"), "\x1f")...)
		main()
		return
	}
	os.Exit(m.Run())
}

// subprocess starts `vantage args...` as a child process.
func subprocess(t *testing.T, args ...string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	return subprocessB(t, args...)
}

// subprocessB is subprocess for tests and benchmarks.
func subprocessB(t testing.TB, args ...string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	return subprocessIn(t, nil, args...)
}

// subprocessIn starts `vantage args...` through a wrapper command, such as
// `ip netns exec NS`.
func subprocessIn(t testing.TB, wrapper []string, args ...string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	argv := append(append([]string(nil), wrapper...), os.Args[0], "-test.run=^$")
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "VANTAGE_TEST_MAIN=1", "VANTAGE_TEST_ARGS="+strings.Join(args, "\x1f"))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd, bufio.NewScanner(stderr)
}

// hits records when the target saw each check's request.
type hits struct {
	mu sync.Mutex
	at map[string][]time.Time
}

func (h *hits) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.at[strings.TrimPrefix(r.URL.Path, "/")] = append(h.at[strings.TrimPrefix(r.URL.Path, "/")], time.Now())
	h.mu.Unlock()
	fmt.Fprint(w, "ok")
}

func (h *hits) before(check string, t time.Time) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, at := range h.at[check] {
		if at.Before(t) {
			n++
		}
	}
	return n
}

// TestCrashKeepsCommittedResults kills `vantage serve` with SIGKILL under
// load, then checks the database opens cleanly and holds every result
// older than the batch window (results are committed at most 200 ms after
// they are produced; the test allows 1 s).
func TestCrashKeepsCommittedResults(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess test")
	}
	h := &hits{at: map[string][]time.Time{}}
	target := httptest.NewServer(h)
	t.Cleanup(target.Close)
	dir := t.TempDir()
	var b strings.Builder
	fmt.Fprintf(&b, "server: {listen: \"127.0.0.1:0\"}\nstorage: {path: results.db}\ndefaults: {interval: 1s, timeout: 900ms}\nchecks:\n")
	const checks = 50
	for i := range checks {
		fmt.Fprintf(&b, "  - {name: c%d, http: {url: \"%s/c%d\"}}\n", i, target.URL, i)
	}
	cfg := filepath.Join(dir, "vantage.yaml")
	if err := os.WriteFile(cfg, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd, _ := subprocess(t, "serve", "-c", cfg, "--log-level", "error")
	deadline := time.Now().Add(20 * time.Second)
	for h.before("c0", time.Now()) < 4 {
		if time.Now().After(deadline) {
			t.Fatal("the server never probed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	_ = cmd.Wait()

	st, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(dir, "results.db")})
	if err != nil {
		t.Fatalf("database does not open after SIGKILL: %v", err)
	}
	defer st.Close()
	cutoff := killed.Add(-time.Second)
	total := 0
	for i := range checks {
		name := fmt.Sprintf("c%d", i)
		recs, err := st.Results(context.Background(), results.Query{Check: name, Until: cutoff, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		// A request seen 50 ms before the cutoff belongs to a probe that
		// started before it; one seen 50 ms after cannot.
		if lo, hi := h.before(name, cutoff.Add(-50*time.Millisecond)), h.before(name, cutoff.Add(50*time.Millisecond)); len(recs) < lo || len(recs) > hi {
			t.Errorf("%s: %d results stored before the cutoff, the target saw %d-%d probes", name, len(recs), lo, hi)
		}
		total += len(recs)
	}
	if total < checks*2 {
		t.Fatalf("only %d results survived", total)
	}
	t.Logf("%d results older than the 1 s window survived SIGKILL", total)
}
