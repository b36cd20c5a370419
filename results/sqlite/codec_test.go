package sqlite

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/results"
)

// TestHistogramForms: every histogram reads back as written, a few
// observations take a few bytes, the encoding is never histBytes long
// unless dense, and a dense histogram (databases written before the
// sparse form) still reads.
func TestHistogramForms(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var one results.Histogram
	one[7] = 1
	if b := encodeHist(&one); len(b) != 3 {
		t.Errorf("one observation: %d bytes, want 3", len(b))
	}
	cases := []results.Histogram{{}, one}
	var full results.Histogram
	for i := range full {
		full[i] = math.MaxUint32
	}
	cases = append(cases, full)
	for range 2000 {
		var h results.Histogram
		for range rng.IntN(len(h) + 1) {
			h[rng.IntN(len(h))] = uint32(rng.Int64N(1 << rng.IntN(33)))
		}
		cases = append(cases, h)
	}
	for _, h := range cases {
		b := encodeHist(&h)
		var got results.Histogram
		if err := decodeHist(b, &got); err != nil || got != h {
			t.Fatalf("%v: decoded %v, %v", h, got, err)
		}
		if len(b) == histBytes && sparseLen(&h) != histBytes {
			t.Fatalf("%v: dense (%d bytes) though sparse is %d", h, len(b), sparseLen(&h))
		}
	}
	// A dense one, as stored before.
	dense := make([]byte, histBytes)
	dense[4*3] = 5
	var got results.Histogram
	if err := decodeHist(dense, &got); err != nil || got[3] != 5 || got.Count() != 5 {
		t.Fatalf("dense: %v %v", got, err)
	}
	for _, bad := range [][]byte{nil, {0x02}, {histSparse, 48, 1}, {histSparse, 3}, {histSparse, 3, 0xff, 0xff, 0xff, 0xff, 0x7f}} {
		if err := decodeHist(bad, &got); err == nil {
			t.Errorf("%v decoded", bad)
		}
	}
}

// TestDenseRowsMerge: rollups stored dense (an older database) merge with
// new observations, and the merged row is written sparse.
func TestDenseRowsMerge(t *testing.T) {
	s := openStore(t, Options{PruneInterval: -1})
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	write := func(recs ...results.Record) {
		t.Helper()
		if err := s.Write(t.Context(), recs...); err != nil {
			t.Fatal(err)
		}
		if err := s.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := s.flushPending(t.Context()); err != nil { // into the tables this test edits
			t.Fatal(err)
		}
	}
	first := rec(1, "web", "eu", t0)
	write(first)
	var h results.Histogram
	h.Observe(first.Duration)
	dense := make([]byte, histBytes)
	for i, c := range h {
		dense[4*i] = byte(c)
	}
	for _, table := range []string{"rollup_minute", "rollup_hour", "rollup_day"} {
		if _, err := s.wdb.Exec(`UPDATE `+table+` SET hist = ?`, dense); err != nil {
			t.Fatal(err)
		}
	}
	second := rec(2, "web", "eu", t0.Add(time.Second))
	write(second)
	h.Observe(second.Duration)
	for _, res := range []results.Resolution{results.Minute, results.Hour, results.Day} {
		rs, err := s.Rollups(t.Context(), results.RollupQuery{Check: "web", Region: "eu", Res: res})
		if err != nil || len(rs) != 1 || rs[0].Total != 2 || rs[0].Hist != h {
			t.Fatalf("%v: %+v %v", time.Duration(res), rs, err)
		}
	}
	var n int
	if err := s.rdb.QueryRow(`SELECT length(hist) FROM rollup_minute`).Scan(&n); err != nil || n >= histBytes {
		t.Errorf("merged row is %d bytes (%v), want sparse", n, err)
	}
}

func sparseLen(h *results.Histogram) int {
	n := 1
	for _, c := range h {
		if c != 0 {
			n++
			for c >= 0x80 {
				n++
				c >>= 7
			}
			n++
		}
	}
	return n
}
