package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/vantageprobe/vantage/config"
)

func runValidate(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("c", "vantage.yaml", "config `FILE` to check")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: vantage validate -c FILE\n\nChecks a config file and reports every problem as FILE:LINE:COL: path: message.\nExit 0 when valid (with a one-line summary), 2 otherwise.\n\nFlags:\n")
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
	return exitOK
}
