package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func checkNames(t *testing.T, base string) []string {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/checks")
	if err != nil {
		return nil // not listening yet
	}
	defer resp.Body.Close()
	var list struct{ Checks []struct{ Name string } }
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range list.Checks {
		names = append(names, c.Name)
	}
	return names
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

// TestSignals: SIGHUP reloads (a broken file is rejected and the running
// checks stay), the admin listener's POST /-/reload does the same, and
// SIGTERM exits 0.
func TestSignals(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess test")
	}
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(target.Close)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "vantage.yaml")
	listen, admin := freeAddr(t), freeAddr(t)
	write := func(checks ...string) {
		var b strings.Builder
		fmt.Fprintf(&b, "server: {listen: %q, admin_listen: %q, public_api: true}\nstorage: {path: r.db}\nchecks:\n", listen, admin)
		for _, c := range checks {
			fmt.Fprintf(&b, "  - {name: %s, http: {url: %q}}\n", c, target.URL)
		}
		if err := os.WriteFile(cfg, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("a")
	cmd, _ := subprocess(t, "serve", "-c", cfg, "--log-level", "error")
	base := "http://" + listen
	eventually(t, "serving a", func() bool { return strings.Join(checkNames(t, base), ",") == "a" })

	write("a", "b")
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	eventually(t, "SIGHUP adds b", func() bool { return strings.Join(checkNames(t, base), ",") == "a,b" })

	if err := os.WriteFile(cfg, []byte("checks: [{name: a, bogus: 1}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post("http://"+admin+"/-/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("reload of a broken file: %d", resp.StatusCode)
	}
	if got := strings.Join(checkNames(t, base), ","); got != "a,b" {
		t.Fatalf("running checks changed after a rejected reload: %s", got)
	}
	write("c")
	if resp, err = http.Post("http://"+admin+"/-/reload", "", nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("admin reload: %v %v", err, resp)
	}
	resp.Body.Close()
	if got := strings.Join(checkNames(t, base), ","); got != "c" {
		t.Fatalf("after admin reload: %s", got)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
}
