package sqlite

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/probes/probestest"
	"github.com/vantageprobe/vantage/results"
)

// TestDiskFull runs diskFull in a namespace child (probestest.InNamespace).
func TestDiskFull(t *testing.T) { probestest.InNamespace(t, "TestDiskFull", diskFull) }

// diskFull: when the disk is full, commits fail and are retried, writes
// keep queueing up to the queue's bound and WriteOrDrop then drops and
// counts what does not fit, without waiting; Healthy reports the error
// and the error counter rises; when there is room again every record
// queued is stored, once.
func diskFull(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatalf("mount tmpfs: %v", err)
	}
	defer syscall.Unmount(dir, syscall.MNT_DETACH)
	const queueSize = 20_000
	logs := &probestest.SyncBuffer{}
	s, err := Open(t.Context(), Options{Path: filepath.Join(dir, "vantage.db"), QueueSize: queueSize, BatchSize: 500, FlushInterval: 20 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	start := time.Now().UTC().Add(-time.Hour)
	next := 0    // records made
	written := 0 // records queued
	batch := func(n int) []results.Record {
		recs := make([]results.Record, n)
		for i := range recs {
			recs[i] = rec(next+i, "web", "eu", start.Add(time.Duration(next+i)*time.Millisecond))
			recs[i].Error = strings.Repeat("x", 200) // fill the disk sooner
		}
		next += n
		return recs
	}
	write := func(n int) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		if err := s.Write(ctx, batch(n)...); err != nil {
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
		if s.Stats().QueueDepth > queueSize/2 {
			// The writer is behind (it is slow under -race on a loaded
			// machine): let it commit, or fail to, rather than wait in
			// Write for room in a full queue.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		write(500)
		time.Sleep(10 * time.Millisecond)
	}
	if err := s.Healthy(); !strings.Contains(err.Error(), "full") {
		t.Errorf("Healthy while the disk is full: %v", err)
	}
	t.Logf("disk full after %d records: %v", written, s.Healthy())
	// Writes still queue up to the bound while commits fail; beyond it
	// WriteOrDrop drops and counts, one record at a time as the scheduler
	// writes, and never waits.
	dropped := 0
	began := time.Now()
	const offered = 2 * queueSize
	for range offered {
		n, err := s.WriteOrDrop(batch(1)...)
		if err != nil {
			t.Fatalf("WriteOrDrop: %v", err)
		}
		dropped += n
		written += 1 - n
	}
	if took := time.Since(began); took > 10*time.Second {
		t.Errorf("WriteOrDrop of %d records took %s: it waited", offered, took)
	}
	if dropped < queueSize || dropped == offered {
		t.Fatalf("%d of %d records dropped: the queue should have taken some and refused the rest", dropped, offered)
	}
	st := s.Stats()
	if st.BatchErrors == 0 {
		t.Errorf("no failed commit counted: %+v", st)
	}
	if st.Dropped != int64(dropped) {
		t.Errorf("Stats.Dropped %d, WriteOrDrop dropped %d", st.Dropped, dropped)
	}
	if err := s.TryWrite(batch(1)...); !errors.Is(err, ErrQueueFull) {
		t.Errorf("TryWrite into a full queue: %v, want ErrQueueFull", err)
	}
	t.Logf("queue full: %d records waiting, %d dropped", st.QueueDepth, dropped)
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
	// The error logs tell of every dropped record by Close, however
	// they were spaced.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	logged := 0
	for _, m := range regexp.MustCompile(`msg="results dropped: [^"]*" dropped=(\d+)`).FindAllStringSubmatch(logs.String(), -1) {
		n, _ := strconv.Atoi(m[1])
		logged += n
	}
	if logged != dropped {
		t.Errorf("the logs tell of %d dropped records, %d were dropped:\n%s", logged, dropped, logs.String())
	}
}

// TestReadOnlyFileSystem runs readOnly in a namespace child.
func TestReadOnlyFileSystem(t *testing.T) {
	probestest.InNamespace(t, "TestReadOnlyFileSystem", readOnly)
}

// readOnly: a database on a file system mounted read-only (as after an
// I/O error with errors=remount-ro) is refused at open with a message
// that says so and names the file; the file is left as it was, and opens
// with every record once the file system is writable again.
func readOnly(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=8m"); err != nil {
		t.Fatalf("mount tmpfs: %v", err)
	}
	defer syscall.Unmount(dir, syscall.MNT_DETACH)
	path := filepath.Join(dir, "vantage.db")
	s, err := Open(t.Context(), Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().UTC().Add(-time.Hour)
	for i := range 100 {
		if err := s.Write(t.Context(), rec(i, "web", "eu", start.Add(time.Duration(i)*time.Second))); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		t.Fatalf("remount read-only: %v", err)
	}
	_, err = Open(t.Context(), Options{Path: path})
	if err == nil {
		t.Fatal("a database on a read-only file system opened")
	}
	if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("the error does not name the file and say it is read-only: %v", err)
	}
	t.Logf("refused: %v", err)
	if after, err := os.ReadFile(path); err != nil || !bytes.Equal(before, after) {
		t.Fatalf("the file changed (%v)", err)
	}
	// A new database there: the same.
	if _, err := Open(t.Context(), Options{Path: filepath.Join(dir, "new.db")}); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("a new database on a read-only file system: %v", err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_REMOUNT, ""); err != nil {
		t.Fatalf("remount read-write: %v", err)
	}
	s, err = Open(t.Context(), Options{Path: path})
	if err != nil {
		t.Fatalf("open after remounting read-write: %v", err)
	}
	defer s.Close()
	if _, total, err := s.Count(t.Context(), results.CountQuery{Check: "web"}); err != nil || total != 100 {
		t.Fatalf("%d records after remounting (%v), want 100", total, err)
	}
}
