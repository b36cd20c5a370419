package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestAgentProcess runs `vantage serve` and `vantage agent` as separate
// processes: results of the agent's region arrive, an agent stopped with
// SIGTERM exits 0, and usage errors exit 2.
func TestAgentProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess test")
	}
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(target.Close)
	dir := t.TempDir()
	listen := freeAddr(t)
	tokenFile := filepath.Join(dir, "eu.token")
	if err := os.WriteFile(tokenFile, []byte("eu-west-token-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "vantage.yaml")
	src := fmt.Sprintf("server: {listen: %q, admin_listen: \"off\", public_api: true}\nstorage: {path: r.db}\nregions: [{name: eu-west, token_file: eu.token}]\nchecks:\n  - {name: api, interval: 1s, regions: [local, eu-west], http: {url: %q}}\n", listen, target.URL)
	if err := os.WriteFile(cfg, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	subprocess(t, "serve", "-c", cfg, "--log-level", "error")
	base := "http://" + listen
	eventually(t, "server up", func() bool { return len(checkNames(t, base)) == 1 })
	ag, _ := subprocess(t, "agent", "--server", base, "--region", "eu-west", "--token-file", tokenFile, "--spool", filepath.Join(dir, "spool.db"), "--log-level", "error")

	eventually(t, "a result from eu-west", func() bool {
		resp, err := http.Get(base + "/api/v1/checks/api")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var c struct {
			Regions []struct{ Region, State string }
		}
		if json.NewDecoder(resp.Body).Decode(&c) != nil {
			return false
		}
		for _, r := range c.Regions {
			if r.Region == "eu-west" && r.State == "up" {
				return true
			}
		}
		return false
	})
	if err := ag.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := ag.Wait(); err != nil {
		t.Fatalf("agent after SIGTERM: %v", err)
	}
	for _, args := range [][]string{{"agent"}, {"agent", "--server", base, "--region", "eu-west", "--token-file", filepath.Join(dir, "missing")}} {
		if code, _, errOut := vantage(t, args...); code != 2 || !strings.Contains(errOut, "vantage agent:") {
			t.Errorf("vantage %v: exit %d %s", args, code, errOut)
		}
	}
}
