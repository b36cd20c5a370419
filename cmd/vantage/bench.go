package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/vantageprobe/vantage/bench"
)

const benchUsage = `Usage: vantage bench [--checks N] [--interval D] [--duration D] [--warmup D]
                     [--mix http,tcp,dns,tls] [--agents 0|2] [--soak] [--json]

Measures the real server end to end on 127.0.0.1 and nothing else: starts
loopback targets in this process (a fast HTTP API, an HTTP target that
answers after 50 ms, TLS, TCP and DNS), writes a config of N checks spread
round-robin over --mix (every tenth HTTP check probes the 50 ms target),
and runs 'vantage serve' on it as a child process of this binary, with a
temporary SQLite database; --agents 2 adds two 'vantage agent' children
(regions bench-a and bench-b) that probe every check too. After --warmup it
measures for --duration: probes/s achieved and planned, CPU per 1,000
probes of the vantage processes (/proc/PID/stat), RSS and peak RSS,
scheduling lag (start − planned slot) and gaps between runs, overruns,
result-queue depth, batch commit latency, GET / and GET /metrics latency,
and the stored durations of the 50 ms target, whole and in parts (the
target's processing; the prober's connect and the rest). Then it stops the
agents and the server (SIGTERM: the final flush) and checks that every
result produced was stored. Linux only. Exit code 1 when results were lost.

--soak looks for slow trouble too: every tenth check probes a hostile or
flaky target instead (20 % failures, a target that never answers, one that
resets the TLS handshake, a closed port), alerts go to a receiver that
counts notifications delivered twice, and RSS (every process) and the
server's goroutines are sampled every 2 s. It fails (exit code 1) when RSS
or goroutines still grow in the window's last quarter against its second
(medians; in a race build RSS is reported but not judged), a notification
arrived twice, a Chromium process was left behind, or a result was lost.
'make soak' runs it for 10 minutes with the race detector, then without.

Flags:
`

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return benchWith(ctx, args, stdout, stderr, selfCommand)
}

// selfCommand runs this binary with args.
func selfCommand(args ...string) *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	return exec.Command(exe, args...)
}

// benchWith is runBench with the command that runs vantage's children.
func benchWith(ctx context.Context, args []string, stdout, stderr io.Writer, command func(...string) *exec.Cmd) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	checks := fs.Int("checks", 1000, "number of generated checks `N`")
	interval := fs.Duration("interval", time.Second, "every check's interval `D` (at least 100ms)")
	duration := fs.Duration("duration", 60*time.Second, "measuring window `D` (at least 1s)")
	warmup := fs.Duration("warmup", 10*time.Second, "wait `D` after the server is ready before measuring")
	mix := fs.String("mix", "http", "check kinds, comma-separated: http, tcp, dns, tls")
	agents := fs.Int("agents", 0, "agent processes: 0, or 2 (each probes every check as its own region)")
	soak := fs.Bool("soak", false, "also probe hostile and flaky targets, count duplicate notifications and fail unless RSS and goroutines stay flat over the window's second half")
	asJSON := fs.Bool("json", false, "print the report as one JSON object")
	logLevel := fs.String("log-level", "warn", "progress log `level` on stderr: debug, info, warn, error")
	fs.Usage = func() { fmt.Fprint(fs.Output(), benchUsage); fs.PrintDefaults() }
	if rest, err := parseInterspersed(fs, args); err != nil {
		return flagError(err)
	} else if len(rest) > 0 {
		fmt.Fprintf(stderr, "vantage bench: unexpected argument %q\n", rest[0])
		return exitUsage
	}
	log, err := newLogger(stderr, *logLevel)
	if err != nil {
		fmt.Fprintf(stderr, "vantage bench: %v\n", err)
		return exitUsage
	}
	o := bench.Options{Checks: *checks, Interval: *interval, Duration: *duration, Warmup: *warmup,
		Mix: bench.ParseMix(*mix), Agents: *agents, Soak: *soak, Command: command, Logger: log}
	if err := o.Validate(); err != nil {
		fmt.Fprintf(stderr, "vantage bench: %v\n", err)
		return exitUsage
	}
	rep, err := bench.Run(ctx, o)
	if err != nil && ctx.Err() != nil {
		fmt.Fprintln(stderr, "vantage bench: interrupted (the server and agents were stopped)")
		return exitFailed
	}
	if err != nil {
		fmt.Fprintf(stderr, "vantage bench: %v\n", err)
		return exitFailed
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = rep.WriteTable(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "vantage bench: %v\n", err)
		return exitFailed
	}
	if !rep.Results.Equal {
		fmt.Fprintf(stderr, "vantage bench: %d results produced but %d stored\n", rep.Results.Produced, rep.Results.Stored)
		return exitFailed
	}
	if !rep.Soak.Passed() {
		fmt.Fprintf(stderr, "vantage bench: soak failed: %s\n", strings.Join(rep.Soak.Problems, "; "))
		return exitFailed
	}
	return exitOK
}
