package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/vantageprobe/vantage/config"
	"github.com/vantageprobe/vantage/probes"
)

// headerFlags collects repeated --header values.
type headerFlags []string

func (h *headerFlags) String() string     { return strings.Join(*h, ", ") }
func (h *headerFlags) Set(v string) error { *h = append(*h, v); return nil }

type checkFlags struct {
	timeout    time.Duration
	count      int
	interval   time.Duration
	json       bool
	format     string
	opts       config.TargetOptions
	headers    headerFlags
	screenshot string
}

func (f *checkFlags) register(fs *flag.FlagSet) {
	fs.DurationVar(&f.timeout, "timeout", 10*time.Second, "whole-probe `timeout`")
	fs.IntVar(&f.count, "count", 1, "number of probes to run (`N`)")
	fs.DurationVar(&f.interval, "interval", time.Second, "pause between probes with --count")
	fs.BoolVar(&f.json, "json", false, "print one JSON object per probe (same as --format json)")
	fs.StringVar(&f.format, "format", "text", "output `format`: text, json or nagios")
	fs.StringVar(&f.opts.Method, "method", "", "HTTP `method` (default GET)")
	fs.Var(&f.headers, "header", "HTTP header `K:V` (repeatable)")
	fs.StringVar(&f.opts.Data, "data", "", "HTTP request body, or bytes to send for tcp://")
	fs.StringVar(&f.opts.ExpectStatus, "expect-status", "", "accepted HTTP status `codes` (e.g. 200,300-399; default 200-399)")
	fs.StringVar(&f.opts.ExpectBody, "expect-body", "", "`regex` the HTTP body (or tcp:// reply) must match")
	fs.StringVar(&f.opts.CAFile, "ca-file", "", "PEM `file` of CA certificates to trust instead of the system roots")
	fs.BoolVar(&f.opts.Insecure, "insecure", false, "do not verify TLS certificates")
	fs.StringVar(&f.opts.IPVersion, "ip", "", "IP `version`: 4 or 6 (default: either, IPv4 preferred)")
	fs.BoolVar(&f.opts.NoFollow, "no-follow", false, "do not follow HTTP redirects")
	fs.StringVar(&f.opts.Type, "type", "", "`browser`: load an http(s) URL in headless Chromium (timings, Web Vitals, errors)")
	fs.StringVar(&f.screenshot, "screenshot", "", "with --type browser: write a PNG screenshot of the page to `FILE`")
}

const checkUsage = `Usage: vantage check TARGET [flags]

Probes one target now and prints a status line and a phase waterfall.

Targets:
  http://HOST[:PORT]/PATH, https://…   HTTP(S) request
  tcp://HOST:PORT                      TCP connect (with --data / --expect-body: a dialogue)
  tls://HOST:PORT                      TLS handshake, certificate chain and expiry
  dns://SERVER[:PORT]/NAME?type=TYPE   DNS query (RFC 4501); dns:NAME asks /etc/resolv.conf's server
  --type browser http(s)://…           the page in headless Chromium: navigation timing, Web Vitals,
                                       JS errors, failed requests (--screenshot FILE saves a PNG)

Exit codes: 0 every probe passed (degraded counts as passed), 1 a probe failed,
2 usage error. With --format nagios: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.

Flags:
`

func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var f checkFlags
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f.register(fs)
	fs.Usage = func() { fmt.Fprint(fs.Output(), checkUsage); fs.PrintDefaults() }
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return flagError(err)
	}
	if f.json {
		f.format = "json"
	}
	f.opts.Headers = f.headers
	f.opts.Screenshot = f.screenshot != ""
	if f.opts.Type == "browser" && !flagSet(fs, "timeout") {
		f.timeout = 30 * time.Second // a page and its resources take longer than one request
	}
	out, err := newPrinter(f.format, stdout, stderr)
	if err == nil {
		err = f.validate(rest)
	}
	if err != nil {
		return out.usage(err)
	}
	if f.screenshot != "" && f.opts.Type != "browser" {
		return out.usage(fmt.Errorf("--screenshot needs --type browser"))
	}
	check, err := config.ParseTarget(rest[0], f.opts)
	if err != nil {
		return out.usage(err)
	}
	var browser *probes.Browser
	if check.Browser != nil {
		if browser, err = probes.NewBrowser(probes.BrowserOptions{MaxConcurrency: 1}); err != nil {
			return out.usage(err)
		}
		defer browser.Close()
	}
	prober, err := check.Prober(browser)
	if err != nil {
		return out.usage(err)
	}
	code := runProbes(ctx, f, check, prober, out)
	if f.screenshot != "" && out.lastScreenshot() != nil {
		if err := os.WriteFile(f.screenshot, out.lastScreenshot(), 0o644); err != nil {
			return out.usage(fmt.Errorf("write screenshot: %w", err))
		}
	}
	return code
}

func (f *checkFlags) validate(rest []string) error {
	switch {
	case len(rest) == 0:
		return fmt.Errorf("missing TARGET (see vantage check --help)")
	case len(rest) > 1:
		return fmt.Errorf("one TARGET at a time, got %d: %q", len(rest), rest)
	case f.timeout <= 0:
		return fmt.Errorf("--timeout must be positive")
	case f.count < 1:
		return fmt.Errorf("--count must be at least 1")
	case f.interval < 0:
		return fmt.Errorf("--interval must not be negative")
	}
	return nil
}

// runProbes runs the probes one after another and prints each result.
func runProbes(ctx context.Context, f checkFlags, check config.Check, prober probes.Prober, out printer) int {
	var results []probes.Result
	for i := 0; i < f.count; i++ {
		if i > 0 && !wait(ctx, f.interval) {
			break
		}
		pctx, cancel := context.WithTimeout(ctx, f.timeout)
		r, err := prober.Probe(pctx)
		cancel()
		if ctx.Err() != nil {
			break // interrupted: this probe says nothing about the target
		}
		if err != nil {
			return out.usage(fmt.Errorf("probe could not run: %w", err))
		}
		results = append(results, r)
		out.result(check, r)
	}
	if len(results) == 0 {
		return out.usage(fmt.Errorf("interrupted: %w", ctx.Err()))
	}
	if len(results) > 1 {
		out.summary(results)
	}
	return out.exitCode(results)
}

// flagSet reports whether the flag was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// wait pauses for d or until ctx ends; it reports whether to go on.
func wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
