package sqlite

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vantageprobe/vantage/results"
)

// clock is an injectable, settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// tableCount counts the rows of table matching where.
func tableCount(t *testing.T, s *Store, table, where string, args ...any) int {
	t.Helper()
	var n int
	if err := s.rdb.QueryRowContext(t.Context(), `SELECT count(*) FROM `+table+` WHERE `+where, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// writePruneFixture writes, relative to now: 12,000 old records of web/eu
// (more than one prune transaction), 50 old of web/us, 30 recent of
// web/eu, and 20 of api/eu older than the rollup retention.
func writePruneFixture(t *testing.T, s *Store, now time.Time) {
	t.Helper()
	day := 24 * time.Hour
	var recs []results.Record
	add := func(n int, check, region string, start time.Time, step time.Duration) {
		for i := range n {
			recs = append(recs, rec(len(recs), check, region, start.Add(time.Duration(i)*step)))
		}
	}
	add(12000, "web", "eu", now.Add(-40*day), time.Second)
	add(50, "web", "us", now.Add(-40*day), time.Minute)
	add(30, "web", "eu", now.Add(-1*day), time.Minute)
	add(20, "api", "eu", now.Add(-500*day), time.Minute)
	for i := 0; i < len(recs); i += 1000 {
		if err := s.Write(t.Context(), recs[i:min(i+1000, len(recs))]...); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.flushPending(t.Context()); err != nil { // the tests count the tables' rows
		t.Fatal(err)
	}
}

func TestPrune(t *testing.T) {
	now := time.Date(2030, 6, 15, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	s := openStore(t, Options{PruneInterval: -1, Now: (&clock{now: now}).Now})
	writePruneFixture(t, s, now)
	minutesBefore := tableCount(t, s, "rollup_minute", "1 = 1")

	deleted, err := s.Prune(t.Context())
	if err != nil {
		t.Fatalf("Prune: %v", err)
	}
	rawCut := now.Add(-30 * day).UnixNano()
	if n := tableCount(t, s, "results", "started < ?", rawCut); n != 0 {
		t.Errorf("%d raw rows older than the raw retention left", n)
	}
	if n := tableCount(t, s, "results", "1 = 1"); n != 30 {
		t.Errorf("%d raw rows left, want the 30 recent ones", n)
	}
	if n := tableCount(t, s, "rollup_minute", "1 = 1"); n != 30 {
		t.Errorf("%d minute rollups left, want the 30 recent ones", n)
	}
	dayRows := tableCount(t, s, "rollup_day", "1 = 1")
	if n := tableCount(t, s, "rollup_day", "check_name = 'api'"); n != 0 {
		t.Errorf("%d day rollups older than the rollup retention left", n)
	}
	latest, err := s.Latest(t.Context())
	if err != nil || len(latest) != 1 || latest[0].Region != "eu" || latest[0].Check != "web" {
		t.Errorf("Latest after pruning = %v, %v; want only web/eu", latest, err)
	}
	// 12050+20 raw rows, the minute rollups of all but the recent ones,
	// the api hour and day rollups, and the latest rows of web/us and
	// api/eu. The hour rollups of web (40 days old) stay for 90 days.
	want := int64(12070 + (minutesBefore - 30) + 1 + 1 + 2)
	if n := tableCount(t, s, "rollup_hour", "check_name = 'web'"); n != 6 {
		t.Errorf("%d hour rollups of web left, want 6 (4 of eu over 3 h 20 min, 1 of us, 1 of the recent eu)", n)
	}
	if deleted != want {
		t.Errorf("Prune deleted %d rows, want %d (day rollups left: %d)", deleted, want, dayRows)
	}
	if st := s.Stats(); st.RowsPruned != deleted {
		t.Errorf("Stats().RowsPruned = %d, want %d", st.RowsPruned, deleted)
	}

	// History survives in the day rollups.
	old := results.RollupQuery{Check: "web", Res: results.Day, Since: now.Add(-41 * day), Until: now.Add(-30 * day)}
	rs, err := s.Rollups(t.Context(), old)
	if err != nil {
		t.Fatal(err)
	}
	if sum := results.Sum(rs); sum.Total != 12050 {
		t.Errorf("day rollups of pruned raw rows count %d records, want 12050", sum.Total)
	}
	old.Res = results.Minute
	if rs, err := s.Rollups(t.Context(), old); err != nil || len(rs) != 0 {
		t.Errorf("minute rollups of pruned raw rows = %d buckets, %v; want none", len(rs), err)
	}
	if again, err := s.Prune(t.Context()); err != nil || again != 0 {
		t.Errorf("second Prune = %d, %v; want 0, nil", again, err)
	}
}

func TestBackgroundPrune(t *testing.T) {
	now := time.Now().UTC()
	clk := &clock{now: now}
	s := openStore(t, Options{PruneInterval: 5 * time.Millisecond, Now: clk.Now})
	if err := s.Write(t.Context(), records(100, now.Add(-time.Hour))...); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	clk.Set(now.Add(31 * 24 * time.Hour)) // everything is past the raw retention
	waitFor(t, "the background pruner", func() bool { return tableCount(t, s, "results", "1 = 1") == 0 })
	if n := tableCount(t, s, "rollup_day", "1 = 1"); n == 0 {
		t.Error("background prune deleted day rollups inside the rollup retention")
	}
}

func TestFailedBatchRetried(t *testing.T) {
	path := t.TempDir() + "/vantage.db"
	s := openStore(t, Options{Path: path})
	db := rawDB(t, path+"?_pragma=busy_timeout(5000)")
	if _, err := db.Exec(`ALTER TABLE latest RENAME TO latest_away`); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(t.Context(), records(10, time.Now().UTC())...); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(t.Context()); err == nil || !strings.Contains(err.Error(), "latest") {
		t.Fatalf("Flush with a failing batch = %v, want the commit error", err)
	}
	if s.Stats().BatchErrors == 0 {
		t.Error("BatchErrors = 0 after a failed commit")
	}
	if err := s.Healthy(); err == nil || !strings.Contains(err.Error(), "latest") {
		t.Errorf("Healthy() = %v while commits fail", err)
	}
	if _, err := db.Exec(`ALTER TABLE latest_away RENAME TO latest`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the retried batch", func() bool { return s.Stats().RecordsWritten == 10 })
	countRaw(t, s, 10)
	if err := s.Healthy(); err != nil {
		t.Errorf("Healthy() = %v after the retry succeeded", err)
	}
}

func TestCloseReportsLostRecords(t *testing.T) {
	path := t.TempDir() + "/vantage.db"
	s, err := Open(t.Context(), Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, path+"?_pragma=busy_timeout(5000)")
	if _, err := db.Exec(`DROP TABLE latest`); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(t.Context(), records(7, time.Now().UTC())...); err != nil {
		t.Fatal(err)
	}
	err = s.Close()
	if err == nil || !strings.Contains(err.Error(), "7 records not stored") {
		t.Errorf("Close with an unwritable batch = %v, want it to report 7 lost records", err)
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	path := t.TempDir() + "/vantage.db"
	s := openStore(t, Options{Path: path, Registerer: reg})
	r := records(3, time.Now().UTC())
	if err := s.Write(t.Context(), append(r, r[0])...); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP vantage_results_duplicates_total Results ignored because their ID was already stored.
# TYPE vantage_results_duplicates_total counter
vantage_results_duplicates_total 1
# HELP vantage_results_written_total Results stored (duplicates excluded).
# TYPE vantage_results_written_total counter
vantage_results_written_total 3
# HELP vantage_results_queue_depth Results queued and not yet committed.
# TYPE vantage_results_queue_depth gauge
vantage_results_queue_depth 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"vantage_results_duplicates_total", "vantage_results_written_total", "vantage_results_queue_depth"); err != nil {
		t.Error(err)
	}
	if n, err := testutil.GatherAndCount(reg, "vantage_results_batch_commit_seconds"); err != nil || n != 1 {
		t.Errorf("batch commit histogram: %d series, %v", n, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Close unregisters: the same registry takes a reopened store.
	openStore(t, Options{Path: path, Registerer: reg})
	if _, err := Open(t.Context(), Options{Path: path, Registerer: reg}); err == nil {
		t.Error("a second store on one registry: no error")
	}
	if n, err := testutil.GatherAndCount(reg); err != nil || n == 0 {
		t.Errorf("gather after reopening: %d series, %v", n, err)
	}
}
