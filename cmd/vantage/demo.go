package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/vantageprobe/vantage/agent"
	"github.com/vantageprobe/vantage/config"

	"github.com/vantageprobe/vantage/demo"
	"github.com/vantageprobe/vantage/server"
)

const demoUsage = `Usage: vantage demo [--listen ADDR] [--db PATH]

Starts demo targets on 127.0.0.1 (a healthy HTTP API, a slow one, a flaky
one, a TCP service, a DNS server, a TLS endpoint whose certificate expires
in 10 days and a shop page that a headless-Chromium check buys from),
probes them every few seconds with an embedded config, and serves the
overview, JSON API and health endpoints. Needs no network. Without
Chromium the browser check reports "probe could not run" and the rest works.
The database is temporary unless --db is given. Stop it with Ctrl-C.

Flags:
`

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8080", "listen `ADDR`")
	db := fs.String("db", "", "results database `PATH` (default: a temporary file)")
	logLevel := fs.String("log-level", "warn", "log `level`: debug, info, warn, error")
	fs.Usage = func() { fmt.Fprint(fs.Output(), demoUsage); fs.PrintDefaults() }
	if rest, err := parseInterspersed(fs, args); err != nil {
		return flagError(err)
	} else if len(rest) > 0 {
		fmt.Fprintf(stderr, "vantage demo: unexpected argument %q\n", rest[0])
		return exitUsage
	}
	log, err := newLogger(stderr, *logLevel)
	if err != nil {
		fmt.Fprintf(stderr, "vantage demo: %v\n", err)
		return exitUsage
	}
	dir, err := os.MkdirTemp("", "vantage-demo-")
	if err != nil {
		fmt.Fprintf(stderr, "vantage demo: %v\n", err)
		return exitFailed
	}
	defer os.RemoveAll(dir)
	if *db == "" {
		*db = filepath.Join(dir, "vantage.db")
	}
	targets, err := demo.Start(ctx, dir)
	if err != nil {
		fmt.Fprintf(stderr, "vantage demo: %v\n", err)
		return exitFailed
	}
	defer targets.Close()
	cfg, cfgPath, err := demo.Config(targets, dir, *listen, *db)
	if err != nil {
		fmt.Fprintf(stderr, "vantage demo: %v\n", err)
		return exitFailed
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(stderr, "vantage demo: %v (try --listen 127.0.0.1:0)\n", err)
		return exitFailed
	}
	base := "http://" + ln.Addr().String()
	stopAgents, err := startDemoAgents(ctx, cfg.Regions, base, dir, log)
	if err != nil {
		ln.Close()
		fmt.Fprintf(stderr, "vantage demo: %v\n", err)
		return exitFailed
	}
	defer stopAgents()
	fmt.Fprintf(stdout, `Vantage demo: %d checks against targets on 127.0.0.1, probed every few seconds
from three regions: local (the server) and two agents, eu-west and us-east.

  status page  %s/
  overview     %s/overview
  checks API   %s/api/v1/checks
  one check    %s/api/v1/checks/api
  regions      %s/api/v1/regions
  SLOs         %s/api/v1/slo
  alerts       %s/api/v1/alerts
  sent alerts  %s/hooks/alerts (the demo's webhook inbox)
  metrics      %s/metrics
  health       %s/healthz   %s/readyz
  config       %s
  database     %s

Press Ctrl-C to stop.
`, len(cfg.Checks), base, base, base, base, base, base, base, targets.HTTP, base, base, base, cfgPath, cfg.Storage.Path)
	return serve(ctx, server.Options{Config: cfg, ConfigPath: cfgPath, Logger: log, Listener: ln}, stderr)
}

// startDemoAgents runs an in-process agent for every region but local,
// each with its own spool in dir, until ctx ends; stop waits for them.
func startDemoAgents(ctx context.Context, regions []config.Region, base, dir string, log *slog.Logger) (stop func(), err error) {
	var wg sync.WaitGroup
	var spools []*agent.Spool
	stop = func() {
		wg.Wait()
		for _, s := range spools {
			s.Close()
		}
	}
	for _, r := range regions {
		if r.Name == config.LocalRegion {
			continue
		}
		spool, err := agent.OpenSpool(ctx, agent.SpoolOptions{Path: filepath.Join(dir, r.Name+"-spool.db"), Logger: log})
		if err != nil {
			stop()
			return nil, err
		}
		spools = append(spools, spool)
		a, err := agent.New(agent.Options{Server: base, Region: r.Name, Token: r.Token, Spool: spool, Logger: log,
			PollInterval: 2 * time.Second, PushInterval: 500 * time.Millisecond})
		if err != nil {
			stop()
			return nil, err
		}
		wg.Go(func() { _ = a.Run(ctx) }) // logs its own trouble
	}
	return stop, nil
}
