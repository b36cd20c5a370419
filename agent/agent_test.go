package agent_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/agent"
	"github.com/vantageprobe/vantage/config"
	"github.com/vantageprobe/vantage/probes"
	"github.com/vantageprobe/vantage/results"
	"github.com/vantageprobe/vantage/results/sqlite"
	"github.com/vantageprobe/vantage/server"
)

const token = "eu-west-token-0123456789"

// runServer serves cfgPath on addr until the returned stop is called.
func runServer(t testing.TB, cfgPath, addr string) (stop func()) {
	t.Helper()
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Server.AdminListen = "" // none: tests run side by side
	var ln net.Listener
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if ln, err = net.Listen("tcp", addr); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(t.Context(), server.Options{Config: cfg, Listener: ln})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	}
}

func countEU(t *testing.T, db string) int {
	t.Helper()
	st, err := sqlite.Open(t.Context(), sqlite.Options{Path: db})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recs, err := st.Results(t.Context(), results.Query{Check: "api", Region: "eu-west", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range recs {
		if seen[r.ID] {
			t.Fatalf("result %s stored twice", r.ID)
		}
		seen[r.ID] = true
	}
	return len(recs)
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 15s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestAgentSurvivesServerOutage: an agent probes, pushes, keeps probing
// into its spool while the server is down, and after the server comes back
// every result it produced is stored exactly once.
func TestAgentSurvivesServerOutage(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(target.Close)
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfgPath := filepath.Join(dir, "vantage.yaml")
	src := fmt.Sprintf("regions: [{name: eu-west, token: %q}]\nstorage: {path: results.db}\nchecks:\n  - {name: api, interval: 1s, timeout: 500ms, regions: [eu-west], http: {url: %q}}\n", token, target.URL)
	if err := os.WriteFile(cfgPath, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "results.db")
	stopServer := runServer(t, cfgPath, addr)

	spool, err := agent.OpenSpool(t.Context(), agent.SpoolOptions{Path: filepath.Join(dir, "spool.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer spool.Close()
	a, err := agent.New(agent.Options{Server: "http://" + addr, Region: "eu-west", Token: token, Spool: spool,
		PollInterval: 200 * time.Millisecond, PushInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	agentDone := make(chan error, 1)
	go func() { agentDone <- a.Run(ctx) }()

	eventually(t, "first pushed results", func() bool { return a.Runs() >= 2 && spool.Stats().Records == 0 })
	stopServer()
	before := a.Runs()
	eventually(t, "results spooled while the server is down", func() bool { return a.Runs() >= before+3 && spool.Stats().Records >= 3 })
	stopServer = runServer(t, cfgPath, addr)
	eventually(t, "the spool replayed", func() bool { return spool.Stats().Records == 0 })
	cancel()
	if err := <-agentDone; err != nil {
		t.Fatal(err)
	}
	stopServer()
	if got, want := countEU(t, db), int(a.Runs()); got != want {
		t.Fatalf("%d results stored, the agent produced %d", got, want)
	}
}

// TestRefusedResultsSetAside: results the server will never take (here of
// a kind a newer agent knows and the server does not) are set aside one by
// one, counted, and the rest of the spool still reaches the server.
func TestRefusedResultsSetAside(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(target.Close)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "vantage.yaml")
	src := fmt.Sprintf("regions: [{name: eu-west, token: %q}]\nstorage: {path: results.db}\nchecks:\n  - {name: api, interval: 1h, regions: [eu-west], http: {url: %q}}\n", token, target.URL)
	if err := os.WriteFile(cfgPath, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	stop := runServer(t, cfgPath, addr)

	spool, err := agent.OpenSpool(t.Context(), agent.SpoolOptions{Path: filepath.Join(dir, "spool.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer spool.Close()
	start := time.Now().UTC().Add(-time.Minute)
	var recs []results.Record
	for i := range 40 {
		kind := probes.KindHTTP
		if i%7 == 3 {
			kind = "icmp" // from a newer agent: this server does not know the kind
		}
		recs = append(recs, results.Record{ID: fmt.Sprintf("%032x", i+1), Check: "api", Region: "eu-west", Kind: kind,
			Target: target.URL, Started: start.Add(time.Duration(i) * time.Second), OK: true, Duration: time.Millisecond})
	}
	if err := spool.Append(t.Context(), recs...); err != nil {
		t.Fatal(err)
	}
	a, err := agent.New(agent.Options{Server: "http://" + addr, Region: "eu-west", Token: token, Spool: spool})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.PushAll(t.Context()); err != nil {
		t.Fatalf("push: %v", err)
	}
	if n := spool.Stats().Records; n != 0 {
		t.Fatalf("%d results left in the spool", n)
	}
	if a.Rejected() != 6 {
		t.Errorf("%d results set aside, want the 6 the server refuses", a.Rejected())
	}
	stop()
	if got := countEU(t, filepath.Join(dir, "results.db")); got != 34 {
		t.Fatalf("%d results of api stored, want 34", got)
	}
}
