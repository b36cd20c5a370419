package sqlite

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/results"
)

// sums reads every resolution's rollups of web (regions merged, and eu
// alone) and sums each query's buckets.
func sums(t *testing.T, s *Store) map[string]results.Rollup {
	t.Helper()
	out := map[string]results.Rollup{}
	for _, res := range resolutions {
		for _, region := range []string{"", "eu"} {
			rs, err := s.Rollups(t.Context(), results.RollupQuery{Check: "web", Region: region, Res: res})
			if err != nil {
				t.Fatal(err)
			}
			for i := 1; i < len(rs); i++ {
				if !rs[i-1].Start.Before(rs[i].Start) {
					t.Fatalf("%s rollups of region %q not oldest first: %s then %s", time.Duration(res), region, rs[i-1].Start, rs[i].Start)
				}
			}
			out[time.Duration(res).String()+"/"+region] = results.Sum(rs)
		}
	}
	return out
}

// TestPendingRollups: records a flush has not written yet count in every
// query, once, before and after the flush; the tables get them at the
// flush, and the mark moves past them.
func TestPendingRollups(t *testing.T) {
	s := openStore(t, Options{PruneInterval: -1, RollupInterval: time.Hour})
	t0 := time.Date(2030, 1, 2, 3, 58, 30, 0, time.UTC) // the batch spans two hours and three minutes
	var recs []results.Record
	for i := range 150 {
		recs = append(recs, rec(i, "web", []string{"eu", "us"}[i%2], t0.Add(time.Duration(i)*time.Second)))
	}
	recs[7].OK, recs[8].OK = false, false // one of us, one of eu
	if err := s.Write(t.Context(), recs...); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := tableCount(t, s, "rollup_minute", "1 = 1"); n != 0 {
		t.Fatalf("%d minute rollups written before the rollup interval", n)
	}
	before := sums(t, s)
	for k, ru := range before {
		want, failed := int64(150), int64(2)
		if k[len(k)-1] == 'u' { // region eu
			want, failed = 75, 1
		}
		if ru.Total != want || ru.Failed != failed {
			t.Errorf("%s: %d records, %d failed; want %d, %d", k, ru.Total, ru.Failed, want, failed)
		}
	}
	if regions, err := s.regions(t.Context(), "web"); err != nil || len(regions) != 2 {
		t.Errorf("regions of pending records = %v, %v; want eu and us", regions, err)
	}
	if got, err := s.Results(t.Context(), results.Query{Check: "web", Limit: 1000}); err != nil || len(got) != 150 {
		t.Errorf("Results = %d records, %v; want 150", len(got), err)
	}
	if err := s.flushPending(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := tableCount(t, s, "rollup_minute", "1 = 1"); n != 6 {
		t.Errorf("%d minute rollups after the flush, want 6 (3 minutes × 2 regions)", n)
	}
	var mark int64
	if err := s.rdb.QueryRow(`SELECT seq FROM rollup_seq`).Scan(&mark); err != nil || mark != 150 {
		t.Errorf("rollup_seq = %d, %v; want 150", mark, err)
	}
	after := sums(t, s)
	for k, ru := range before {
		if after[k] != ru {
			t.Errorf("%s after the flush: %+v, before: %+v", k, after[k], ru)
		}
	}
}

// TestRollupsRecoveredAfterCrash: a copy of the files taken while sums
// are pending is what a crash leaves; opening it sums those records again.
func TestRollupsRecoveredAfterCrash(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "vantage.db")
	s := openStore(t, Options{Path: path, PruneInterval: -1, RollupInterval: time.Hour})
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	write := func(from, n int) {
		t.Helper()
		var recs []results.Record
		for i := from; i < from+n; i++ {
			recs = append(recs, rec(i, "web", []string{"eu", "us"}[i%2], t0.Add(time.Duration(i)*time.Second)))
		}
		if err := s.Write(t.Context(), recs...); err != nil {
			t.Fatal(err)
		}
		if err := s.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	write(0, 100)
	if err := s.flushPending(t.Context()); err != nil {
		t.Fatal(err)
	}
	write(100, 80) // pending when the "crash" comes
	want := sums(t, s)
	crash := filepath.Join(dir, "crash.db")
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(path + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(crash+suffix, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c := openStore(t, Options{Path: crash, PruneInterval: -1})
	if c.pending.keys == 0 {
		t.Error("the records after rollup_seq were not summed again at open")
	}
	got := sums(t, c)
	for k, ru := range want {
		if got[k] != ru {
			t.Errorf("%s after the crash: %+v, before: %+v", k, got[k], ru)
		}
	}
	// New records after recovery get seqs past the mark, and count once.
	if err := c.Write(t.Context(), rec(1000, "web", "eu", t0.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c = openStore(t, Options{Path: crash, PruneInterval: -1})
	if day := sums(t, c)["24h0m0s/"]; day.Total != 181 {
		t.Errorf("day rollups count %d records after a clean close, want 181", day.Total)
	}
}

// TestSeqPastMark: once retention empties the results table, SQLite would
// number the next record from 1; it gets a seq past rollup_seq instead,
// so a crash before the next flush still sums it again.
func TestSeqPastMark(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vantage.db")
	s := openStore(t, Options{Path: path, PruneInterval: -1})
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := s.Write(t.Context(), records(50, t0)...); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, Options{Path: path, PruneInterval: -1, RollupInterval: time.Hour})
	if _, err := s.wdb.Exec(`DELETE FROM results`); err != nil { // what retention does after 30 idle days
		t.Fatal(err)
	}
	if err := s.Write(t.Context(), rec(500, "web", "eu", t0.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	var seq int64
	if err := s.rdb.QueryRow(`SELECT seq FROM results`).Scan(&seq); err != nil || seq <= 50 {
		t.Errorf("the record after the emptied table got seq %d (%v), want > 50", seq, err)
	}
}

// TestPendingReadersCountOnce: readers racing with batches and flushes
// never see a record twice nor lose one they saw.
func TestPendingReadersCountOnce(t *testing.T) {
	s := openStore(t, Options{PruneInterval: -1, RollupInterval: 5 * time.Millisecond, FlushInterval: time.Millisecond})
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	const n = 3000
	var written atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 3 {
		wg.Go(func() {
			var seen int64
			for {
				select {
				case <-stop:
					return
				default:
				}
				low := written.Load()
				rs, err := s.Rollups(t.Context(), results.RollupQuery{Check: "web", Res: results.Day})
				if err != nil {
					t.Error(err)
					return
				}
				total := results.Sum(rs).Total
				if total < seen || total > n {
					t.Errorf("a reader saw %d records after %d (%d written)", total, seen, n)
					return
				}
				if total < low { // Flush returned for low records before the read
					t.Errorf("a reader saw %d records, %d were flushed", total, low)
					return
				}
				seen = total
			}
		})
	}
	for i := 0; i < n; i += 100 {
		var recs []results.Record
		for j := i; j < i+100; j++ {
			recs = append(recs, rec(j, "web", []string{"eu", "us"}[j%2], t0.Add(time.Duration(j)*time.Second)))
		}
		if err := s.Write(t.Context(), recs...); err != nil {
			t.Fatal(err)
		}
		if err := s.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		written.Store(int64(i + 100))
		time.Sleep(time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if day := sums(t, s)["24h0m0s/"]; day.Total != n {
		t.Errorf("day rollups count %d records, want %d", day.Total, n)
	}
}

// TestReadOnlyLeavesPendingAlone: a report opened ReadOnly on the file a
// server writes (vantage slo) neither writes nor takes the server's
// unwritten sums, which the server then writes once.
func TestReadOnlyLeavesPendingAlone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vantage.db")
	s := openStore(t, Options{Path: path, PruneInterval: -1, RollupInterval: time.Hour})
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := s.Write(t.Context(), records(40, t0)...); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	r := openStore(t, Options{Path: path, PruneInterval: -1, ReadOnly: true})
	if r.pending.keys != 0 {
		t.Errorf("a ReadOnly store took %d pending minutes of the writer's", r.pending.keys)
	}
	if err := r.Write(t.Context(), rec(100, "web", "eu", t0)); err == nil {
		t.Error("Write on a ReadOnly store succeeded")
	}
	if _, err := r.Prune(t.Context()); err == nil {
		t.Error("Prune on a ReadOnly store succeeded")
	}
	// Every record of web/eu is after the mark: no day rollup lists the
	// region yet, the records must still be found.
	if got, err := r.Results(t.Context(), results.Query{Check: "web"}); err != nil || len(got) != 40 {
		t.Errorf("a ReadOnly store's Results = %d records, %v; want 40", len(got), err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if n := tableCount(t, s, "rollup_day", "1 = 1"); n != 0 {
		t.Errorf("%d day rollups written by the ReadOnly store", n)
	}
	if err := s.flushPending(t.Context()); err != nil {
		t.Fatal(err)
	}
	if day := sums(t, s)["24h0m0s/"]; day.Total != 40 {
		t.Errorf("day rollups count %d records, want 40", day.Total)
	}
}

// TestReadOnlyRefusesOlderSchema: a report does not upgrade a database a
// server of the older version may still be writing.
func TestReadOnlyRefusesOlderSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vantage.db")
	schemaAt(t, path, 5).Close()
	if _, err := Open(t.Context(), Options{Path: path, ReadOnly: true}); err == nil || !strings.Contains(err.Error(), "older than this binary") {
		t.Fatalf("ReadOnly Open of a schema 5 database: %v, want a refusal", err)
	}
	s := openStore(t, Options{Path: path, PruneInterval: -1}) // a writer upgrades it
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	r := openStore(t, Options{Path: path, ReadOnly: true})
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}
