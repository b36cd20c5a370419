package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vantageprobe/vantage/config"
	"github.com/vantageprobe/vantage/server"
)

// runSLO prints every SLO of a config from the stored results.
func runSLO(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("slo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("c", "vantage.yaml", "config `FILE` (its storage.path is read)")
	asJSON := fs.Bool("json", false, "print JSON (the shape of GET /api/v1/slo)")
	db := fs.String("db", "", "results database `PATH` (default: storage.path of the config)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: vantage slo -c FILE [--json]

Shows each check's SLO from the stored results: the SLI over the window, the
error budget left, burn rates over 5m … 3d, the time to exhaustion at the
current (5m) burn rate, and which burn-rate alerts would fire.
Exit 0 when every budget has some left, 1 when one is spent, 2 on a usage or
configuration error.

Flags:
`)
		fs.PrintDefaults()
	}
	if _, err := parseInterspersed(fs, args); err != nil {
		return flagError(err)
	}
	cfg, err := config.Load(*file)
	if err != nil {
		var ce *config.Error
		if errors.As(err, &ce) {
			fmt.Fprintln(stderr, ce.Error())
		} else {
			fmt.Fprintf(stderr, "vantage slo: %v\n", err)
		}
		return exitUsage
	}
	path := cfg.Storage.Path
	if *db != "" {
		path = *db
	}
	slos, err := server.SLOReport(ctx, cfg, path, time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "vantage slo: %v\n", err)
		return exitFailed
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(map[string]any{"slos": slos})
	} else {
		printSLOs(stdout, slos)
	}
	for _, s := range slos {
		if s.BudgetRemaining <= 0 && s.Total > 0 {
			return exitFailed
		}
	}
	return exitOK
}

// printSLOs writes the table a person reads.
func printSLOs(w io.Writer, slos []server.SLOView) {
	if len(slos) == 0 {
		fmt.Fprintln(w, "no check has an slo")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tOBJECTIVE\tWINDOW\tSLI\tBUDGET LEFT\tBURN 1h\tBURN 5m\tEXHAUSTED IN\tALERTS")
	for _, s := range slos {
		sli := s.SLI
		if s.ThresholdSeconds > 0 {
			sli = "latency ≤ " + time.Duration(s.ThresholdSeconds*float64(time.Second)).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s %s\t%s\t%s\t%s\t%s\t%s\n", s.Check, s.Objective, s.Window,
			sli, percent(s.Ratio, s.Total), budget(s), burn(s, "1h"), burn(s, "5m"), exhaustion(s), firing(s))
	}
	_ = tw.Flush()
}

// percent shows a ratio as a percentage truncated, never rounded up to
// 100.000% (no events: "no data").
func percent(v float64, total int64) string {
	if total == 0 {
		return "(no data)"
	}
	return fmt.Sprintf("%.3f%%", math.Floor(v*100000)/1000)
}

func budget(s server.SLOView) string {
	return fmt.Sprintf("%.1f%% (%.1f of %.1f min)", 100*s.BudgetRemaining, s.BudgetRemaining*s.BudgetMinutes, s.BudgetMinutes)
}

func burn(s server.SLOView, window string) string {
	v, ok := s.BurnRates[window]
	if !ok || s.Total == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f×", v)
}

func exhaustion(s server.SLOView) string {
	switch {
	case s.BudgetRemaining <= 0 && s.Total > 0:
		return "spent"
	case s.ExhaustionSeconds == nil:
		return "never"
	}
	d := time.Duration(*s.ExhaustionSeconds * float64(time.Second)).Round(time.Minute)
	if d >= 48*time.Hour {
		return fmt.Sprintf("%.1fd", d.Hours()/24)
	}
	return d.String()
}

func firing(s server.SLOView) string {
	var out []string
	for _, b := range s.Alerts {
		if b.Firing {
			out = append(out, fmt.Sprintf("%s %s/%s", b.Severity, b.Long, b.Short))
		}
	}
	if len(out) == 0 {
		return "-"
	}
	return strings.Join(out, ", ")
}
