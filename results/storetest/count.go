package storetest

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/results"
)

// bruteCount counts recs as results.Store.Count is specified to, without
// SQL: total within the check, region and bounds; good = passed and, with
// q.MaxDuration > 0, no slower than it.
func bruteCount(recs []results.Record, q results.CountQuery) (good, total int64) {
	seen := map[string]bool{}
	for _, r := range recs {
		if seen[r.ID] || r.Check != q.Check || (q.Region != "" && r.Region != q.Region) ||
			(!q.Since.IsZero() && r.Started.Before(q.Since)) || (!q.Until.IsZero() && !r.Started.Before(q.Until)) {
			continue
		}
		seen[r.ID] = true
		total++
		if r.OK && (q.MaxDuration == 0 || r.Duration <= q.MaxDuration) {
			good++
		}
	}
	return good, total
}

func testCount(t *testing.T, open Opener) {
	s := open(t)
	rng := rand.New(rand.NewPCG(7, 8))
	start := base().Add(-5 * time.Hour)
	recs := randomRecords(rng, 3000, 3, start)
	// Edge records: exactly on the bounds below, exactly at the latency
	// threshold and a nanosecond over it, passed and degraded.
	edge := start.Add(26 * time.Hour)
	at := simple("count-at", "web", "eu", edge, 80*time.Millisecond)
	over := simple("count-over", "web", "eu", edge.Add(time.Nanosecond), 80*time.Millisecond+1)
	degraded := simple("count-degraded", "web", "us", edge.Add(-time.Nanosecond), time.Millisecond)
	degraded.Degraded = true
	failedFast := simple("count-failed", "web", "us", edge.Add(time.Second), time.Millisecond)
	failedFast.OK = false
	recs = append(recs, at, over, degraded, failedFast)
	writeInChunks(t, s, rng, recs)
	write(t, s, at, failedFast) // duplicates are counted once

	tests := []struct {
		name string
		q    results.CountQuery
	}{
		{"check, every region", results.CountQuery{Check: "web"}},
		{"one region", results.CountQuery{Check: "api", Region: "ap"}},
		{"since inclusive", results.CountQuery{Check: "web", Since: edge}},
		{"until exclusive", results.CountQuery{Check: "web", Until: edge}},
		{"window across a day", results.CountQuery{Check: "web", Since: start.Add(20 * time.Hour), Until: start.Add(30 * time.Hour)}},
		{"latency threshold inclusive", results.CountQuery{Check: "web", MaxDuration: 80 * time.Millisecond}},
		{"latency in a window and region", results.CountQuery{Check: "web", Region: "eu", Since: edge, Until: edge.Add(time.Hour), MaxDuration: 80 * time.Millisecond}},
		{"latency, tight", results.CountQuery{Check: "api", MaxDuration: 5 * time.Millisecond}},
		{"empty window", results.CountQuery{Check: "web", Since: edge, Until: edge}},
		{"unknown region", results.CountQuery{Check: "web", Region: "mars"}},
		{"unknown check", results.CountQuery{Check: "nope"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			good, total, err := s.Count(t.Context(), tt.q)
			if err != nil {
				t.Fatalf("Count(%+v): %v", tt.q, err)
			}
			wantGood, wantTotal := bruteCount(recs, tt.q)
			if good != wantGood || total != wantTotal {
				t.Errorf("Count(%+v) = %d good of %d, want %d of %d", tt.q, good, total, wantGood, wantTotal)
			}
		})
	}
	// The edge records decide these exactly.
	edgeQ := results.CountQuery{Check: "web", Since: edge.Add(-time.Nanosecond), Until: edge.Add(time.Second + 1), MaxDuration: 80 * time.Millisecond}
	good, total, err := s.Count(t.Context(), edgeQ)
	if err != nil {
		t.Fatal(err)
	}
	wantGood, wantTotal := bruteCount(recs, edgeQ)
	if good != wantGood || total != wantTotal || wantTotal < 4 {
		t.Errorf("edge records: Count = %d good of %d, want %d of %d (≥ 4)", good, total, wantGood, wantTotal)
	}
	// Availability: rollups and Count agree on every bucket's good count.
	rs, err := s.Rollups(t.Context(), results.RollupQuery{Check: "api", Res: results.Day})
	if err != nil {
		t.Fatal(err)
	}
	for _, ru := range rs {
		q := results.CountQuery{Check: "api", Since: ru.Start, Until: ru.Start.Add(24 * time.Hour)}
		good, total, err := s.Count(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		if good != ru.Total-ru.Failed || total != ru.Total {
			t.Errorf("day %v: Count = %d good of %d, rollup says %d of %d", ru.Start, good, total, ru.Total-ru.Failed, ru.Total)
		}
	}
	if len(rs) == 0 {
		t.Error("no day rollups of api to compare Count with")
	}
}
