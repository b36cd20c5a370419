// Command vantage is a synthetic monitoring system: it probes services over
// HTTP, TCP, DNS and TLS and reports what their users would see.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes shared by every command.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"demo", "run demo targets and the full server on 127.0.0.1, offline", runDemo},
		{"serve", "run the server: scheduled probes, stored results, JSON API", runServe},
		{"agent", "run a regional vantage point that pushes to a server", runAgent},
		{"check", "probe one target now and show a phase breakdown", runCheck},
		{"validate", "check a config file and report every problem", runValidate},
		{"slo", "show SLOs, error budgets and burn rates from the stored results", runSLO},
		{"bench", "measure the server end to end on loopback: probes/s, CPU, memory, lag", runBench},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "--help", "help":
		usage(stdout)
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "vantage: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprint(w, "Vantage probes services the way their users reach them.\n\nUsage:\n  vantage <command> [flags]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nRun 'vantage <command> --help' for a command's flags.\nExit codes: 0 success, 1 a probe or check failed, 2 usage or configuration error.\n")
}

// parseInterspersed parses flags that may come before or after positional
// arguments ("vantage check URL --json"). It returns the positionals.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// flagError turns a flag parsing error into an exit code: --help is a
// success, anything else a usage error (the flag package printed it).
func flagError(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitUsage
}
