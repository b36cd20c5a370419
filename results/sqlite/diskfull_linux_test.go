package sqlite

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/results"
)

// TestDiskFull runs diskFull in a child of this test binary that has a
// user and mount namespace of its own (unshare -rm), where it can mount a
// 1 MiB tmpfs, fill it and make room again, as root or not.
func TestDiskFull(t *testing.T) {
	if os.Getenv("VANTAGE_DISKFULL_CHILD") == "1" {
		diskFull(t)
		return
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("unshare (util-linux) is missing")
	}
	if out, err := exec.Command(unshare, "-rm", "true").CombinedOutput(); err != nil {
		t.Skipf("no user and mount namespaces here (%v: %s)", err, out)
	}
	cmd := exec.CommandContext(t.Context(), unshare, "-rm", os.Args[0], "-test.run=^TestDiskFull$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "VANTAGE_DISKFULL_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestDiskFull") {
		t.Fatalf("child: %v\n%s", err, out)
	}
	t.Logf("child:\n%s", out)
}

// diskFull: when the disk is full, commits fail and are retried, Write
// keeps queueing up to the queue's bound, Healthy reports the error and
// the error counter rises; when there is room again every record queued
// is stored, once.
func diskFull(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatalf("mount tmpfs: %v", err)
	}
	defer syscall.Unmount(dir, syscall.MNT_DETACH)
	s, err := Open(t.Context(), Options{Path: filepath.Join(dir, "vantage.db"), QueueSize: 50_000, BatchSize: 500, FlushInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	start := time.Now().UTC().Add(-time.Hour)
	written := 0
	write := func(n int) {
		t.Helper()
		recs := make([]results.Record, n)
		for i := range recs {
			recs[i] = rec(written+i, "web", "eu", start.Add(time.Duration(written+i)*time.Millisecond))
			recs[i].Error = strings.Repeat("x", 200) // fill the disk sooner
		}
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		if err := s.Write(ctx, recs...); err != nil {
			t.Fatalf("Write after %d records: %v", written, err)
		}
		written += n
	}
	// Fill the disk: commits start failing with SQLITE_FULL.
	deadline := time.Now().Add(30 * time.Second)
	for s.Healthy() == nil {
		if time.Now().After(deadline) {
			t.Fatalf("the disk never filled (%d records written)", written)
		}
		write(500)
		time.Sleep(10 * time.Millisecond)
	}
	if err := s.Healthy(); !strings.Contains(err.Error(), "full") {
		t.Errorf("Healthy while the disk is full: %v", err)
	}
	t.Logf("disk full after %d records: %v", written, s.Healthy())
	// Writes still queue (up to the bound) while commits fail.
	write(2000)
	time.Sleep(300 * time.Millisecond)
	if st := s.Stats(); st.BatchErrors == 0 {
		t.Errorf("no failed commit counted: %+v", st)
	}
	// Room again: everything queued is stored.
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_REMOUNT, "size=64m"); err != nil {
		t.Fatalf("remount: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := s.Flush(ctx); err != nil {
		// Flush returns the error of a commit that failed while it waited;
		// the writer retries, so wait again.
		if err := s.Flush(ctx); err != nil {
			t.Fatalf("Flush after making room: %v", err)
		}
	}
	if err := s.Healthy(); err != nil {
		t.Errorf("Healthy after making room: %v", err)
	}
	_, total, err := s.Count(ctx, results.CountQuery{Check: "web"})
	if err != nil || total != int64(written) {
		t.Fatalf("stored %d of %d records (%v)", total, written, err)
	}
	if st := s.Stats(); st.RecordsWritten != int64(written) {
		t.Errorf("written %d of %d: %+v", st.RecordsWritten, written, st)
	}
}
