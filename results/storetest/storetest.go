// Package storetest is the contract suite every results.Store passes.
//
//	func TestContract(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) results.Store { … })
//	}
package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/probes"
	"github.com/vantageprobe/vantage/results"
)

// Opener returns the store under test for t. The first call for a given t
// returns an empty store; a later call with the same t, after the previous
// store was closed, returns a store over the same data (persistence). It
// should close the store in t.Cleanup; Close must be idempotent.
type Opener func(t *testing.T) results.Store

// Run runs the contract suite, each case in its own subtest.
//
// The contract beyond the results.Store doc comments: every field of a
// record reads back as written (CertExpiry to the second, as x509 has it);
// results are newest first with Since inclusive and Until exclusive; an ID
// is stored once and counted once in rollups and by Count; Count matches a
// brute-force count (good = passed, and no slower than MaxDuration when
// set; degraded is good) with the same bounds as Results; rollups match a brute-force
// computation over the records exactly; Close commits everything queued.
func Run(t *testing.T, open func(t *testing.T) results.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open Opener)
	}{
		{"RoundTrip", testRoundTrip},
		{"Empty", testEmpty},
		{"InvalidQueries", testInvalidQueries},
		{"Latest", testLatest},
		{"ResultsFilters", testResultsFilters},
		{"Duplicates", testDuplicates},
		{"RollupsBruteForce", testRollupsBruteForce},
		{"RollupsWindow", testRollupsWindow},
		{"Window", testWindow},
		{"Count", testCount},
		{"WriteAfterClose", testWriteAfterClose},
		{"CloseFlushes", testCloseFlushes},
		{"ConcurrentReadWrite", testConcurrentReadWrite},
		{"Screenshots", testScreenshots},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
}

// base is a recent UTC midnight, so that no retention applies to the
// records the suite writes (they span a few days after it).
func base() time.Time {
	return time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -5)
}

// full returns a record with every field set.
func full(id, check, region string, started time.Time) results.Record {
	return results.Record{
		ID: id, Check: check, Region: region, Kind: probes.KindHTTP, Target: "https://example.test/" + id,
		Started: started, Duration: 123456789 * time.Nanosecond, OK: false, Degraded: true,
		ErrorClass: "status", Error: "unexpected status 503", Warning: "slow: 123ms > 100ms",
		Phases: probes.Phases{
			Resolve: 1 * time.Millisecond, Connect: 2*time.Millisecond + 1, TLS: 3*time.Millisecond + 2,
			Processing: 4*time.Millisecond + 3, Transfer: 5*time.Millisecond + 4,
		},
		TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", StatusCode: 503,
		CertExpiry: time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC), DNSRcode: "NOERROR",
		Detail: []byte(`{"http":{"version":"HTTP/2.0","redirects":["https://a.test/"]}}`),
	}
}

// simple returns a passing record with only the key fields set.
func simple(id, check, region string, started time.Time, d time.Duration) results.Record {
	return results.Record{
		ID: id, Check: check, Region: region, Kind: probes.KindTCP, Target: "127.0.0.1:1",
		Started: started, Duration: d, OK: true,
	}
}

// write writes recs and flushes.
func write(t *testing.T, s results.Store, recs ...results.Record) {
	t.Helper()
	if err := s.Write(t.Context(), recs...); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := s.Flush(t.Context()); err != nil {
		t.Fatalf("Flush: %v", err)
	}
}

// diffRecord describes how got differs from want ("" when equal).
func diffRecord(got, want results.Record) string {
	g, w := got, want
	if !g.Started.Equal(w.Started) || !g.CertExpiry.Equal(w.CertExpiry) {
		return fmt.Sprintf("times: got started %v cert %v, want %v %v", g.Started, g.CertExpiry, w.Started, w.CertExpiry)
	}
	if string(g.Detail) != string(w.Detail) || (g.Detail == nil) != (w.Detail == nil) {
		return fmt.Sprintf("detail: got %q, want %q", g.Detail, w.Detail)
	}
	g.Started, g.CertExpiry, g.Detail = w.Started, w.CertExpiry, w.Detail
	if fmt.Sprintf("%#v", g) != fmt.Sprintf("%#v", w) {
		return fmt.Sprintf("got  %+v\nwant %+v", got, want)
	}
	return ""
}

// ids returns the IDs of recs in order.
func ids(recs []results.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

func testRoundTrip(t *testing.T, open Opener) {
	s := open(t)
	t0 := base().Add(10*time.Hour + 123456789*time.Nanosecond)
	a := full("rt-full", "web", "eu", t0)
	b := simple("rt-simple", "web", "eu", t0.Add(time.Second), 0) // zero CertExpiry, nil Detail, no phases
	b.OK, b.ErrorClass, b.Error = false, "timeout", "probe timed out"
	c := full("rt-other-kind", "web", "us", t0.Add(2*time.Second))
	c.Kind, c.DNSRcode, c.StatusCode, c.CertExpiry = probes.KindDNS, "NXDOMAIN", 0, time.Time{}
	write(t, s, a, b, c)

	got, err := s.Results(t.Context(), results.Query{Check: "web"})
	if err != nil {
		t.Fatalf("Results: %v", err)
	}
	want := []results.Record{c, b, a}
	if len(got) != len(want) {
		t.Fatalf("Results returned %d records %v, want %d", len(got), ids(got), len(want))
	}
	for i := range want {
		if d := diffRecord(got[i], want[i]); d != "" {
			t.Errorf("record %s: %s", want[i].ID, d)
		}
		if !got[i].CertExpiry.IsZero() && got[i].CertExpiry.Location() != time.UTC {
			t.Errorf("record %s: CertExpiry not UTC: %v", want[i].ID, got[i].CertExpiry)
		}
		if got[i].Started.Location() != time.UTC {
			t.Errorf("record %s: Started not UTC: %v", want[i].ID, got[i].Started)
		}
	}
	latest, err := s.Latest(t.Context())
	if err != nil {
		t.Fatalf("Latest: %v", err)
	}
	if len(latest) != 2 {
		t.Fatalf("Latest returned %v, want rt-simple and rt-other-kind", ids(latest))
	}
	for _, l := range latest {
		w := map[string]results.Record{"eu": b, "us": c}[l.Region]
		if d := diffRecord(l, w); d != "" {
			t.Errorf("Latest %s: %s", l.Region, d)
		}
	}
}

func testEmpty(t *testing.T, open Opener) {
	s := open(t)
	latest, err := s.Latest(t.Context())
	if err != nil || len(latest) != 0 {
		t.Errorf("Latest on an empty store = %v, %v; want nothing", ids(latest), err)
	}
	recs, err := s.Results(t.Context(), results.Query{Check: "none"})
	if err != nil || len(recs) != 0 {
		t.Errorf("Results on an empty store = %v, %v; want nothing", ids(recs), err)
	}
	for _, region := range []string{"", "eu"} {
		good, total, err := s.Count(t.Context(), results.CountQuery{Check: "none", Region: region, MaxDuration: time.Second})
		if err != nil || good != 0 || total != 0 {
			t.Errorf("Count(%q) on an empty store = %d, %d, %v; want 0, 0", region, good, total, err)
		}
	}
	for _, res := range []results.Resolution{results.Minute, results.Hour, results.Day} {
		for _, region := range []string{"", "eu"} {
			rs, err := s.Rollups(t.Context(), results.RollupQuery{Check: "none", Region: region, Res: res})
			if err != nil || len(rs) != 0 {
				t.Errorf("Rollups(%v, %q) on an empty store = %v, %v; want nothing", time.Duration(res), region, rs, err)
			}
		}
	}
}

func testInvalidQueries(t *testing.T, open Opener) {
	s := open(t)
	if _, err := s.Results(t.Context(), results.Query{}); err == nil {
		t.Error("Results without a check: no error")
	}
	if _, _, err := s.Count(t.Context(), results.CountQuery{}); err == nil {
		t.Error("Count without a check: no error")
	}
	if _, _, err := s.Count(t.Context(), results.CountQuery{Check: "web", MaxDuration: -time.Second}); err == nil {
		t.Error("Count with a negative max duration: no error")
	}
	for _, res := range []results.Resolution{0, results.Resolution(5 * time.Minute)} {
		if _, err := s.Rollups(t.Context(), results.RollupQuery{Check: "web", Res: res}); err == nil {
			t.Errorf("Rollups at resolution %v: no error", time.Duration(res))
		}
	}
}

func testLatest(t *testing.T, open Opener) {
	s := open(t)
	t0 := base().Add(time.Hour)
	newest := map[[2]string]results.Record{}
	var first, second []results.Record
	n := 0
	for _, check := range []string{"api", "web"} {
		for _, region := range []string{"ap", "eu", "us"} {
			for i := range 4 {
				n++
				r := simple(fmt.Sprintf("l-%d", n), check, region, t0.Add(time.Duration(n*7%11+i*20)*time.Second), time.Millisecond)
				k := [2]string{check, region}
				if cur, ok := newest[k]; !ok || r.Started.After(cur.Started) {
					newest[k] = r
				}
				// The newest record of some pairs comes in the first batch,
				// older ones after it.
				if (i == 3) == (n%2 == 0) {
					first = append(first, r)
				} else {
					second = append(second, r)
				}
			}
		}
	}
	write(t, s, first...)
	write(t, s, second...)
	got, err := s.Latest(t.Context())
	if err != nil {
		t.Fatalf("Latest: %v", err)
	}
	if len(got) != len(newest) {
		t.Fatalf("Latest returned %d records %v, want one per check×region (%d)", len(got), ids(got), len(newest))
	}
	for _, r := range got {
		if w := newest[[2]string{r.Check, r.Region}]; r.ID != w.ID {
			t.Errorf("Latest %s/%s = %s (started %v), want %s (started %v)", r.Check, r.Region, r.ID, r.Started, w.ID, w.Started)
		}
	}
}

func testResultsFilters(t *testing.T, open Opener) {
	s := open(t)
	t0 := base().Add(3 * time.Hour)
	var all []results.Record
	for i := range 30 {
		region := []string{"eu", "us", "ap"}[i%3]
		all = append(all, simple(fmt.Sprintf("f-%02d", i), "web", region, t0.Add(time.Duration(i)*time.Minute), time.Millisecond))
		all = append(all, simple(fmt.Sprintf("g-%02d", i), "api", region, t0.Add(time.Duration(i)*time.Minute), time.Millisecond))
	}
	write(t, s, all...)
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }
	tests := []struct {
		name  string
		q     results.Query
		limit int // expected count cap, 0 = none
		keep  func(r results.Record) bool
	}{
		{"check", results.Query{Check: "web"}, 0, func(r results.Record) bool { return r.Check == "web" }},
		{"check and region", results.Query{Check: "web", Region: "us"}, 0, func(r results.Record) bool { return r.Check == "web" && r.Region == "us" }},
		{"since inclusive", results.Query{Check: "web", Since: at(10)}, 0, func(r results.Record) bool { return r.Check == "web" && !r.Started.Before(at(10)) }},
		{"until exclusive", results.Query{Check: "web", Until: at(10)}, 0, func(r results.Record) bool { return r.Check == "web" && r.Started.Before(at(10)) }},
		{"window and region", results.Query{Check: "api", Region: "eu", Since: at(3), Until: at(27)}, 0, func(r results.Record) bool {
			return r.Check == "api" && r.Region == "eu" && !r.Started.Before(at(3)) && r.Started.Before(at(27))
		}},
		{"limit", results.Query{Check: "web", Limit: 4}, 4, func(r results.Record) bool { return r.Check == "web" }},
		{"limit with region", results.Query{Check: "web", Region: "ap", Limit: 2}, 2, func(r results.Record) bool { return r.Check == "web" && r.Region == "ap" }},
		{"unknown region", results.Query{Check: "web", Region: "mars"}, 0, func(results.Record) bool { return false }},
		{"unknown check", results.Query{Check: "nope"}, 0, func(results.Record) bool { return false }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []results.Record
			for _, r := range all {
				if tt.keep(r) {
					want = append(want, r)
				}
			}
			slices.SortFunc(want, func(a, b results.Record) int { return b.Started.Compare(a.Started) })
			if tt.limit > 0 {
				want = want[:tt.limit]
			}
			got, err := s.Results(t.Context(), tt.q)
			if err != nil {
				t.Fatalf("Results: %v", err)
			}
			if !slices.Equal(ids(got), ids(want)) {
				t.Errorf("Results(%+v)\n got %v\nwant %v", tt.q, ids(got), ids(want))
			}
		})
	}
}
