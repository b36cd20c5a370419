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
	"github.com/vantageprobe/vantage/results"
	"github.com/vantageprobe/vantage/results/sqlite"
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
	store, err := sqlite.Open(ctx, sqlite.Options{Path: path, RawRetention: cfg.Storage.Retention.Raw, RollupRetention: cfg.Storage.Retention.Rollups})
	if err != nil {
		fmt.Fprintf(stderr, "vantage slo: %v\n", err)
		return exitUsage
	}
	defer store.Close()
	now := time.Now()
	var statuses []results.SLOStatus
	for _, chk := range cfg.Checks {
		if chk.SLO == nil {
			continue
		}
		st, err := server.EvaluateSLO(ctx, store, cfg, chk, now)
		if err != nil {
			fmt.Fprintf(stderr, "vantage slo: %v\n", err)
			return exitFailed
		}
		statuses = append(statuses, st)
	}
	if *asJSON {
		out := make([]any, len(statuses))
		for i, st := range statuses {
			out[i] = server.SLOJSON(st)
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(map[string]any{"slos": out})
	} else {
		printSLOs(stdout, statuses)
	}
	for _, st := range statuses {
		if st.BudgetRemaining <= 0 && st.Total > 0 {
			return exitFailed
		}
	}
	return exitOK
}

// printSLOs writes the table a person reads.
func printSLOs(w io.Writer, sts []results.SLOStatus) {
	if len(sts) == 0 {
		fmt.Fprintln(w, "no check has an slo")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tOBJECTIVE\tWINDOW\tSLI\tBUDGET LEFT\tBURN 1h\tBURN 5m\tEXHAUSTED IN\tALERTS")
	for _, st := range sts {
		sli := string(st.Spec.SLI)
		if st.Spec.SLI == results.SLILatency {
			sli = "latency ≤ " + st.Spec.Threshold.String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s %s\t%s\t%s\t%s\t%s\t%s\n", st.Check, st.Spec.Objective, results.WindowName(st.Spec.Window),
			sli, percent(st.SLI, st.Total), budget(st), burn(st, time.Hour), burn(st, 5*time.Minute), exhaustion(st), firing(st))
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

func budget(st results.SLOStatus) string {
	return fmt.Sprintf("%.1f%% (%.1f of %.1f min)", 100*st.BudgetRemaining, st.BudgetRemaining*st.BudgetMinutes, st.BudgetMinutes)
}

func burn(st results.SLOStatus, w time.Duration) string {
	ws, ok := st.Windows[results.WindowName(w)]
	if !ok || ws.Total == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f×", ws.BurnRate)
}

func exhaustion(st results.SLOStatus) string {
	switch {
	case st.BudgetRemaining <= 0 && st.Total > 0:
		return "spent"
	case st.TimeToExhaustion == results.Never:
		return "never"
	}
	d := st.TimeToExhaustion.Round(time.Minute)
	if d >= 48*time.Hour {
		return fmt.Sprintf("%.1fd", d.Hours()/24)
	}
	return d.String()
}

func firing(st results.SLOStatus) string {
	var out []string
	for _, b := range results.BurnAlerts(st, results.BurnWindows(st.Spec.Window), 2) {
		if b.Firing {
			out = append(out, fmt.Sprintf("%s %s/%s", b.Severity, results.WindowName(b.Long), results.WindowName(b.Short)))
		}
	}
	if len(out) == 0 {
		return "-"
	}
	return strings.Join(out, ", ")
}
