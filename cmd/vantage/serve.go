package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/vantageprobe/vantage/config"
	"github.com/vantageprobe/vantage/server"
)

const serveUsage = `Usage: vantage serve -c FILE [--listen ADDR] [--db PATH]

Runs the Vantage server: probes every check on its schedule, stores every
result in SQLite, and serves two listeners:

  server.listen        (default 127.0.0.1:8080) the status page, /metrics,
                       /healthz, /readyz and the agent API; the JSON API's
                       reads and the overview only with server.public_api
  server.admin_listen  (default 127.0.0.1:8081, "off" for none) the JSON
                       API (/api/v1/…), the overview (/overview), /metrics,
                       reload, silences, incidents, /admin and pprof

SIGHUP reloads the config (an invalid file is rejected and the running
config stays); SIGINT/SIGTERM stop scheduling, let in-flight probes finish,
flush every queued result and close the database.

Flags:
`

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("c", "vantage.yaml", "config `FILE`")
	listen := fs.String("listen", "", "listen `ADDR` (overrides server.listen)")
	db := fs.String("db", "", "results database `PATH` (overrides storage.path)")
	logLevel := fs.String("log-level", "info", "log `level`: debug, info, warn, error")
	fs.Usage = func() { fmt.Fprint(fs.Output(), serveUsage); fs.PrintDefaults() }
	if rest, err := parseInterspersed(fs, args); err != nil {
		return flagError(err)
	} else if len(rest) > 0 {
		fmt.Fprintf(stderr, "vantage serve: unexpected argument %q\n", rest[0])
		return exitUsage
	}
	log, err := newLogger(stderr, *logLevel)
	if err != nil {
		fmt.Fprintf(stderr, "vantage serve: %v\n", err)
		return exitUsage
	}
	cfg, err := config.Load(*file)
	if err != nil {
		fmt.Fprintf(stderr, "vantage serve: %v\n", err)
		return exitUsage
	}
	override := func(c *config.Config) {
		if *listen != "" {
			c.Server.Listen = *listen
		}
		if *db != "" {
			c.Storage.Path = *db
		}
	}
	override(cfg)
	if a := cfg.Server.AdminListen; a != "" && config.SameListener(a, cfg.Server.Listen) {
		fmt.Fprintf(stderr, "vantage serve: --listen %s clashes with server.admin_listen %s: set admin_listen to another address, or off\n", cfg.Server.Listen, a)
		return exitUsage
	}
	load := func(path string) (*config.Config, error) {
		c, err := config.Load(path)
		if err == nil {
			override(c)
		}
		return c, err
	}
	return serve(ctx, server.Options{Config: cfg, ConfigPath: *file, Logger: log, LoadConfig: load}, stderr)
}

// serve runs a server until ctx ends, reloading on SIGHUP. SIGHUP is
// caught from the start, so one that arrives while the database opens
// reloads once the server is up instead of killing the process.
func serve(ctx context.Context, o server.Options, stderr io.Writer) int {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	srv, err := server.New(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "vantage: %v\n", err)
		return exitFailed
	}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if err := srv.Reload(ctx); err != nil {
					o.Logger.Error("config reload", "err", err)
				} else {
					o.Logger.Info("config reloaded")
				}
			}
		}
	}()
	if err := srv.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(stderr, "vantage: %v\n", err)
		return exitFailed
	}
	return exitOK
}

func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}
