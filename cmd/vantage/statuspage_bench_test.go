package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/results"
	"github.com/vantageprobe/vantage/results/sqlite"
)

// BenchmarkStatusPageWrk runs `vantage serve` with a status page of 200
// public checks × 3 regions over 90 days of hourly results (1.3 M), then
// measures the first (cold) GET / and drives it with wrk (Debian package
// "wrk"; make bench installs it) over loopback for 10 s. Run with
// -benchtime 1x.
func BenchmarkStatusPageWrk(b *testing.B) {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		b.Skip("wrk is not installed (make bench installs it)")
	}
	const checks, days = 200, 90
	regions := []string{"local", "eu-west", "us-east"}
	dir := b.TempDir()
	db := filepath.Join(dir, "results.db")
	store, err := sqlite.Open(b.Context(), sqlite.Options{Path: db})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Hour)
	batch := make([]results.Record, 0, 10000)
	for d := range days * 24 {
		at := now.Add(-time.Duration(d) * time.Hour)
		for c := range checks {
			for _, r := range regions {
				ok := rand.IntN(500) != 0
				batch = append(batch, results.Record{ID: results.NewID(), Check: fmt.Sprintf("c%03d", c), Region: r, Kind: "http",
					Started: at, Duration: time.Duration(20+rand.IntN(80)) * time.Millisecond, OK: ok})
			}
		}
		if len(batch) >= 9000 {
			if err := store.Write(b.Context(), batch...); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := store.Write(b.Context(), batch...); err != nil {
		b.Fatal(err)
	}
	if err := store.Close(); err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "server: {listen: %q, admin_listen: \"off\"}\nstorage: {path: %q}\nregions: [{name: eu-west, token: eu-west-token-0123456789}, {name: us-east, token: us-east-token-0123456789}]\n", addr, db)
	cfg.WriteString("defaults: {interval: 1h, timeout: 5s, regions: [local, eu-west, us-east]}\nstatus_page:\n  title: Bench\n  groups:\n")
	for g := range 10 {
		fmt.Fprintf(&cfg, "    - name: group %d\n      checks: [", g)
		for c := range checks / 10 {
			if c > 0 {
				cfg.WriteString(", ")
			}
			fmt.Fprintf(&cfg, "c%03d", g*checks/10+c)
		}
		cfg.WriteString("]\n")
	}
	cfg.WriteString("checks:\n")
	for c := range checks {
		fmt.Fprintf(&cfg, "  - {name: c%03d, http: {url: \"http://127.0.0.1:1/%d\"}}\n", c, c)
	}
	path := filepath.Join(dir, "vantage.yaml")
	if err := os.WriteFile(path, []byte(cfg.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		cmd, _ := subprocessB(b, "serve", "-c", path, "--log-level", "error")
		base := "http://" + addr
		var cold time.Duration
		var size int
		deadline := time.Now().Add(60 * time.Second)
		for {
			start := time.Now()
			resp, err := http.Get(base + "/")
			if err == nil {
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 {
					cold, size = time.Since(start), len(body)
					if d := os.Getenv("STATUSPAGE_DUMP"); d != "" { // to look at what the bytes are
						_ = os.WriteFile(filepath.Join(d, "wrk.html"), body, 0o644)
					}
					break
				}
			}
			if time.Now().After(deadline) {
				b.Fatalf("status page not served within 60s: %v", err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		out, err := exec.Command(wrk, "-t2", "-c32", "-d10s", "--latency", "-H", "Accept-Encoding: gzip", base+"/").CombinedOutput()
		if err != nil {
			b.Fatalf("wrk: %v\n%s", err, out)
		}
		rps := wrkNumber(b, out, `Requests/sec:\s+([0-9.]+)`)
		p99 := wrkNumber(b, out, `\s99%\s+([0-9.]+)ms`)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		b.ReportMetric(rps, "req/s")
		b.ReportMetric(p99, "p99-ms")
		b.ReportMetric(float64(cold.Microseconds())/1000, "first-GET-ms")
		b.ReportMetric(float64(size)/1024, "KiB-html")
	}
}

// wrkNumber extracts one number from wrk's report.
func wrkNumber(b *testing.B, out []byte, pattern string) float64 {
	m := regexp.MustCompile(pattern).FindSubmatch(out)
	if m == nil {
		b.Logf("wrk output:\n%s", out)
		return -1
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}
