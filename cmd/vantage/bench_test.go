package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// procStat reads a process's RSS and peak RSS (KiB) and CPU time.
func procStat(b *testing.B, pid int) (rss, hwm int64, cpu time.Duration) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "VmRSS:" {
			rss, _ = strconv.ParseInt(f[1], 10, 64)
		}
		if len(f) >= 2 && f[0] == "VmHWM:" {
			hwm, _ = strconv.ParseInt(f[1], 10, 64)
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return rss, hwm, time.Duration(utime+stime) * 10 * time.Millisecond // USER_HZ = 100
}

// BenchmarkServe1000HTTPChecks runs `vantage serve` as a subprocess with
// 1,000 HTTP checks at a 10 s interval against a loopback target, and
// reports its RSS, peak RSS and CPU per 1,000 probes over a 20 s window
// after a 12 s warm-up. Run with -benchtime 1x.
func BenchmarkServe1000HTTPChecks(b *testing.B) {
	var hits atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprint(w, "ok\n")
	}))
	defer target.Close()
	dir := b.TempDir()
	var cfg strings.Builder
	cfg.WriteString("server: {listen: \"127.0.0.1:0\", admin_listen: \"off\"}\nstorage: {path: results.db}\ndefaults: {interval: 10s, timeout: 5s}\nchecks:\n")
	for i := range 1000 {
		fmt.Fprintf(&cfg, "  - {name: c%04d, http: {url: \"%s/c%d\"}}\n", i, target.URL, i)
	}
	path := filepath.Join(dir, "vantage.yaml")
	if err := os.WriteFile(path, []byte(cfg.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		cmd, _ := subprocessB(b, "serve", "-c", path, "--log-level", "error")
		time.Sleep(12 * time.Second) // warm-up: every check has run at least once
		_, _, cpu0 := procStat(b, cmd.Process.Pid)
		h0 := hits.Load()
		time.Sleep(20 * time.Second)
		rss, hwm, cpu1 := procStat(b, cmd.Process.Pid)
		probes := hits.Load() - h0
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		b.ReportMetric(float64(rss)/1024, "RSS-MiB")
		b.ReportMetric(float64(hwm)/1024, "peak-RSS-MiB")
		b.ReportMetric(float64(probes)/20, "probes/s")
		b.ReportMetric(float64((cpu1-cpu0).Milliseconds())/float64(probes)*1000, "cpu-ms/1000-probes")
	}
}
