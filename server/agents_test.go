package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/config"
	"github.com/vantageprobe/vantage/results"
	"github.com/vantageprobe/vantage/server"
)

const euToken = "eu-west-token-0123456789"

func agentRequest(t *testing.T, method, url, token string, body []byte, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func agentRecord(check, region string, started time.Time) results.Record {
	return results.Record{ID: results.NewID(), Check: check, Region: region, Kind: "http", Target: "http://x/", Started: started, Duration: 5 * time.Millisecond, OK: true}
}

func batch(t testing.TB, recs ...results.Record) []byte {
	t.Helper()
	b, err := json.Marshal(server.IngestBatch{Agent: server.AgentInfo{Version: "vantage-agent/test", Now: time.Now().Add(2 * time.Second), SpoolDepth: 7, SpoolDropped: 3}, Results: recs})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func stored(t *testing.T, e *env, check string) int {
	t.Helper()
	if err := e.srv.Store().Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	recs, err := e.srv.Store().Results(t.Context(), results.Query{Check: check, Region: "eu-west", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return len(recs)
}

func TestAgentAPI(t *testing.T) {
	ok, _ := targets(t)
	e := startWith(t, fmt.Sprintf("regions: [{name: eu-west, token: %q}, {name: us-east, token: us-east-token-0123456789}]\n", euToken),
		fmt.Sprintf("  - {name: api, regions: [local, eu-west, us-east], http: {url: %q}}\n  - {name: eu-only, regions: [eu-west], tcp: {address: \"db:5432\"}}\n  - {name: home, http: {url: %q}}\n", ok, ok))
	checksURL, resultsURL := e.base+"/api/v1/agent/checks", e.base+"/api/v1/agent/results"

	for _, tok := range []string{"", "wrong-token-0123456789"} {
		if resp, _ := agentRequest(t, "GET", checksURL, tok, nil, nil); resp.StatusCode != 401 {
			t.Fatalf("assignment with token %q: %d", tok, resp.StatusCode)
		}
	}
	resp, body := agentRequest(t, "GET", checksURL, euToken, nil, map[string]string{"User-Agent": "vantage-agent/test"})
	if resp.StatusCode != 200 {
		t.Fatalf("assignment: %d %s", resp.StatusCode, body)
	}
	cfg, err := config.ParseAssignment(body)
	if err != nil || len(cfg.Checks) != 2 || cfg.Checks[0].Name != "api" || cfg.Checks[1].Name != "eu-only" {
		t.Fatalf("assignment %v: %s", err, body)
	}
	if resp, _ := agentRequest(t, "GET", checksURL, euToken, nil, map[string]string{"If-None-Match": resp.Header.Get("ETag")}); resp.StatusCode != 304 {
		t.Fatalf("unchanged assignment with its ETag: %d", resp.StatusCode)
	}

	now := time.Now().UTC()
	good := []results.Record{agentRecord("api", "eu-west", now.Add(-2*time.Second)), agentRecord("api", "eu-west", now.Add(-time.Second)), agentRecord("eu-only", "eu-west", now)}
	resp, body = agentRequest(t, "POST", resultsURL, euToken, batch(t, good...), nil)
	var ir server.IngestResponse
	if resp.StatusCode != 200 || json.Unmarshal(body, &ir) != nil || ir.Accepted != 3 || ir.SkewSeconds < 1 || ir.SkewSeconds > 3 {
		t.Fatalf("push: %d %s", resp.StatusCode, body)
	}
	// The same batch again (a retry): stored once.
	if resp, body = agentRequest(t, "POST", resultsURL, euToken, batch(t, good...), nil); resp.StatusCode != 200 {
		t.Fatalf("retried push: %d %s", resp.StatusCode, body)
	}
	if n := stored(t, e, "api"); n != 2 {
		t.Fatalf("api has %d eu-west results after a retried batch, want 2", n)
	}

	rejected := []struct {
		name string
		tok  string
		body []byte
		code int
		msg  string
	}{
		{"bad token", "nope-0123456789abcdef", batch(t, agentRecord("api", "eu-west", now)), 401, "token"},
		{"another region's results", euToken, batch(t, agentRecord("api", "eu-west", now), agentRecord("api", "us-east", now)), 403, "us-east"},
		{"malformed json", euToken, []byte(`{"results": [`), 400, "malformed"},
		{"unknown field", euToken, []byte(`{"results": [], "extra": 1}`), 400, "unknown field"},
		{"bad id", euToken, batch(t, agentRecord("api", "eu-west", now), results.Record{ID: "x", Check: "api", Region: "eu-west", Kind: "http", Started: now}), 400, "results[1]: id"},
		{"bad kind", euToken, batch(t, results.Record{ID: results.NewID(), Check: "api", Region: "eu-west", Kind: "smtp", Started: now}), 400, "kind"},
		{"oversized", euToken, append([]byte(`{"agent": {"version": "`), bytes.Repeat([]byte("a"), server.MaxIngestBytes+1)...), 413, "larger than"},
	}
	for _, tt := range rejected {
		resp, body := agentRequest(t, "POST", resultsURL, tt.tok, tt.body, nil)
		if resp.StatusCode != tt.code || !strings.Contains(string(body), tt.msg) {
			t.Errorf("%s: %d %s, want %d with %q", tt.name, resp.StatusCode, body, tt.code, tt.msg)
		}
	}
	if n := stored(t, e, "api"); n != 2 {
		t.Fatalf("a rejected batch stored something: api has %d eu-west results", n)
	}

	// Results of checks not assigned to the region are ignored, future ones refused.
	mixed := batch(t, agentRecord("home", "eu-west", now), agentRecord("api", "eu-west", now.Add(10*time.Minute)), agentRecord("api", "eu-west", now))
	resp, body = agentRequest(t, "POST", resultsURL, euToken, mixed, nil)
	if json.Unmarshal(body, &ir) != nil || resp.StatusCode != 200 || ir.Accepted != 1 || ir.Ignored != 1 || ir.Future != 1 {
		t.Fatalf("mixed batch: %d %s", resp.StatusCode, body)
	}

	var regions struct {
		Regions []struct {
			Name, Kind     string
			AgentVersion   string `json:"agent_version"`
			Online         bool
			SkewSeconds    float64 `json:"clock_skew_seconds"`
			SpoolDepth     int64   `json:"spool_depth"`
			SpoolDropped   int64   `json:"spool_dropped"`
			ChecksAssigned int     `json:"checks_assigned"`
		}
	}
	e.get(t, "/api/v1/regions", 200, &regions)
	r := regions.Regions
	if len(r) != 3 || r[0].Name != "local" || r[1].Name != "eu-west" || !r[1].Online || r[1].SpoolDepth != 7 || r[1].SpoolDropped != 3 || r[1].ChecksAssigned != 2 || r[2].Online || r[1].SkewSeconds < 1 {
		t.Fatalf("regions %+v", r)
	}
	var one struct {
		Regions []struct{ Region, State string }
	}
	e.get(t, "/api/v1/checks/api", 200, &one)
	if len(one.Regions) < 1 || one.Regions[0].Region != "eu-west" {
		t.Fatalf("per-region results of api: %+v", one.Regions)
	}
}

// TestQuorumAcrossRegions: results pushed by agents decide the check's
// state with its quorum (2 of 2 here): one failing region makes it
// degraded, both make it down; per-region uptime is reported.
func TestQuorumAcrossRegions(t *testing.T) {
	usToken := "us-east-token-0123456789"
	e := startWith(t, fmt.Sprintf("regions: [{name: eu-west, token: %q}, {name: us-east, token: %q}]\n", euToken, usToken),
		"  - {name: api, interval: 1m, regions: [eu-west, us-east], http: {url: \"http://127.0.0.1:1/\"}}\n")
	push := func(tok, region string, ok bool) {
		t.Helper()
		rec := agentRecord("api", region, time.Now().UTC())
		rec.OK = ok
		if !ok {
			rec.ErrorClass, rec.Error = "conn_refused", "connection refused"
		}
		resp, body := agentRequest(t, "POST", e.base+"/api/v1/agent/results", tok, batch(t, rec), nil)
		if resp.StatusCode != 200 {
			t.Fatalf("push: %d %s", resp.StatusCode, body)
		}
		if err := e.srv.Store().Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	state := func() (string, map[string]*float64) {
		t.Helper()
		var c struct {
			State   string
			Regions []struct {
				Region string
				Uptime *float64 `json:"uptime_24h"`
			}
		}
		e.get(t, "/api/v1/checks/api", 200, &c)
		up := map[string]*float64{}
		for _, r := range c.Regions {
			up[r.Region] = r.Uptime
		}
		return c.State, up
	}
	push(euToken, "eu-west", true)
	push(usToken, "us-east", false)
	if st, _ := state(); st != "degraded" {
		t.Fatalf("one region of two failing: %s, want degraded", st)
	}
	push(euToken, "eu-west", false)
	st, up := state()
	if st != "down" {
		t.Fatalf("two regions failing (quorum 2): %s, want down", st)
	}
	if up["eu-west"] == nil || *up["eu-west"] != 0.5 || up["us-east"] == nil || *up["us-east"] != 0 {
		t.Fatalf("per-region uptime %v", up)
	}
}

// TestIngestLargerThanQueue: a batch larger than the whole results queue
// could never fit, so it is refused with 413 (which makes an agent split
// it), not 503 forever; one that fits is stored.
func TestIngestLargerThanQueue(t *testing.T) {
	ok, _ := targets(t)
	e := startWith(t, fmt.Sprintf("storage: {path: results.db, queue_size: 100}\nregions: [{name: eu-west, token: %q}]\n", euToken),
		fmt.Sprintf("  - {name: remote, regions: [eu-west], http: {url: %q}}\n", ok))
	recs := make([]results.Record, 101)
	for i := range recs {
		recs[i] = agentRecord("remote", "eu-west", time.Now().Add(-time.Duration(i)*time.Second))
	}
	resp, body := agentRequest(t, http.MethodPost, e.base+"/api/v1/agent/results", euToken, batch(t, recs...), nil)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), "queue holds 100") {
		t.Fatalf("101 results into a queue of 100: %d %s", resp.StatusCode, body)
	}
	resp, body = agentRequest(t, http.MethodPost, e.base+"/api/v1/agent/results", euToken, batch(t, recs[:100]...), nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("100 results: %d %s", resp.StatusCode, body)
	}
	if n := stored(t, e, "remote"); n != 100 {
		t.Fatalf("%d stored, want 100", n)
	}
}
