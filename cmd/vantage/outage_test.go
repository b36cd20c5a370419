package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/results"
	"github.com/vantageprobe/vantage/results/sqlite"
)

// TestRegionsSurviveOutages runs a server and two agents as processes. The
// server is killed (SIGKILL) for 20 s and restarted, and one agent is
// stopped and restarted while the server is down: afterwards every result
// the agents produced — one per request the target saw — is stored, once.
func TestRegionsSurviveOutages(t *testing.T) {
	if testing.Short() {
		t.Skip("a 30 s multi-process test")
	}
	var hits atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(target.Close)
	dir := t.TempDir()
	cfg, base, agentArgs := twoRegions(t, dir, freeAddr(t), "eu-west, us-east", target.URL)
	srv, _ := subprocess(t, "serve", "-c", cfg, "--log-level", "error")
	eu, _ := subprocess(t, agentArgs("eu-west", "eu")...)
	us, _ := subprocess(t, agentArgs("us-east", "us")...)
	eventually(t, "first results", func() bool { return hits.Load() >= 4 })

	if err := srv.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = srv.Wait()
	time.Sleep(10 * time.Second) // agents probe into their spools
	stopProcess(t, us)           // graceful: its spool keeps what it could not push
	us, _ = subprocess(t, agentArgs("us-east", "us")...)
	time.Sleep(10 * time.Second)
	srv, _ = subprocess(t, "serve", "-c", cfg, "--log-level", "error")
	eventually(t, "server back", func() bool { return len(checkNames(t, base)) == 1 })
	time.Sleep(15 * time.Second) // the agents' backoff (at most 10 s) ends and their spools drain
	stopProcess(t, eu)
	stopProcess(t, us)
	stopProcess(t, srv)

	st, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(dir, "r.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	total := 0
	for _, region := range []string{"eu-west", "us-east"} {
		recs, err := st.Results(context.Background(), results.Query{Check: "api", Region: region, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		total += len(recs)
	}
	if total != int(hits.Load()) {
		t.Fatalf("%d results stored, the agents probed %d times", total, hits.Load())
	}
	t.Logf("%d results from two agents across a 20 s server outage and an agent restart, all stored once", total)
}

// stopProcess sends SIGTERM and waits for a clean exit.
func stopProcess(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%v after SIGTERM: %v", cmd.Args[len(cmd.Args)-1], err)
	}
}

// twoRegions writes a config with the regions eu-west and us-east (token
// files eu.token and us.token) and one check, api, probing targetURL every
// second from checkRegions. It returns the config's path, the server's
// base URL and the arguments of `vantage agent` for a region.
func twoRegions(t *testing.T, dir, listen, checkRegions, targetURL string) (cfg, base string, agentArgs func(region, name string) []string) {
	t.Helper()
	for name, tok := range map[string]string{"eu": "eu-west-token-0123456789", "us": "us-east-token-0123456789"} {
		if err := os.WriteFile(filepath.Join(dir, name+".token"), []byte(tok), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg = filepath.Join(dir, "vantage.yaml")
	src := fmt.Sprintf("server: {listen: %q, admin_listen: \"off\", public_api: true}\nstorage: {path: r.db}\nregions: [{name: eu-west, token_file: eu.token}, {name: us-east, token_file: us.token}]\n"+
		"checks:\n  - {name: api, interval: 1s, timeout: 500ms, regions: [%s], http: {url: %q}}\n", listen, checkRegions, targetURL)
	if err := os.WriteFile(cfg, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	base = "http://" + listen
	agentArgs = func(region, name string) []string {
		return []string{"agent", "--server", base, "--region", region, "--token-file", filepath.Join(dir, name+".token"),
			"--spool", filepath.Join(dir, name+"-spool.db"), "--log-level", "error"}
	}
	return cfg, base, agentArgs
}
