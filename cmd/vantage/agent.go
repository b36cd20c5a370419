package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/vantageprobe/vantage/agent"
	"github.com/vantageprobe/vantage/probes"
)

const agentUsage = `Usage: vantage agent --server URL --region NAME --token-file FILE [--spool PATH] [--spool-max BYTES]

Runs a regional vantage point: pulls the region's checks from the server
(every 15 s; the last assignment is kept next to the spool, so a restart
while the server is down keeps probing), probes them, and pushes the results. Every result goes to a
local SQLite spool first and leaves it only once the server stored it, so
a server outage or an agent restart loses nothing; when the spool is full,
the oldest results are dropped and logged.

Flags:
`

func runAgent(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	serverURL := fs.String("server", "", "server base `URL`, e.g. https://vantage.example.com")
	region := fs.String("region", "", "this agent's region `NAME` (as in the server's regions)")
	tokenFile := fs.String("token-file", "", "`FILE` holding the region's token")
	spoolPath := fs.String("spool", "vantage-spool.db", "spool database `PATH`")
	spoolMax := fs.Int64("spool-max", agent.DefaultSpoolMaxBytes, "spool size bound in `BYTES`")
	chromium := fs.String("browser-exec-path", "", "Chromium for browser checks (default: chromium on PATH)")
	logLevel := fs.String("log-level", "info", "log `level`: debug, info, warn, error")
	fs.Usage = func() { fmt.Fprint(fs.Output(), agentUsage); fs.PrintDefaults() }
	if rest, err := parseInterspersed(fs, args); err != nil {
		return flagError(err)
	} else if len(rest) > 0 {
		fmt.Fprintf(stderr, "vantage agent: unexpected argument %q\n", rest[0])
		return exitUsage
	}
	log, err := newLogger(stderr, *logLevel)
	if err == nil && (*serverURL == "" || *region == "" || *tokenFile == "") {
		err = fmt.Errorf("--server, --region and --token-file are required")
	}
	var token []byte
	if err == nil {
		if token, err = os.ReadFile(*tokenFile); err == nil && strings.TrimSpace(string(token)) == "" {
			err = fmt.Errorf("token file %s is empty", *tokenFile)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "vantage agent: %v\n", err)
		return exitUsage
	}
	spool, err := agent.OpenSpool(ctx, agent.SpoolOptions{Path: *spoolPath, MaxBytes: *spoolMax, Logger: log})
	if err != nil {
		fmt.Fprintf(stderr, "vantage agent: %v\n", err)
		return exitFailed
	}
	defer spool.Close()
	a, err := agent.New(agent.Options{
		Server: *serverURL, Region: *region, Token: probes.Secret(strings.TrimSpace(string(token))),
		Spool: spool, Logger: log, Browser: probes.BrowserOptions{ExecPath: *chromium},
		AssignmentFile: *spoolPath + ".assignment.yaml",
	})
	if err != nil {
		fmt.Fprintf(stderr, "vantage agent: %v\n", err)
		return exitUsage
	}
	log.Info("agent started", "server", *serverURL, "region", *region, "spooled", spool.Stats().Records)
	if err := a.Run(ctx); err != nil {
		fmt.Fprintf(stderr, "vantage agent: %v\n", err)
		return exitFailed
	}
	return exitOK
}
