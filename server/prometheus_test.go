package server_test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRealPrometheusScrapes runs Debian's Prometheus against the server's
// /metrics and, with blackbox_exporter's relabelling, its /probe, and asks
// it in PromQL for probe_success.
func TestRealPrometheusScrapes(t *testing.T) {
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("prometheus is missing (make test installs the prometheus package)")
		}
		t.Skip("prometheus not installed")
	}
	ok, bad := targets(t)
	dir := t.TempDir()
	mods := filepath.Join(dir, "blackbox.yml")
	if err := os.WriteFile(mods, []byte(blackboxModules), 0o600); err != nil {
		t.Fatal(err)
	}
	e := startWith(t, fmt.Sprintf("probe_endpoint: {enabled: true, modules_file: %q, allow_targets: [127.0.0.1/32], deny_targets: []}\n", mods),
		fmt.Sprintf("  - {name: good, http: {url: %q}}\n  - {name: broken, http: {url: %q}}\n", ok, bad))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	promAddr := ln.Addr().String()
	ln.Close()
	// The blackbox job is the relabelling pattern of blackbox_exporter's
	// README, unchanged but for the exporter's address.
	vantage := strings.TrimPrefix(e.base, "http://")
	cfg := fmt.Sprintf(`global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: vantage
    static_configs: [{targets: [%q]}]
  - job_name: blackbox
    metrics_path: /probe
    params:
      module: [http_2xx]
    static_configs:
      - targets: [%q, %q]
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: %q
`, vantage, ok, bad, vantage)
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config.file="+cfgPath, "--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+promAddr, "--log.level=error")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	query := func(q string) (map[string]string, bool) {
		resp, err := http.Get("http://" + promAddr + "/api/v1/query?query=" + url.QueryEscape(q))
		if err != nil {
			return nil, false
		}
		defer resp.Body.Close()
		var r struct {
			Data struct {
				Result []struct {
					Metric map[string]string
					Value  []any
				}
			}
		}
		if json.NewDecoder(resp.Body).Decode(&r) != nil {
			return nil, false
		}
		out := map[string]string{}
		for _, s := range r.Data.Result {
			out[cmp.Or(s.Metric["check"], s.Metric["instance"])] = fmt.Sprint(s.Value[1])
		}
		return out, true
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, ok := query(`probe_success{job="vantage",region="local"}`)
		if ok && got["good"] == "1" && got["broken"] == "0" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus never saw probe_success good=1 broken=0: %v", got)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if got, _ := query(`vantage_check_state{state="down"} == 1`); got["broken"] != "1" {
		t.Fatalf("vantage_check_state via PromQL: %v", got)
	}
	for {
		got, _ := query(`probe_success{job="blackbox"}`)
		if got[ok] == "1" && got[bad] == "0" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus never saw /probe's probe_success %s=1 %s=0: %v", ok, bad, got)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if got, _ := query(`probe_http_status_code{job="blackbox"}`); got[bad] != "500" {
		t.Fatalf("probe_http_status_code via /probe: %v", got)
	}
}
