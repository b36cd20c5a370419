package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/probes"
	"github.com/vantageprobe/vantage/results"
	"github.com/vantageprobe/vantage/results/storetest"
)

func TestContract(t *testing.T) {
	var mu sync.Mutex
	paths := map[*testing.T]string{} // one database file per test
	storetest.Run(t, func(t *testing.T) results.Store {
		mu.Lock()
		path, ok := paths[t]
		if !ok {
			path = filepath.Join(t.TempDir(), "vantage.db")
			paths[t] = path
		}
		mu.Unlock()
		return openStore(t, Options{Path: path})
	})
}

// openStore opens a store and closes it at the end of the test.
func openStore(t *testing.T, o Options) *Store {
	t.Helper()
	if o.Path == "" {
		o.Path = filepath.Join(t.TempDir(), "vantage.db")
	}
	s, err := Open(t.Context(), o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// rec returns a passing record; ids are unique per test.
func rec(id int, check, region string, started time.Time) results.Record {
	return results.Record{
		ID: fmt.Sprintf("rec-%06d", id), Check: check, Region: region, Kind: probes.KindHTTP,
		Target: "http://127.0.0.1/", Started: started, Duration: time.Duration(id%97+1) * time.Millisecond, OK: true,
	}
}

// records returns n records of one check, one region, a second apart.
func records(n int, start time.Time) []results.Record {
	out := make([]results.Record, n)
	for i := range out {
		out[i] = rec(i, "web", "eu", start.Add(time.Duration(i)*time.Second))
	}
	return out
}

// rawDB opens the file directly, without the store.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

func TestBurstDoesNotBlock(t *testing.T) {
	s := openStore(t, Options{})
	const n = 5000
	start := time.Now().UTC().Add(-time.Hour)
	for i, r := range records(n, start) {
		if err := s.Write(t.Context(), r); err != nil {
			t.Fatalf("Write %d: %v", i, err)
		}
	}
	if w := s.Stats().QueueFullWaits; w != 0 {
		t.Errorf("QueueFullWaits = %d after a burst of %d with the default queue, want 0", w, n)
	}
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.RecordsWritten != n || st.QueueDepth != 0 {
		t.Errorf("Stats = %+v, want %d records written and an empty queue", st, n)
	}
	if st.BatchesCommitted < 1 || st.BatchesCommitted > n/10 {
		t.Errorf("BatchesCommitted = %d for %d records: want them batched (at most %d transactions)", st.BatchesCommitted, n, n/10)
	}
	countRaw(t, s, n)
}

// countRaw checks that the results table holds want rows.
func countRaw(t *testing.T, s *Store, want int) {
	t.Helper()
	var n int
	if err := s.rdb.QueryRowContext(t.Context(), `SELECT count(*) FROM results`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != want {
		t.Errorf("results table holds %d rows, want %d", n, want)
	}
}

func TestQueueFullWaits(t *testing.T) {
	s := openStore(t, Options{QueueSize: 4})
	const n = 1000
	recs := records(n, time.Now().UTC().Add(-time.Hour))
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < n; i += 4 {
				if err := s.Write(t.Context(), recs[i]); err != nil {
					t.Errorf("Write: %v", err)
				}
			}
		})
	}
	wg.Wait()
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.QueueFullWaits == 0 {
		t.Error("QueueFullWaits = 0 with a queue of 4 and 1000 records")
	}
	if st.RecordsWritten != n {
		t.Errorf("RecordsWritten = %d, want %d", st.RecordsWritten, n)
	}
	countRaw(t, s, n)
}

// waitFor polls cond until it holds, failing after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// holdWriteLock takes the database's write lock from another connection
// until the returned func is called: the store's writer stalls.
func holdWriteLock(t *testing.T, path string) (release func()) {
	t.Helper()
	db := rawDB(t, path+"?_pragma=busy_timeout(5000)&_txlock=immediate")
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	return func() {
		if err := tx.Rollback(); err != nil {
			t.Error(err)
		}
	}
}

func TestWriteWaitsForSlowWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vantage.db")
	s := openStore(t, Options{Path: path, QueueSize: 10, FlushInterval: time.Millisecond})
	recs := records(30, time.Now().UTC().Add(-time.Hour))
	release := holdWriteLock(t, path)
	// The writer takes 10 records and stalls on the lock; 10 more fill the queue.
	if err := s.Write(t.Context(), recs[:10]...); err != nil {
		t.Fatalf("Write: %v", err)
	}
	waitFor(t, "the writer to take the first batch", func() bool { return s.Stats().QueueDepth == 0 })
	if err := s.Write(t.Context(), recs[10:20]...); err != nil {
		t.Fatalf("Write: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	err := s.Write(ctx, recs[20:]...)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Write into a full queue = %v, want the context's deadline", err)
	}
	if w := s.Stats().QueueFullWaits; w != 1 {
		t.Errorf("QueueFullWaits = %d, want 1", w)
	}
	release()
	if err := s.Write(t.Context(), recs[20:]...); err != nil { // now it drains
		t.Fatalf("Write after release: %v", err)
	}
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	countRaw(t, s, 30)
}

func TestWriteRejectsInvalidRecords(t *testing.T) {
	s := openStore(t, Options{})
	now := time.Now().UTC()
	tests := []struct {
		name string
		edit func(r *results.Record)
	}{
		{"no id", func(r *results.Record) { r.ID = "" }},
		{"no check", func(r *results.Record) { r.Check = "" }},
		{"no region", func(r *results.Record) { r.Region = "" }},
		{"zero start", func(r *results.Record) { r.Started = time.Time{} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := rec(2, "web", "eu", now)
			tt.edit(&bad)
			if err := s.Write(t.Context(), rec(1, "web", "eu", now), bad); err == nil {
				t.Error("Write: no error")
			}
		})
	}
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	countRaw(t, s, 0) // nothing of a rejected call is queued
}

func TestFlushAfterCloseAndStats(t *testing.T) {
	s := openStore(t, Options{})
	now := time.Now().UTC()
	r := rec(1, "web", "eu", now)
	if err := s.Write(t.Context(), r, r); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.RecordsWritten != 1 || st.DuplicatesIgnored != 1 || st.BatchesCommitted != 1 || st.LastBatchLatency <= 0 {
		t.Errorf("Stats = %+v, want 1 written, 1 duplicate, 1 batch with a latency", st)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"Flush":   s.Flush(t.Context()),
		"Write":   s.Write(t.Context(), r),
		"Latest":  func() error { _, err := s.Latest(t.Context()); return err }(),
		"Prune":   func() error { _, err := s.Prune(t.Context()); return err }(),
		"Results": func() error { _, err := s.Results(t.Context(), results.Query{Check: "web"}); return err }(),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", name, err)
		}
	}
}

func TestOptionsValidated(t *testing.T) {
	dir := t.TempDir()
	tests := []Options{
		{},
		{Path: filepath.Join(dir, "a.db"), RawRetention: 48 * time.Hour, RollupRetention: 24 * time.Hour},
		{Path: filepath.Join(dir, "b.db?mode=ro")},
	}
	for _, o := range tests {
		if s, err := Open(t.Context(), o); err == nil {
			s.Close()
			t.Errorf("Open(%+v): no error", o)
		}
	}
}

func TestFlushAndCloseDoNotWaitForTheInterval(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vantage.db")
	s := openStore(t, Options{Path: path, FlushInterval: time.Hour})
	now := time.Now().UTC()
	if err := s.Write(t.Context(), records(5, now)...); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := s.Flush(ctx); err != nil {
		t.Fatalf("Flush with an hour's flush interval: %v", err)
	}
	countRaw(t, s, 5)
	more := records(10, now.Add(time.Minute))[5:]
	if err := s.Write(t.Context(), more...); err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close waits for the flush interval")
	}
	s = openStore(t, Options{Path: path})
	countRaw(t, s, 10)
}

func TestResultsCappedAtMaxResults(t *testing.T) {
	s := openStore(t, Options{MaxResults: 5})
	now := time.Now().UTC()
	var recs []results.Record
	for i := range 12 {
		recs = append(recs, rec(i, "web", []string{"eu", "us"}[i%2], now.Add(time.Duration(i)*time.Second)))
	}
	if err := s.Write(t.Context(), recs...); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int{0, 100} {
		got, err := s.Results(t.Context(), results.Query{Check: "web", Limit: limit})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 5 || got[0].ID != recs[11].ID || got[4].ID != recs[7].ID {
			t.Errorf("Results(limit %d) returned %d records from %v, want the newest 5", limit, len(got), got[0].ID)
		}
	}
}

// TestQueryPlansUseIndexes guards the access paths: no query scans a table.
func TestQueryPlansUseIndexes(t *testing.T) {
	s := openStore(t, Options{})
	now := time.Now().UTC()
	rq, rargs := resultsQuery(results.Query{Check: "web", Since: now.Add(-time.Hour), Until: now}, "eu", 10)
	mq, margs := rollupsQuery("rollup_minute", results.RollupQuery{Check: "web", Since: now.Add(-time.Hour), Until: now}, []string{"eu", "us"})
	dq, dargs := rollupsQuery("rollup_day", results.RollupQuery{Check: "web"}, []string{"eu"})
	cq, cargs := countQuery(results.CountQuery{Check: "web", Since: now.Add(-time.Hour), Until: now, MaxDuration: time.Second}, []string{"eu", "us"})
	tests := []struct {
		name, query, want string
		args              []any
	}{
		{"results", rq, "SEARCH results USING INDEX results_check_region_started (check_name=? AND region=? AND started>? AND started<?)", rargs},
		{"count", cq, "SEARCH results USING INDEX results_check_region_started (check_name=? AND region=? AND started>? AND started<?)", cargs},
		{"minute rollups", mq, "SEARCH rollup_minute USING PRIMARY KEY", margs},
		{"day rollups", dq, "SEARCH rollup_day USING PRIMARY KEY", dargs},
		{"regions", regionsQuery, "SEARCH rollup_day USING PRIMARY KEY", []any{"web"}},
		{"prune results", pruneResultsSQL, "USING COVERING INDEX results_check_region_started (check_name=? AND region=? AND started<?)", []any{"web", "eu", 1, 10}},
		{"prune rollups", fmt.Sprintf(pruneRollupSQL, "rollup_minute"), "SEARCH rollup_minute USING PRIMARY KEY (check_name=? AND region=? AND bucket_start<?)", []any{"web", "eu", 1, 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := s.rdb.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+tt.query, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			joined := strings.Join(plan, "; ")
			if !strings.Contains(joined, tt.want) || strings.Contains(joined, "SCAN ") ||
				(tt.name == "results" && strings.Contains(joined, "TEMP B-TREE")) {
				t.Errorf("plan %q, want %q and no table scan", joined, tt.want)
			}
		})
	}
}
