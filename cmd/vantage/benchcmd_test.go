package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// testBinary runs `vantage args...` as this test binary (see TestMain).
func testBinary(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "VANTAGE_TEST_MAIN=1", "VANTAGE_TEST_ARGS="+strings.Join(args, "\x1f"))
	return cmd
}

// TestBenchRuns runs `vantage bench` at small scale, without and with
// agents: not for its figures (make bench gives those) but to check that
// it works end to end and that every result produced was stored.
func TestBenchRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess test")
	}
	tests := []struct {
		name    string
		args    []string
		regions int
		planned float64
		delayed int // probes of the 50 ms target at least
	}{
		// 20 checks at 1 s over a 3 s window: about 60 probes; one of the
		// five HTTP checks probe the 50 ms target.
		{"server", []string{"--checks", "20", "--warmup", "1s", "--duration", "3s", "--mix", "http,tcp,dns,tls"}, 1, 20, 2},
		{"agents", []string{"--checks", "8", "--warmup", "2s", "--duration", "2s", "--agents", "2"}, 3, 24, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := benchWith(t.Context(), append(tt.args, "--interval", "1s", "--json"), &out, &errb, testBinary)
			if code != exitOK {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
			}
			checkBenchReport(t, out.Bytes(), tt.regions, tt.planned, tt.delayed)
		})
	}
}

func checkBenchReport(t *testing.T, out []byte, regions int, planned float64, delayed int) {
	t.Helper()
	var rep struct {
		PlannedProbesPerSecond float64 `json:"planned_probes_per_second"`
		WindowSeconds          float64 `json:"window_seconds"`
		Probes, Failed         int64
		CPU                    struct {
			ServerSeconds float64 `json:"server_seconds"`
		}
		Memory []struct {
			Process    string
			PeakRSSMiB float64 `json:"peak_rss_mib"`
		}
		Results struct {
			Produced, Stored int64
			Equal            bool
			ByRegion         []struct{ Produced, Stored int64 } `json:"by_region"`
		}
		Render struct {
			Index, Metrics struct{ N int }
		}
		Delayed struct {
			Probes               int
			P50Seconds           float64 `json:"p50_seconds"`
			P99Seconds           float64 `json:"p99_seconds"`
			ProcessingP50Seconds float64 `json:"processing_p50_seconds"`
			ConnectP99Seconds    float64 `json:"connect_p99_seconds"`
			RestP50Seconds       float64 `json:"rest_p50_seconds"`
			RestP99Seconds       float64 `json:"rest_p99_seconds"`
		} `json:"delayed_target"`
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("the report is not JSON: %v\n%s", err, out)
	}
	if !rep.Results.Equal || rep.Results.Produced != rep.Results.Stored || len(rep.Results.ByRegion) != regions {
		t.Errorf("results %+v", rep.Results)
	}
	for _, r := range rep.Results.ByRegion {
		if r.Produced <= 0 || r.Produced != r.Stored {
			t.Errorf("region %+v", r)
		}
	}
	want := planned * rep.WindowSeconds
	if rep.PlannedProbesPerSecond != planned || float64(rep.Probes) < want*0.7 || float64(rep.Probes) > want*1.3 || rep.Failed != 0 {
		t.Errorf("planned %v/s, %d probes in a %.1fs window, %d failed", rep.PlannedProbesPerSecond, rep.Probes, rep.WindowSeconds, rep.Failed)
	}
	if rep.CPU.ServerSeconds <= 0 || len(rep.Memory) != regions || rep.Memory[0].Process != "server" || rep.Memory[0].PeakRSSMiB <= 0 {
		t.Errorf("cpu %+v, memory %+v", rep.CPU, rep.Memory)
	}
	if rep.Render.Index.N != 5 || rep.Render.Metrics.N != 5 {
		t.Errorf("renders %+v", rep.Render)
	}
	if rep.Delayed.Probes < delayed || rep.Delayed.P50Seconds < 0.050 || rep.Delayed.P50Seconds > 1 {
		t.Errorf("50 ms target: %+v", rep.Delayed)
	}
	// The target answers 50 ms after it read the request, so processing
	// (written → first byte) takes at least that, and is part of the total.
	d := rep.Delayed
	if d.ProcessingP50Seconds < 0.050 || d.ProcessingP50Seconds > d.P50Seconds || d.ConnectP99Seconds <= 0 ||
		d.RestP50Seconds < 0 || d.RestP99Seconds >= d.P99Seconds {
		t.Errorf("50 ms target in parts: %+v", d)
	}
}

func TestBenchHelpAndUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"--help"}, exitOK, []string{"Usage: vantage bench", "-checks", "-interval", "-duration", "-warmup", "-mix", "-agents", "-json"}},
		{[]string{"--checks", "0"}, exitUsage, []string{"--checks 0"}},
		{[]string{"--interval", "10ms"}, exitUsage, []string{"--interval 10ms"}},
		{[]string{"--duration", "0s"}, exitUsage, []string{"--duration 0s"}},
		{[]string{"--warmup", "-1s"}, exitUsage, []string{"--warmup -1s"}},
		{[]string{"--mix", "http,ftp"}, exitUsage, []string{`--mix "ftp"`}},
		{[]string{"--mix", "http,http"}, exitUsage, []string{"--mix: http given twice"}},
		{[]string{"--agents", "1"}, exitUsage, []string{"--agents 1"}},
		{[]string{"--checks", "x"}, exitUsage, []string{"-checks"}},
		{[]string{"extra"}, exitUsage, []string{`unexpected argument "extra"`}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errOut := vantage(t, append([]string{"bench"}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.code, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out+errOut, w) {
					t.Errorf("output lacks %q:\n%s%s", w, out, errOut)
				}
			}
		})
	}
}
