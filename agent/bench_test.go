package agent_test

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/agent"
	"github.com/vantageprobe/vantage/results"
)

// BenchmarkSpoolReplay measures how fast an agent empties a spool of
// 20,000 results into a server over loopback HTTP (batches of 1,000,
// each removed from the spool once the server answered).
func BenchmarkSpoolReplay(b *testing.B) {
	const n = 20000
	dir := b.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfgPath := filepath.Join(dir, "vantage.yaml")
	src := fmt.Sprintf("regions: [{name: eu-west, token: %q}]\nstorage: {path: results.db}\nchecks:\n  - {name: api, interval: 1h, regions: [eu-west], http: {url: \"http://127.0.0.1:1/\"}}\n", token)
	if err := os.WriteFile(cfgPath, []byte(src), 0o600); err != nil {
		b.Fatal(err)
	}
	stop := runServer(b, cfgPath, addr)
	defer stop()
	var rate float64
	for i := 0; b.Loop(); i++ {
		spool, err := agent.OpenSpool(b.Context(), agent.SpoolOptions{Path: filepath.Join(dir, fmt.Sprintf("spool-%d.db", i))})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now().UTC().Add(-time.Hour)
		recs := make([]results.Record, 0, 1000)
		for j := range n {
			recs = append(recs, results.Record{ID: results.NewID(), Check: "api", Region: "eu-west", Kind: "http", Started: start.Add(time.Duration(j) * time.Millisecond), OK: true})
			if len(recs) == cap(recs) {
				if err := spool.Append(b.Context(), recs...); err != nil {
					b.Fatal(err)
				}
				recs = recs[:0]
			}
		}
		a, err := agent.New(agent.Options{Server: "http://" + addr, Region: "eu-west", Token: token, Spool: spool, HTTPClient: &http.Client{}})
		if err != nil {
			b.Fatal(err)
		}
		began := time.Now()
		if err := a.PushAll(b.Context()); err != nil {
			b.Fatal(err)
		}
		rate = n / time.Since(began).Seconds()
		if spool.Stats().Records != 0 {
			b.Fatal("spool not emptied")
		}
		spool.Close()
	}
	b.ReportMetric(rate, "results/s")
}
