package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/vantageprobe/vantage/config"
)

func runValidate(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("c", "vantage.yaml", "config `FILE` to check")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: vantage validate -c FILE\n\nChecks a config file and reports every problem as FILE:LINE:COL: path: message.\nExit 0 when valid, with a summary: the checks by kind and what the public and\nadmin listeners will serve; 2 otherwise.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return flagError(err)
	}
	if len(rest) > 0 {
		fmt.Fprintf(stderr, "vantage validate: unexpected argument %q (use -c FILE)\n", rest[0])
		return exitUsage
	}
	cfg, err := config.Load(*file)
	if err != nil {
		var ce *config.Error
		if errors.As(err, &ce) {
			fmt.Fprintln(stderr, ce.Error())
			fmt.Fprintf(stderr, "%s: %d problem(s)\n", *file, len(ce.Problems))
		} else {
			fmt.Fprintf(stderr, "vantage validate: %v\n", err)
		}
		return exitUsage
	}
	kinds := map[string]int{}
	for _, c := range cfg.Checks {
		kinds[string(c.Kind())]++
	}
	fmt.Fprintf(stdout, "%s: ok: %d checks (http %d, tcp %d, dns %d, tls %d)\n",
		*file, len(cfg.Checks), kinds["http"], kinds["tcp"], kinds["dns"], kinds["tls"])
	printListeners(stdout, cfg)
	return exitOK
}

// printListeners says what each listener will serve, so that what the
// public one exposes is plain before it is deployed.
func printListeners(w io.Writer, cfg *config.Config) {
	var pub []string
	if cfg.StatusPage != nil {
		pub = append(pub, "status page")
	}
	pub = append(pub, "health")
	if len(cfg.RegionNames()) > 1 { // local and agents
		pub = append(pub, "agent API")
	}
	if cfg.Server.MetricsPublic() {
		pub = append(pub, "/metrics")
	}
	if cfg.ProbeEndpoint.Enabled {
		pub = append(pub, "/probe")
	}
	if cfg.Server.PublicAPI {
		pub = append(pub, "JSON API and overview (public_api)")
	}
	fmt.Fprintf(w, "  public listener %s: %s\n", cfg.Server.Listen, strings.Join(pub, ", "))
	switch {
	case cfg.Server.AdminListen == "":
		fmt.Fprintf(w, "  admin listener  off\n")
	case cfg.Server.AdminToken.Reveal() != "":
		fmt.Fprintf(w, "  admin listener  %s: JSON API, overview, /metrics, reload, silences, incidents, pprof; admin_token required\n", cfg.Server.AdminListen)
	default:
		fmt.Fprintf(w, "  admin listener  %s: JSON API, overview, /metrics, reload, silences, incidents, pprof; no token (loopback)\n", cfg.Server.AdminListen)
	}
}
