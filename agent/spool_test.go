package agent

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/probes"
	"github.com/vantageprobe/vantage/results"
)

// testRecord returns record i; every record of the same kind encodes to
// the same number of bytes (fixed-width fields, whole-second times).
func testRecord(i int) results.Record {
	return results.Record{
		ID:       fmt.Sprintf("%032d", i),
		Check:    fmt.Sprintf("check-%06d", i),
		Region:   "eu-west",
		Kind:     probes.KindHTTP,
		Target:   "https://example.com/health",
		Started:  time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC).Add(time.Duration(i%100000) * time.Second),
		Duration: 150 * time.Millisecond,
		OK:       true,
		Phases:   probes.Phases{Resolve: 10 * time.Millisecond, Connect: 20 * time.Millisecond},
	}
}

func testRecords(from, n int) []results.Record {
	recs := make([]results.Record, n)
	for i := range recs {
		recs[i] = testRecord(from + i)
	}
	return recs
}

func openTestSpool(t testing.TB, o SpoolOptions) *Spool {
	t.Helper()
	if o.Path == "" {
		o.Path = filepath.Join(t.TempDir(), "spool.db")
	}
	s, err := OpenSpool(t.Context(), o)
	if err != nil {
		t.Fatalf("OpenSpool: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// peekIDs returns the ids and seqs of everything in the spool, oldest first.
func peekIDs(t *testing.T, s *Spool) (ids []string, seqs []int64) {
	t.Helper()
	got, err := s.Peek(t.Context(), 1_000_000)
	if err != nil {
		t.Fatalf("Peek: %v", err)
	}
	for _, e := range got {
		ids = append(ids, e.Record.ID)
		seqs = append(seqs, e.Seq)
	}
	return ids, seqs
}

func ids(recs []results.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

// checkStats compares the in-memory stats with the file's content.
func checkStats(t *testing.T, s *Spool) {
	t.Helper()
	var n, b int64
	if err := s.db.QueryRowContext(t.Context(), `SELECT count(*), coalesce(sum(length(rec)), 0) FROM spool`).Scan(&n, &b); err != nil {
		t.Fatalf("count spool: %v", err)
	}
	if st := s.Stats(); st.Records != n || st.Bytes != b {
		t.Errorf("Stats() = %+v, file holds %d records, %d bytes", st, n, b)
	}
}

func increasing(seqs []int64) bool {
	for i := 1; i < len(seqs); i++ {
		if seqs[i] <= seqs[i-1] {
			return false
		}
	}
	return true
}

func TestSpoolAppendPeekOrder(t *testing.T) {
	tests := []struct {
		name    string
		batches []int // records per Append call
	}{
		{"one record", []int{1}},
		{"one batch", []int{7}},
		{"several batches", []int{3, 1, 5, 2}},
		{"empty appends between", []int{2, 0, 3, 0, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTestSpool(t, SpoolOptions{})
			var want []string
			next := 0
			for _, n := range tt.batches {
				recs := testRecords(next, n)
				next += n
				if err := s.Append(t.Context(), recs...); err != nil {
					t.Fatalf("Append: %v", err)
				}
				want = append(want, ids(recs)...)
			}
			got, seqs := peekIDs(t, s)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Peek ids = %v, want %v", got, want)
			}
			if !increasing(seqs) {
				t.Errorf("seqs not increasing: %v", seqs)
			}
			first, err := s.Peek(t.Context(), 2)
			if err != nil {
				t.Fatalf("Peek(2): %v", err)
			}
			if len(first) != min(2, len(want)) || first[0].Record.ID != want[0] {
				t.Errorf("Peek(2) = %d entries starting %q, want the oldest %d", len(first), first[0].Record.ID, min(2, len(want)))
			}
			if st := s.Stats(); st.Records != int64(len(want)) || st.Dropped != 0 {
				t.Errorf("Stats() = %+v, want %d records, 0 dropped", st, len(want))
			}
			checkStats(t, s)
		})
	}
}

func TestSpoolRoundTrip(t *testing.T) {
	full := results.Record{
		ID:         results.NewID(),
		Check:      "api",
		Region:     "us-east",
		Kind:       probes.KindHTTP,
		Target:     "https://api.example.com/v1/health?x=1&y=é",
		Started:    time.Date(2025, 7, 14, 9, 26, 53, 589793238, time.UTC),
		Duration:   1234567891 * time.Nanosecond,
		OK:         false,
		Degraded:   true,
		ErrorClass: "status",
		Error:      "unexpected status 503",
		Warning:    "certificate expires in 3 days",
		Phases: probes.Phases{
			Resolve:    1*time.Millisecond + 1,
			Connect:    2*time.Millisecond + 3,
			TLS:        30*time.Millisecond + 7,
			Processing: 400*time.Millisecond + 11,
			Transfer:   5*time.Second + 13,
		},
		TraceID:    "4bf92f3577b34da6a3ce929d0e0e4736",
		StatusCode: 503,
		CertExpiry: time.Date(2025, 7, 17, 0, 0, 0, 1, time.UTC),
		DNSRcode:   "NOERROR",
		Detail:     []byte(`{"http":{"version":"HTTP/2.0","redirects":["https://a/","https://b/"]}}`),
		Screenshot: []byte{0x89, 'P', 'N', 'G', 0, 0xff, 0xfe, '\n', 0},
	}
	tests := []struct {
		name string
		rec  results.Record
	}{
		{"fully populated", full},
		{"zero values", results.Record{ID: "z"}},
		{"negative duration", results.Record{ID: "n", Duration: -1, Phases: probes.Phases{Transfer: -5}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTestSpool(t, SpoolOptions{})
			if err := s.Append(t.Context(), tt.rec); err != nil {
				t.Fatalf("Append: %v", err)
			}
			got, err := s.Peek(t.Context(), 10)
			if err != nil {
				t.Fatalf("Peek: %v", err)
			}
			if len(got) != 1 {
				t.Fatalf("Peek returned %d entries, want 1", len(got))
			}
			if !reflect.DeepEqual(got[0].Record, tt.rec) {
				t.Errorf("round trip changed the record:\n got %#v\nwant %#v", got[0].Record, tt.rec)
			}
			if got[0].Record.Started.Location() != time.UTC {
				t.Errorf("Started location = %v, want UTC", got[0].Record.Started.Location())
			}
		})
	}
}

func TestSpoolRemove(t *testing.T) {
	tests := []struct {
		name     string
		upTo     func(seqs []int64) int64
		wantLeft int // how many of the newest remain
	}{
		{"before the first", func(seqs []int64) int64 { return seqs[0] - 1 }, 6},
		{"the first", func(seqs []int64) int64 { return seqs[0] }, 5},
		{"the middle", func(seqs []int64) int64 { return seqs[3] }, 2},
		{"the last", func(seqs []int64) int64 { return seqs[5] }, 0},
		{"beyond the last", func(seqs []int64) int64 { return seqs[5] + 100 }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTestSpool(t, SpoolOptions{})
			recs := testRecords(0, 6)
			if err := s.Append(t.Context(), recs[:2]...); err != nil {
				t.Fatalf("Append: %v", err)
			}
			if err := s.Append(t.Context(), recs[2:]...); err != nil {
				t.Fatalf("Append: %v", err)
			}
			_, seqs := peekIDs(t, s)
			if err := s.Remove(t.Context(), tt.upTo(seqs)); err != nil {
				t.Fatalf("Remove: %v", err)
			}
			got, gotSeqs := peekIDs(t, s)
			want := ids(recs[6-tt.wantLeft:])
			if len(got) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got, want)) {
				t.Errorf("left %v, want %v", got, want)
			}
			if len(gotSeqs) > 0 && !reflect.DeepEqual(gotSeqs, seqs[6-tt.wantLeft:]) {
				t.Errorf("left seqs %v, want %v", gotSeqs, seqs[6-tt.wantLeft:])
			}
			if st := s.Stats(); st.Records != int64(tt.wantLeft) {
				t.Errorf("Stats().Records = %d, want %d", st.Records, tt.wantLeft)
			}
			checkStats(t, s)
		})
	}
}

func TestSpoolReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spool.db")
	ctx := t.Context()
	s, err := OpenSpool(ctx, SpoolOptions{Path: path})
	if err != nil {
		t.Fatalf("OpenSpool: %v", err)
	}
	if err := s.Append(ctx, testRecords(0, 5)...); err != nil {
		t.Fatalf("Append: %v", err)
	}
	if err := s.Append(ctx, testRecords(5, 5)...); err != nil {
		t.Fatalf("Append: %v", err)
	}
	_, seqs := peekIDs(t, s)
	if err := s.Remove(ctx, seqs[2]); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	wantIDs, wantSeqs := peekIDs(t, s)
	wantStats := s.Stats()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = openTestSpool(t, SpoolOptions{Path: path})
	if st := s.Stats(); st != wantStats {
		t.Errorf("Stats() after reopen = %+v, want %+v", st, wantStats)
	}
	gotIDs, gotSeqs := peekIDs(t, s)
	if !reflect.DeepEqual(gotIDs, wantIDs) || !reflect.DeepEqual(gotSeqs, wantSeqs) {
		t.Errorf("after reopen: ids %v seqs %v, want %v %v", gotIDs, gotSeqs, wantIDs, wantSeqs)
	}
	checkStats(t, s)

	// Emptied and reopened, the spool still never reuses a seq.
	if err := s.Remove(ctx, wantSeqs[len(wantSeqs)-1]); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s = openTestSpool(t, SpoolOptions{Path: path})
	if st := s.Stats(); st != (SpoolStats{}) {
		t.Errorf("Stats() of emptied spool after reopen = %+v, want zero", st)
	}
	if err := s.Append(ctx, testRecord(10)); err != nil {
		t.Fatalf("Append: %v", err)
	}
	_, newSeqs := peekIDs(t, s)
	if len(newSeqs) != 1 || newSeqs[0] <= wantSeqs[len(wantSeqs)-1] {
		t.Errorf("seq after reopen = %v, want one above %d", newSeqs, wantSeqs[len(wantSeqs)-1])
	}
}

// warnings returns the "dropped" attribute of every warning in a JSON log.
func warnings(t *testing.T, log *bytes.Buffer) []int64 {
	t.Helper()
	var out []int64
	for line := range strings.Lines(log.String()) {
		var e struct {
			Level   string
			Msg     string
			Dropped int64 `json:"dropped"`
			Bytes   int64 `json:"spool_bytes"`
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if e.Level == "WARN" && e.Msg == "spool full: dropped oldest results" {
			out = append(out, e.Dropped)
		}
	}
	return out
}

func TestSpoolMaxBytes(t *testing.T) {
	size := func(r results.Record) int64 {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		return int64(len(b))
	}
	one := size(testRecord(0))
	if size(testRecord(99999)) != one {
		t.Fatal("test records differ in size")
	}
	tests := []struct {
		name        string
		maxBytes    int64
		batches     []int
		wantDropped int64
		wantLeft    int     // newest records left
		wantWarns   []int64 // dropped per warning
	}{
		{"fits exactly", 10 * one, []int{4, 4, 2}, 0, 10, nil},
		{"drops oldest over several appends", 10*one + one/2, []int{4, 4, 4, 4}, 6, 10, []int64{2, 4}},
		{"one append larger than the bound", 10 * one, []int{3, 25}, 18, 10, []int64{18}},
		{"record larger than the bound", one - 1, []int{1, 2}, 3, 0, []int64{1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log bytes.Buffer
			s := openTestSpool(t, SpoolOptions{MaxBytes: tt.maxBytes, Logger: slog.New(slog.NewJSONHandler(&log, nil))})
			total := 0
			for _, n := range tt.batches {
				if err := s.Append(t.Context(), testRecords(total, n)...); err != nil {
					t.Fatalf("Append: %v", err)
				}
				total += n
				if b := s.Stats().Bytes; b > tt.maxBytes {
					t.Errorf("Stats().Bytes = %d after appending, over MaxBytes %d", b, tt.maxBytes)
				}
			}
			st := s.Stats()
			if st.Dropped != tt.wantDropped || st.Records != int64(tt.wantLeft) || st.Bytes != int64(tt.wantLeft)*one {
				t.Errorf("Stats() = %+v, want %d dropped, %d records of %d bytes", st, tt.wantDropped, tt.wantLeft, one)
			}
			got, _ := peekIDs(t, s)
			want := ids(testRecords(total-tt.wantLeft, tt.wantLeft))
			if len(got) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got, want)) {
				t.Errorf("left %v, want the newest %v", got, want)
			}
			if w := warnings(t, &log); !reflect.DeepEqual(w, tt.wantWarns) {
				t.Errorf("warnings dropped = %v, want %v", w, tt.wantWarns)
			}
			checkStats(t, s)
		})
	}
}

func TestSpoolConcurrent(t *testing.T) {
	const (
		producers = 4
		batches   = 10
		batchSize = 5
		total     = producers * batches * batchSize
	)
	s := openTestSpool(t, SpoolOptions{})
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()

	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			for b := range batches {
				if err := s.Append(ctx, testRecords((p*batches+b)*batchSize, batchSize)...); err != nil {
					t.Errorf("Append: %v", err)
					return
				}
				_ = s.Stats()
			}
		})
	}

	seen := make(map[string]bool, total)
	last := make([]int, producers) // per producer, the last record index seen
	for i := range last {
		last[i] = -1
	}
	lastSeq := int64(0)
	for len(seen) < total {
		if ctx.Err() != nil {
			t.Fatalf("saw %d of %d records before the deadline", len(seen), total)
		}
		got, err := s.Peek(ctx, 20)
		if err != nil {
			t.Fatalf("Peek: %v", err)
		}
		if len(got) == 0 {
			continue
		}
		for _, e := range got {
			if e.Seq <= lastSeq {
				t.Fatalf("seq %d after %d", e.Seq, lastSeq)
			}
			lastSeq = e.Seq
			if seen[e.Record.ID] {
				t.Fatalf("record %s seen twice", e.Record.ID)
			}
			seen[e.Record.ID] = true
			var i int
			if _, err := fmt.Sscanf(e.Record.ID, "%d", &i); err != nil {
				t.Fatalf("id %q: %v", e.Record.ID, err)
			}
			p := i / (batches * batchSize)
			if i <= last[p] {
				t.Fatalf("producer %d: record %d after %d", p, i, last[p])
			}
			last[p] = i
		}
		if err := s.Remove(ctx, got[len(got)-1].Seq); err != nil {
			t.Fatalf("Remove: %v", err)
		}
	}
	wg.Wait()
	if st := s.Stats(); st != (SpoolStats{}) {
		t.Errorf("Stats() after draining = %+v, want zero", st)
	}
	checkStats(t, s)
}

func TestSpoolClose(t *testing.T) {
	s := openTestSpool(t, SpoolOptions{})
	ctx := t.Context()
	if err := s.Append(ctx, testRecord(1)); err != nil {
		t.Fatalf("Append: %v", err)
	}
	for i := range 2 {
		if err := s.Close(); err != nil {
			t.Fatalf("Close #%d: %v", i+1, err)
		}
	}
	ops := []struct {
		name string
		call func() error
		pfx  string
	}{
		{"Append", func() error { return s.Append(ctx, testRecord(2)) }, "append to spool: "},
		{"Append nothing", func() error { return s.Append(ctx) }, "append to spool: "},
		{"Peek", func() error { _, err := s.Peek(ctx, 1); return err }, "peek spool: "},
		{"Remove", func() error { return s.Remove(ctx, 1) }, "remove from spool: "},
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			err := op.call()
			if !errors.Is(err, ErrSpoolClosed) || !strings.HasPrefix(err.Error(), op.pfx) {
				t.Errorf("%s after Close = %v, want %q… wrapping ErrSpoolClosed", op.name, err, op.pfx)
			}
		})
	}
	if st := s.Stats(); st.Records != 1 {
		t.Errorf("Stats() after Close = %+v, want the last counts", st)
	}
}

func TestOpenSpoolErrors(t *testing.T) {
	newer := filepath.Join(t.TempDir(), "newer.db")
	db, err := sql.Open("sqlite", newer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`PRAGMA user_version = 2`); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		o    SpoolOptions
		want string
	}{
		{"empty path", SpoolOptions{}, "open spool: path is empty"},
		{"query in path", SpoolOptions{Path: "a.db?mode=ro"}, "contains '?'"},
		{"negative bound", SpoolOptions{Path: "a.db", MaxBytes: -1}, "max bytes -1 is negative"},
		{"newer schema", SpoolOptions{Path: newer}, "spool schema version 2 is newer than this binary supports (1)"},
		{"missing directory", SpoolOptions{Path: filepath.Join(t.TempDir(), "no", "spool.db")}, "open spool "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := OpenSpool(t.Context(), tt.o)
			if err == nil {
				_ = s.Close()
				t.Fatal("OpenSpool succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "open spool") {
				t.Errorf("OpenSpool error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
	s := openTestSpool(t, SpoolOptions{})
	if _, err := s.Peek(t.Context(), 0); err == nil {
		t.Error("Peek(0) succeeded, want an error")
	}
}

func BenchmarkSpoolAppendReplay(b *testing.B) {
	const (
		records     = 10_000
		appendBatch = 500
		replayBatch = 1_000
	)
	rec := testRecord(0)
	rec.Detail = []byte(`{"http":{"version":"HTTP/2.0","tls":{"version":"TLS1.3","subject":"CN=example.com"}}}`)
	recs := make([]results.Record, records)
	for i := range recs {
		recs[i] = rec
		recs[i].ID = results.NewID()
	}
	s := openTestSpool(b, SpoolOptions{})
	ctx := b.Context()
	var appendDur, replayDur time.Duration
	n := 0
	for b.Loop() {
		n++
		start := time.Now()
		for i := 0; i < records; i += appendBatch {
			if err := s.Append(ctx, recs[i:i+appendBatch]...); err != nil {
				b.Fatal(err)
			}
		}
		mid := time.Now()
		replayed := 0
		for {
			got, err := s.Peek(ctx, replayBatch)
			if err != nil {
				b.Fatal(err)
			}
			if len(got) == 0 {
				break
			}
			replayed += len(got)
			if err := s.Remove(ctx, got[len(got)-1].Seq); err != nil {
				b.Fatal(err)
			}
		}
		if replayed != records {
			b.Fatalf("replayed %d records, want %d", replayed, records)
		}
		appendDur += mid.Sub(start)
		replayDur += time.Since(mid)
	}
	b.ReportMetric(float64(n*records)/appendDur.Seconds(), "append-records/s")
	b.ReportMetric(float64(n*records)/replayDur.Seconds(), "replay-records/s")
}

func TestSpoolPragmas(t *testing.T) {
	s := openTestSpool(t, SpoolOptions{})
	tests := []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "1"}, // NORMAL
		{"busy_timeout", "5000"},
		{"user_version", "1"},
	}
	for _, tt := range tests {
		t.Run(tt.pragma, func(t *testing.T) {
			var got string
			if err := s.db.QueryRowContext(t.Context(), "PRAGMA "+tt.pragma).Scan(&got); err != nil {
				t.Fatalf("PRAGMA %s: %v", tt.pragma, err)
			}
			if got != tt.want {
				t.Errorf("PRAGMA %s = %q, want %q", tt.pragma, got, tt.want)
			}
		})
	}
	if n := s.db.Stats().MaxOpenConnections; n != 1 {
		t.Errorf("MaxOpenConnections = %d, want 1", n)
	}
}
