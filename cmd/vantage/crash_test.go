package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/alerts/webhook"
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

// hangingHook is a webhook receiver that holds every request while
// hanging is set (as a stuck endpoint does) and otherwise counts each
// notification it answers, by status.
type hangingHook struct {
	mu       sync.Mutex
	hanging  bool
	held     int // requests held
	answered []webhook.Payload
}

func (h *hangingHook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var p webhook.Payload
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	hang := h.hanging
	if hang {
		h.held++
	} else {
		h.answered = append(h.answered, p)
	}
	h.mu.Unlock()
	if hang {
		<-r.Context().Done() // until the sender goes away
	}
}

func (h *hangingHook) state() (held int, answered []webhook.Payload) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.held, append([]webhook.Payload(nil), h.answered...)
}

// TestCrashKeepsCommittedResults kills `vantage serve` with SIGKILL while
// it probes 1,000 checks every second and an alert's notification hangs
// in a receiver. The database opens and holds every result older than the
// batch window (1 s), each probe once, and at least every result it
// reported committed. A restart on the same
// files carries on: the alert is still firing since the same time, and
// the notification left in the outbox is delivered, once, without a new
// one for the same alert.
func TestCrashKeepsCommittedResults(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess test")
	}
	h := &hits{at: map[string][]time.Time{}}
	target := httptest.NewServer(h)
	t.Cleanup(target.Close)
	hook := &hangingHook{hanging: true}
	recv := httptest.NewServer(hook)
	t.Cleanup(recv.Close)
	dir := t.TempDir()
	listen := freeAddr(t)
	var b strings.Builder
	fmt.Fprintf(&b, `server: {listen: %q, admin_listen: "off", public_api: true}
storage: {path: results.db}
defaults: {interval: 1s, timeout: 900ms}
notifiers: [{name: hook, webhook: {url: %q, timeout: 60s}}]
alerts: [{name: bad-down, checks: [bad], consecutive_failures: 2, group_wait: 10ms, group_interval: 10ms, notify: [hook]}]
checks:
  - {name: bad, http: {url: "%s/bad", expect: {status: [204]}}}
`, listen, recv.URL, target.URL)
	const checks = 1000
	for i := range checks {
		fmt.Fprintf(&b, "  - {name: c%d, http: {url: \"%s/c%d\"}}\n", i, target.URL, i)
	}
	cfg := filepath.Join(dir, "vantage.yaml")
	if err := os.WriteFile(cfg, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd, _ := subprocess(t, "serve", "-c", cfg, "--log-level", "error")
	deadline := time.Now().Add(60 * time.Second)
	// Under load for a few seconds, and the alert's notification held.
	for h.before("c0", time.Now()) < 4 || h.before("c999", time.Now()) < 4 {
		if time.Now().After(deadline) {
			t.Fatal("the server never probed every check")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for held, _ := hook.state(); held == 0; held, _ = hook.state() {
		if time.Now().After(deadline) {
			t.Fatal("the alert never notified")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// What the server says it committed, just before the kill.
	committed := scrapeCounter(t, "http://"+listen+"/metrics", "vantage_results_written_total")
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	_ = cmd.Wait()

	st, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(dir, "results.db")})
	if err != nil {
		t.Fatalf("database does not open after SIGKILL: %v", err)
	}
	// Results are committed at most 200 ms after they are produced; the
	// test allows 1 s. A race build is several times slower and shares
	// two cores with the other packages' tests, so its backlog can reach
	// seconds: there the test holds the server to what it reported
	// committed instead (below).
	cutoff := killed.Add(-time.Second)
	total, stored := 0, int64(0)
	for i := range checks {
		name := fmt.Sprintf("c%d", i)
		recs, err := st.Results(context.Background(), results.Query{Check: name, Until: cutoff, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		// A request seen 50 ms before the cutoff belongs to a probe that
		// started before it: none lost.
		if lo := h.before(name, cutoff.Add(-50*time.Millisecond)); !raceBuild && len(recs) < lo {
			t.Errorf("%s: %d results stored before the cutoff, the target saw %d probes", name, len(recs), lo)
		}
		_, n, err := st.Count(context.Background(), results.CountQuery{Check: name})
		if err != nil {
			t.Fatal(err)
		}
		stored += n
		// One result per run: a run recorded twice has two records with
		// the same start (an ID stored twice is refused by the table).
		seen := make(map[time.Time]string, len(recs))
		for _, r := range recs {
			if other, dup := seen[r.Started]; dup {
				t.Errorf("%s: results %s and %s are one run (started %s)", name, other, r.ID, r.Started)
			}
			seen[r.Started] = r.ID
		}
		total += len(recs)
	}
	st.Close()
	// Every result the server counted as committed survived (the bad
	// check's too: at most a few, counted by the target).
	if bad := int64(h.before("bad", killed)); stored+bad < int64(committed) {
		t.Errorf("%d results of the c checks stored (+ at most %d of bad), the server had committed %.0f", stored, bad, committed)
	}
	if total < checks*2 && !raceBuild {
		t.Fatalf("only %d results survived", total)
	}
	t.Logf("%d results older than the 1 s window and %d in all survived SIGKILL; %.0f were committed by the last scrape", total, stored, committed)

	// Restart on the same files, with the receiver answering now.
	hook.mu.Lock()
	hook.hanging = false
	hook.mu.Unlock()
	restarted := time.Now()
	subprocess(t, "serve", "-c", cfg, "--log-level", "error")
	var firing []webhook.Payload
	for {
		_, got := hook.state()
		if len(got) > 0 {
			firing = got
			break
		}
		if time.Since(restarted) > 60*time.Second {
			t.Fatal("the notification left in the outbox was not delivered after the restart")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if p := firing[0]; p.Status != "firing" || len(p.Alerts) != 1 || p.Alerts[0].Labels["check"] != "bad" || !p.Alerts[0].StartsAt.Before(killed) {
		t.Fatalf("delivered after the restart: %+v", p)
	}
	startsAt := firing[0].Alerts[0].StartsAt
	// The alert state survived: still firing since the same time. Were it
	// lost, the alert would fire again (2 failures, about 2 s) and notify
	// a second time.
	var list struct {
		Alerts []struct {
			Check, State string
			StartsAt     time.Time `json:"starts_at"`
		}
	}
	for {
		list.Alerts = nil
		resp, err := http.Get("http://" + listen + "/api/v1/alerts")
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&list)
			resp.Body.Close()
		}
		if err == nil && len(list.Alerts) == 1 {
			break
		}
		if time.Since(restarted) > 60*time.Second {
			t.Fatalf("GET /api/v1/alerts after the restart: %+v (%v)", list, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if a := list.Alerts[0]; a.Check != "bad" || a.State != "firing" || !a.StartsAt.Equal(startsAt) {
		t.Errorf("after the restart the alert is %+v, want firing since %s", a, startsAt)
	}
	time.Sleep(5 * time.Second)
	if _, got := hook.state(); len(got) != 1 {
		t.Errorf("%d notifications after the restart, want the one from the outbox: %+v", len(got), got)
	}
	t.Logf("after the restart: the outbox's notification delivered once, the alert firing since %s", startsAt.Format(time.RFC3339Nano))
}

// scrapeCounter reads an unlabelled counter from a /metrics URL.
func scrapeCounter(t *testing.T, url, name string) float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			return f
		}
	}
	t.Fatalf("no %s in %s", name, url)
	return 0
}
