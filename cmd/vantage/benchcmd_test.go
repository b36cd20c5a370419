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

// TestBenchRuns runs `vantage bench` once at small scale: not for its
// figures (make bench gives those) but to check that it works end to end
// and that every result produced was stored.
func TestBenchRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess test")
	}
	var out, errb bytes.Buffer
	code := benchWith(t.Context(), []string{"--checks", "20", "--interval", "1s", "--warmup", "1s", "--duration", "3s",
		"--mix", "http,tcp,dns,tls", "--json"}, &out, &errb, testBinary)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	var rep struct {
		Checks                  int
		PlannedProbesPerSecond  float64 `json:"planned_probes_per_second"`
		AchievedProbesPerSecond float64 `json:"achieved_probes_per_second"`
		Probes                  int64
		Failed                  int64
		CPU                     struct {
			ServerSeconds float64 `json:"server_seconds"`
		}
		Memory []struct {
			Process    string
			PeakRSSMiB float64 `json:"peak_rss_mib"`
		}
		Results struct {
			Produced, Stored int64
			Equal            bool
		}
		Render struct {
			Index, Metrics struct{ N int }
		}
		Delayed struct {
			Probes     int
			P50Seconds float64 `json:"p50_seconds"`
		} `json:"delayed_target"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("the report is not JSON: %v\n%s", err, out.String())
	}
	if !rep.Results.Equal || rep.Results.Produced != rep.Results.Stored || rep.Results.Stored == 0 {
		t.Errorf("results produced %d, stored %d, equal %v", rep.Results.Produced, rep.Results.Stored, rep.Results.Equal)
	}
	// 20 checks at 1 s over a 3 s window: about 60 probes.
	if rep.Checks != 20 || rep.PlannedProbesPerSecond != 20 || rep.Probes < 40 || rep.Probes > 80 || rep.Failed != 0 {
		t.Errorf("checks %d, planned %v/s, %d probes in the window, %d failed", rep.Checks, rep.PlannedProbesPerSecond, rep.Probes, rep.Failed)
	}
	if rep.CPU.ServerSeconds <= 0 || len(rep.Memory) != 1 || rep.Memory[0].Process != "server" || rep.Memory[0].PeakRSSMiB <= 0 {
		t.Errorf("cpu %+v, memory %+v", rep.CPU, rep.Memory)
	}
	if rep.Render.Index.N != 5 || rep.Render.Metrics.N != 5 {
		t.Errorf("renders %+v", rep.Render)
	}
	// Two of the five HTTP checks probe the 50 ms target.
	if rep.Delayed.Probes < 2 || rep.Delayed.P50Seconds < 0.050 || rep.Delayed.P50Seconds > 1 {
		t.Errorf("50 ms target: %+v", rep.Delayed)
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
