package statuspage_test

import (
	"cmp"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/results"
	"github.com/vantageprobe/vantage/statuspage"
)

// clock is a settable time source.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.set(t)
	return c
}
func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) set(t time.Time)         { c.ns.Store(t.UnixNano()) }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// memRollups is an in-memory RollupReader built from records the way the
// SQLite store builds its rollups (results.Rollup.Add per bucket).
type memRollups struct {
	mu   sync.Mutex
	rows map[results.Resolution]map[[2]string]map[int64]*results.Rollup
}

func newMemRollups() *memRollups {
	return &memRollups{rows: map[results.Resolution]map[[2]string]map[int64]*results.Rollup{
		results.Minute: {}, results.Hour: {}, results.Day: {},
	}}
}

func (m *memRollups) add(recs ...results.Record) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, rec := range recs {
		for _, res := range []results.Resolution{results.Minute, results.Hour, results.Day} {
			k := [2]string{rec.Check, rec.Region}
			if m.rows[res][k] == nil {
				m.rows[res][k] = map[int64]*results.Rollup{}
			}
			start := res.BucketStart(rec.Started)
			ru := m.rows[res][k][start.Unix()]
			if ru == nil {
				ru = &results.Rollup{Check: rec.Check, Region: rec.Region, Start: start, Res: res}
				m.rows[res][k][start.Unix()] = ru
			}
			ru.Add(rec)
		}
	}
}

func (m *memRollups) Rollups(_ context.Context, q results.RollupQuery) ([]results.Rollup, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []results.Rollup
	for k, rows := range m.rows[q.Res] {
		if k[0] != q.Check || (q.Region != "" && k[1] != q.Region) {
			continue
		}
		for _, ru := range rows {
			if !ru.Start.Before(q.Since) && ru.Start.Before(q.Until) {
				out = append(out, *ru)
			}
		}
	}
	slices.SortFunc(out, func(a, b results.Rollup) int {
		return cmp.Or(a.Start.Compare(b.Start), cmp.Compare(a.Region, b.Region))
	})
	return out, nil
}

// fakeSource is a hand-written Source: states and events set by the test,
// rollups from any RollupReader. It counts reads and can be made to fail.
type fakeSource struct {
	results.RollupReader
	mu         sync.Mutex
	states     map[string]statuspage.CheckState
	events     statuspage.Events
	fail       error
	stateReads atomic.Int64
	asked      [][]string // checks passed to States
}

func (f *fakeSource) States(_ context.Context, checks []string) (map[string]statuspage.CheckState, error) {
	f.stateReads.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, slices.Clone(checks))
	if f.fail != nil {
		return nil, f.fail
	}
	out := make(map[string]statuspage.CheckState, len(f.states))
	for k, v := range f.states { // the server knows private checks too
		out[k] = v
	}
	return out, nil
}

func (f *fakeSource) Events(_ context.Context, from, to time.Time) (statuspage.Events, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return statuspage.Events{}, f.fail
	}
	return f.events, nil
}

func (f *fakeSource) set(fn func(f *fakeSource)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

var errSourceDown = errors.New("source down")

// up is a check state with every region up.
func up(regions ...string) statuspage.CheckState {
	return withState(statuspage.StateUp, regions...)
}

func withState(s statuspage.State, regions ...string) statuspage.CheckState {
	st := statuspage.CheckState{State: s}
	for _, r := range regions {
		st.Regions = append(st.Regions, statuspage.RegionState{Region: r, State: s})
	}
	return st
}

// probeSeries adds one record a minute for check × region over [from, to):
// latency lat, failing during the minutes fail reports.
func probeSeries(m *memRollups, check, region string, from, to time.Time, lat time.Duration, fail func(time.Time) bool) {
	var recs []results.Record
	for t := from; t.Before(to); t = t.Add(time.Minute) {
		ok := fail == nil || !fail(t)
		recs = append(recs, results.Record{ID: results.NewID(), Check: check, Region: region, Kind: "http",
			Target: "https://" + check + ".internal.example/health", Started: t, Duration: lat, OK: ok})
	}
	m.add(recs...)
}

// get requests path from srv and returns the response with its body
// (decompressed when gzip was asked for).
func get(t testing.TB, srv *httptest.Server, path string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept-Encoding", "identity")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	tr := &http.Transport{DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatalf("GET %s: gzip: %v", path, err)
		}
		r = zr
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp, string(b)
}
