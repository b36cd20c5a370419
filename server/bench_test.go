package server_test

import (
	"bytes"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/results"
)

// BenchmarkAgentIngest pushes batches of 1,000 results over loopback HTTP
// into the server and its SQLite store (rollups maintained), as agents do,
// and reports results/s end to end (each push answered, then the store
// flushed).
func BenchmarkAgentIngest(b *testing.B) {
	e := startWith(b, fmt.Sprintf("regions: [{name: eu-west, token: %q}]\n", euToken),
		"  - {name: api, interval: 1m, regions: [eu-west], http: {url: \"http://127.0.0.1:1/\"}}\n")
	client := &http.Client{}
	start := time.Now().UTC().Add(-time.Hour)
	n := 0
	began := time.Now()
	for b.Loop() {
		recs := make([]results.Record, 1000)
		for i := range recs {
			recs[i] = agentRecord("api", "eu-west", start.Add(time.Duration(n)*time.Millisecond))
			n++
		}
		body := batch(b, recs...)
		req, _ := http.NewRequest("POST", e.base+"/api/v1/agent/results", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+euToken)
		resp, err := client.Do(req)
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("push: %v %v", err, resp)
		}
		resp.Body.Close()
	}
	if err := e.srv.Store().Flush(b.Context()); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(n)/time.Since(began).Seconds(), "results/s") // pushes answered and every result committed
}
