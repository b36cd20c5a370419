// Package bench measures the real Vantage server end to end on loopback:
// it starts a target farm in-process, writes a config of N generated
// checks, runs `vantage serve` (and optionally two agents) as child
// processes of the same binary, and reports throughput, CPU per 1,000
// probes, memory, scheduling lag, the results store, render latency and
// measurement accuracy over a window after a warm-up. It is the engine of
// `vantage bench`; it needs Linux (/proc).
package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// Kinds a bench check can have (--mix).
var kinds = []string{"http", "tcp", "dns", "tls"}

// Limits of the options.
const (
	MaxChecks   = 100_000
	MinInterval = 100 * time.Millisecond
)

// Options configure one bench run.
type Options struct {
	Checks   int           // generated checks, spread round-robin over Mix
	Interval time.Duration // every check's interval
	Duration time.Duration // measuring window
	Warmup   time.Duration // from the server being ready to the window
	Mix      []string      // check kinds: http, tcp, dns, tls
	Agents   int           // 0, or 2 agents (regions bench-a and bench-b probe every check too)
	Renders  int           // timed GETs of / and of /metrics after the window; default 5
	// Soak adds hostile and flaky targets, counts duplicate notifications
	// and judges memory and goroutines over the window (see Soak).
	Soak bool
	// Command returns the command running `vantage args...` (this binary).
	Command func(args ...string) *exec.Cmd
	Logger  *slog.Logger // progress; default: discard
}

// Validate reports every problem of o, each naming its flag.
func (o Options) Validate() error {
	var errs []error
	if o.Checks < 1 || o.Checks > MaxChecks {
		errs = append(errs, fmt.Errorf("--checks %d: want 1 to %d", o.Checks, MaxChecks))
	}
	if o.Interval < MinInterval {
		errs = append(errs, fmt.Errorf("--interval %s: want at least %s", o.Interval, MinInterval))
	}
	if o.Duration < time.Second {
		errs = append(errs, fmt.Errorf("--duration %s: want at least 1s", o.Duration))
	}
	if o.Warmup < 0 {
		errs = append(errs, fmt.Errorf("--warmup %s: must not be negative", o.Warmup))
	}
	if len(o.Mix) == 0 {
		errs = append(errs, errors.New("--mix: name at least one of http, tcp, dns, tls"))
	}
	for i, k := range o.Mix {
		if !slices.Contains(kinds, k) {
			errs = append(errs, fmt.Errorf("--mix %q: want http, tcp, dns or tls", k))
		} else if slices.Contains(o.Mix[:i], k) {
			errs = append(errs, fmt.Errorf("--mix: %s given twice", k))
		}
	}
	if o.Agents != 0 && o.Agents != 2 {
		errs = append(errs, fmt.Errorf("--agents %d: want 0 or 2", o.Agents))
	}
	if o.Renders < 0 {
		errs = append(errs, fmt.Errorf("renders %d: must not be negative", o.Renders))
	}
	if o.Command == nil {
		errs = append(errs, errors.New("bench: no command to run vantage with"))
	}
	return errors.Join(errs...)
}

// ParseMix splits a --mix value ("http,tcp").
func ParseMix(s string) []string {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, strings.ToLower(f))
		}
	}
	return out
}

// regions returns the regions every check is probed from.
func (o Options) regions() []string {
	if o.Agents == 2 {
		return []string{"local", "bench-a", "bench-b"}
	}
	return []string{"local"}
}

// Run runs one bench and returns its report. The report's Results.Equal
// is false when results were lost; that is a finding, not an error.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Renders == 0 {
		o.Renders = 5
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	dir, err := os.MkdirTemp("", "vantage-bench-")
	if err != nil {
		return nil, fmt.Errorf("temporary directory: %w", err)
	}
	defer os.RemoveAll(dir)
	r := &run{o: o, dir: dir, log: o.Logger}
	return r.do(ctx)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
