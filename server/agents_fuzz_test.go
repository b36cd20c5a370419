package server_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/vantageprobe/vantage/probes"
	"github.com/vantageprobe/vantage/results"
	"github.com/vantageprobe/vantage/server"
)

// ingestSpec is the agent API's contract, written out independently of
// the handler: which records are valid, where they may come from, which
// checks eu-west probes.
var (
	ingestKinds   = []probes.Kind{probes.KindHTTP, probes.KindTCP, probes.KindDNS, probes.KindTLS, probes.KindBrowser}
	euWestChecks  = []string{"api", "eu-only"}
	fuzzedChecks  = []string{"api", "eu-only", "us-only"}
	ingestMaxRecs = 50000
)

func ingestValid(r results.Record) bool {
	if len(r.ID) < 16 || len(r.ID) > 64 || strings.TrimLeft(r.ID, "0123456789abcdef") != "" {
		return false
	}
	return r.Check != "" && r.Region != "" && slices.Contains(ingestKinds, r.Kind) && !r.Started.IsZero() &&
		r.Started.Year() >= 1700 && r.Duration >= 0 // the store keeps years 1700-2200; later ones are future
}

// wantIngestCode is the status a decoded batch from eu-west must get: the
// first bad record decides.
func wantIngestCode(b server.IngestBatch) int {
	if len(b.Results) > ingestMaxRecs {
		return http.StatusBadRequest
	}
	for _, r := range b.Results {
		switch {
		case !ingestValid(r):
			return http.StatusBadRequest
		case r.Region != "eu-west":
			return http.StatusForbidden
		}
	}
	return http.StatusOK
}

// FuzzAgentIngest pushes arbitrary bodies to POST /api/v1/agent/results
// with eu-west's token. The handler must never panic and must answer with
// the status the contract above gives; a refused batch stores nothing, an
// accepted one is counted exactly and each new record it acknowledges
// reads back as sent (the agent deletes what was acknowledged); records of
// checks not assigned to eu-west are never stored; /metrics stays valid.
func FuzzAgentIngest(f *testing.F) {
	const usToken = "us-east-token-0123456789"
	e := startWith(f, fmt.Sprintf("regions: [{name: eu-west, token: %q}, {name: us-east, token: %q}]\n", euToken, usToken),
		"  - {name: api, interval: 1h, regions: [eu-west, us-east], http: {url: \"http://127.0.0.1:1/\"}}\n"+
			"  - {name: eu-only, interval: 1h, regions: [eu-west], tcp: {address: \"127.0.0.1:1\"}}\n"+
			"  - {name: us-only, interval: 1h, regions: [us-east], dns: {name: example.com, server: \"127.0.0.1:1\"}}\n")
	h := e.srv.Handler()
	store := e.srv.Store()

	now := time.Now().UTC()
	n := 0
	rec := func(check, region string, started time.Time) results.Record {
		r := agentRecord(check, region, started)
		n++
		r.ID = fmt.Sprintf("%032x", n) // stable, so that the seeds are
		return r
	}
	failed := rec("eu-only", "eu-west", now.Add(-time.Minute))
	failed.Kind, failed.OK, failed.ErrorClass, failed.Error = probes.KindTCP, false, "conn_refused", "dial tcp 127.0.0.1:1: connection refused"
	detailed := rec("api", "eu-west", now.Add(-2*time.Minute))
	detailed.ID, detailed.StatusCode, detailed.Detail = "0123456789abcdef", 200, []byte(`{"http":{"version":"HTTP/1.1","redirects":2}}`)
	for _, b := range [][]byte{
		batch(f, rec("api", "eu-west", now.Add(-time.Second))),
		batch(f, detailed, failed, rec("us-only", "eu-west", now)),
		batch(f, rec("api", "eu-west", now.Add(time.Hour))), // future
		batch(f, rec("api", "us-east", now)),                // another region's
		[]byte(`{"agent": {"version": "vantage-agent/1.4.0", "now": "2026-03-01T12:00:00Z", "spool_depth": 0}, "results": []}`),
		[]byte(`{"results": [{"ID": "0123456789ABCDEF", "Check": "api", "Region": "eu-west", "Kind": "http", "Started": "2026-03-01T12:00:00Z"}]}`),
		[]byte(`{"results": [{"ID": "0123456789abcdef0123", "Check": "api", "Region": "eu-west", "Kind": "dns", "Started": "2026-03-01T12:00:00+02:00", "Duration": 9223372036854775807, "StatusCode": -1, "Phases": {"Resolve": -5}}]}`),
		// Regression: a year the store cannot keep was a 503, which the agent retries forever.
		[]byte(`{"results": [{"ID": "0123456789abcdef0a", "Check": "api", "Region": "eu-west", "Kind": "http", "Started": "1500-01-01T00:00:00Z"}]}`),
		[]byte(`{"results": [{"ID": "0123456789abcdef", "Check": "api\u0000\r\n", "Region": "eu-west", "Kind": "tls", "Started": "2026-03-01T12:00:00Z", "Target": "x\r\nX-Evil: 1\u2028"}]}`),
		[]byte(`{"agent": {"now": "9999-12-31T23:59:59Z", "spool_depth": -9223372036854775808}, "results": null}`),
		[]byte(`{"results": [{"Duration": 1e400}]}`),
		[]byte("{\r\n\"results\": [\r\n]\r\n}\r\n"),
		[]byte(`{"results": [], "extra": 1}`),
		[]byte(`{"results": [` + strings.Repeat("[", 500) + strings.Repeat("]", 500) + `]}`),
		[]byte(`{"agent": ` + strings.Repeat(`{"version": `, 100) + `"x"` + strings.Repeat("}", 100) + `}`),
		[]byte(`{"results": []} {"results": [`),
		[]byte("\x00\xff"),
		[]byte(""),
		[]byte("null"),
	} {
		f.Add(b)
	}

	count := func(t *testing.T, check string) int64 {
		t.Helper()
		_, n, err := store.Count(t.Context(), results.CountQuery{Check: check, Region: "eu-west"})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	stored := map[string]bool{} // ids this server stored
	f.Fuzz(func(t *testing.T, body []byte) {
		before := map[string]int64{}
		for _, c := range fuzzedChecks {
			before[c] = count(t, c)
		}
		req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/api/v1/agent/results", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+euToken)
		req.RemoteAddr = "127.0.0.1:40000" // this machine: never rate-limited
		w := httptest.NewRecorder()
		sent := time.Now()
		h.ServeHTTP(w, req)
		if ct := w.Header().Get("Content-Type"); ct != "application/json" || !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%d answer is not JSON (%q): %q", w.Code, ct, w.Body)
		}

		var b server.IngestBatch
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		want := http.StatusBadRequest
		err := dec.Decode(&b)
		if err == nil && dec.Decode(&json.RawMessage{}) != io.EOF {
			err = errors.New("data after the JSON value") // refused, not ignored
		}
		switch {
		case len(body) > server.MaxIngestBytes:
			want = http.StatusRequestEntityTooLarge
		case err == nil:
			want = wantIngestCode(b)
		}
		if w.Code != want {
			t.Fatalf("status %d, want %d: %s", w.Code, want, w.Body)
		}
		if err := store.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		after := map[string]int64{}
		for _, c := range fuzzedChecks {
			after[c] = count(t, c)
		}
		if after["us-only"] != 0 {
			t.Fatalf("%d results of us-only stored for eu-west, which does not probe it", after["us-only"])
		}
		if want != http.StatusOK {
			if !maps.Equal(before, after) {
				t.Fatalf("a refused batch (%d) stored results: %v before, %v after", w.Code, before, after)
			}
			return
		}
		checkAccepted(t, store, w.Body.Bytes(), b.Results, sent, stored, before, after)
		m := httptest.NewRecorder()
		mreq := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/metrics", nil)
		mreq.RemoteAddr = req.RemoteAddr
		h.ServeHTTP(m, mreq)
		if m.Code != http.StatusOK {
			t.Fatalf("/metrics after a push: %d", m.Code)
		}
		parser := expfmt.NewTextParser(model.UTF8Validation)
		if _, err := parser.TextToMetricFamilies(m.Body); err != nil {
			t.Fatalf("/metrics after a push: %v", err)
		}
	})
}

// checkAccepted checks the answer and the store after a 200: the counts
// add up, each check gained exactly its new ids, and each reads back.
func checkAccepted(t *testing.T, store results.Store, answer []byte, recs []results.Record, sent time.Time,
	stored map[string]bool, before, after map[string]int64) {
	t.Helper()
	var resp server.IngestResponse
	if err := json.Unmarshal(answer, &resp); err != nil {
		t.Fatalf("answer %s: %v", answer, err)
	}
	if resp.Accepted+resp.Ignored+resp.Future != len(recs) || resp.Accepted < 0 || resp.Ignored < 0 || resp.Future < 0 {
		t.Fatalf("answer %+v for %d results", resp, len(recs))
	}
	// The handler reads its clock after sent; a result stamped within a
	// few seconds of the 5-minute bound may fall on either side.
	bound := sent.Add(server.MaxFutureSkew)
	var ignored, future int
	var fresh []results.Record
	exact := true
	for _, r := range recs {
		switch {
		case !slices.Contains(euWestChecks, r.Check):
			ignored++
		case r.Started.After(bound.Add(5 * time.Second)):
			future++
		case r.Started.After(bound.Add(-5 * time.Second)):
			exact = false
		case !stored[r.ID]:
			stored[r.ID] = true
			fresh = append(fresh, r)
		}
	}
	if resp.Ignored != ignored || exact && resp.Future != future {
		t.Fatalf("answer %+v, want %d ignored and %d future", resp, ignored, future)
	}
	if !exact {
		return
	}
	for _, c := range euWestChecks {
		n := int64(0)
		for _, r := range fresh {
			if r.Check == c {
				n++
			}
		}
		if after[c]-before[c] != n {
			t.Fatalf("%s gained %d results, want %d new ones", c, after[c]-before[c], n)
		}
	}
	for _, r := range fresh {
		got, err := store.Results(t.Context(), results.Query{Check: r.Check, Region: "eu-west", Since: r.Started, Until: r.Started.Add(1)})
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(got, func(g results.Record) bool { return g.ID == r.ID })
		if i < 0 {
			t.Fatalf("acknowledged result %s (started %s) does not read back: %d others at that time", r.ID, r.Started.Format(time.RFC3339Nano), len(got))
		}
		g := got[i]
		if !g.Started.Equal(r.Started) || g.Kind != r.Kind || g.Target != r.Target || g.Duration != r.Duration || g.OK != r.OK ||
			g.Degraded != r.Degraded || g.Error != r.Error || g.ErrorClass != r.ErrorClass || g.Warning != r.Warning ||
			g.Phases != r.Phases || g.TraceID != r.TraceID || g.StatusCode != r.StatusCode || g.DNSRcode != r.DNSRcode || !bytes.Equal(g.Detail, r.Detail) {
			t.Fatalf("result %s reads back as\n%+v\nsent\n%+v", r.ID, g, r)
		}
	}
}
