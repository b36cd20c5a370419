package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/config"
	"github.com/vantageprobe/vantage/probes/probestest"
	"github.com/vantageprobe/vantage/results"
	"github.com/vantageprobe/vantage/results/sqlite"
	"github.com/vantageprobe/vantage/server"
)

// TestServeDiskFull runs serveDiskFull in a namespace child
// (probestest.InNamespace), where it mounts a small tmpfs for the
// database, as root or not.
func TestServeDiskFull(t *testing.T) {
	if testing.Short() {
		t.Skip("namespace test")
	}
	probestest.InNamespace(t, "TestServeDiskFull", serveDiskFull)
}

// serveDiskFull: another file fills the database's disk under a running
// server. Probing goes on, the results queue fills to storage.queue_size
// and the rest are dropped and counted, /readyz fails and an error is
// logged; once the file is gone the queue is stored, /readyz recovers, and
// stored + dropped equals every result produced.
func serveDiskFull(t *testing.T) {
	dir := t.TempDir()
	disk := filepath.Join(dir, "disk")
	if err := os.Mkdir(disk, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", disk, "tmpfs", 0, "size=4m"); err != nil {
		t.Fatalf("mount tmpfs: %v", err)
	}
	defer syscall.Unmount(disk, syscall.MNT_DETACH)

	ok, _ := targets(t)
	const checks = 50
	var b strings.Builder
	fmt.Fprintf(&b, "server: {admin_listen: \"off\"}\nstorage: {path: %q, queue_size: 500}\nregions: [{name: eu-west, token: %q}]\n"+
		"defaults: {interval: 1s, timeout: 500ms}\nchecks:\n", filepath.Join(disk, "results.db"), euToken)
	for i := range checks {
		fmt.Fprintf(&b, "  - {name: c%d, http: {url: %q}}\n", i, ok)
	}
	fmt.Fprintf(&b, "  - {name: remote, regions: [eu-west], http: {url: %q}}\n", ok)
	cfgPath := filepath.Join(dir, "vantage.yaml")
	if err := os.WriteFile(cfgPath, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	logs := &probestest.SyncBuffer{}
	srv, err := server.New(t.Context(), server.Options{Config: cfg, ConfigPath: cfgPath, Listener: ln,
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() {
		if cancel != nil {
			cancel()
			<-done
		}
	}()
	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	until := func(what string, within time.Duration, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(within)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within %s", what, within)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	until("ready", 10*time.Second, func() bool { code, _ := get("/readyz"); return code == 200 })

	// Another file takes every free block.
	filler, err := os.Create(filepath.Join(disk, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	for {
		if _, err := filler.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill the disk: %v", err)
			}
			break
		}
	}
	filler.Close()
	until("/readyz failing", 20*time.Second, func() bool { code, _ := get("/readyz"); return code == 503 })
	_, body := get("/readyz")
	if !strings.Contains(body, "full") {
		t.Errorf("/readyz while the disk is full: %s", body)
	}
	// An agent's batch is refused at once, not queued: it stays in the
	// agent's spool.
	began := time.Now()
	resp, ingest := agentRequest(t, http.MethodPost, base+"/api/v1/agent/results", euToken, batch(t, agentRecord("remote", "eu-west", time.Now())), nil)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(ingest), "full") || time.Since(began) > 2*time.Second {
		t.Errorf("agent ingest while the disk is full: %d %s after %s", resp.StatusCode, ingest, time.Since(began))
	}
	// Probing goes on: the queue fills (500 results, 10 s at 50 a second)
	// and the rest are dropped and counted.
	runs := srv.Runs()
	until("results dropped", 30*time.Second, func() bool { return metric(t, get, "vantage_results_dropped_total") > 0 })
	until("probing going on", 10*time.Second, func() bool { return srv.Runs() > runs+2*checks })
	if !strings.Contains(logs.String(), "results dropped: the queue is full") {
		t.Errorf("no error logged for the dropped results:\n%s", logs.String())
	}
	if depth := metric(t, get, "vantage_results_queue_depth"); depth < 400 || depth > 500 {
		t.Errorf("queue depth %v while full, want about 500", depth)
	}
	t.Logf("disk full: %v runs, %v dropped, %v batch errors", srv.Runs(), metric(t, get, "vantage_results_dropped_total"),
		metric(t, get, "vantage_results_batch_errors_total"))

	// Room again: the queue is stored and /readyz recovers.
	if err := os.Remove(filepath.Join(disk, "filler")); err != nil {
		t.Fatal(err)
	}
	until("/readyz recovering", 20*time.Second, func() bool { code, _ := get("/readyz"); return code == 200 })
	until("the queue drained", 20*time.Second, func() bool { return metric(t, get, "vantage_results_queue_depth") < 200 })
	dropped := int64(metric(t, get, "vantage_results_dropped_total"))
	cancel()
	cancel = nil
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	produced := srv.Runs()

	st, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(disk, "results.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var stored int64
	for i := range checks {
		_, n, err := st.Count(context.Background(), results.CountQuery{Check: fmt.Sprintf("c%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		stored += n
	}
	if stored+dropped != produced {
		t.Fatalf("stored %d + dropped %d = %d, produced %d", stored, dropped, stored+dropped, produced)
	}
	t.Logf("produced %d = stored %d + dropped %d", produced, stored, dropped)
}
