package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/vantageprobe/vantage/config"
	"github.com/vantageprobe/vantage/probes"
)

// printer renders results of `vantage check` in one format.
type printer interface {
	result(check config.Check, r probes.Result)
	summary(rs []probes.Result)
	exitCode(rs []probes.Result) int
	// usage reports an error that stopped the command and returns its exit code.
	usage(err error) int
	// lastScreenshot is the screenshot of the last browser result, or nil.
	lastScreenshot() []byte
}

// screenshotOf returns r's screenshot, or nil.
func screenshotOf(r probes.Result) []byte {
	if r.Browser == nil {
		return nil
	}
	return r.Browser.Screenshot
}

func newPrinter(format string, stdout, stderr io.Writer) (printer, error) {
	switch format {
	case "text", "":
		return &textPrinter{w: stdout, errw: stderr}, nil
	case "json":
		return &jsonPrinter{textPrinter{w: stdout, errw: stderr}}, nil
	case "nagios":
		return &nagiosPrinter{w: stdout}, nil
	}
	return &textPrinter{w: stdout, errw: stderr}, fmt.Errorf("--format %q: want text, json or nagios", format)
}

// passed reports whether every result passed (degraded counts as passed).
func passed(rs []probes.Result) bool {
	for _, r := range rs {
		if !r.OK {
			return false
		}
	}
	return true
}

func seconds(d time.Duration) float64 { return d.Seconds() }

// ---- text ----

type textPrinter struct {
	w, errw io.Writer
	shot    []byte
}

func (p *textPrinter) lastScreenshot() []byte { return p.shot }

func (p *textPrinter) usage(err error) int {
	fmt.Fprintf(p.errw, "vantage check: %v\n", err)
	return exitUsage
}

func (p *textPrinter) exitCode(rs []probes.Result) int {
	if passed(rs) {
		return exitOK
	}
	return exitFailed
}

func state(r probes.Result) string {
	switch {
	case !r.OK:
		return "DOWN"
	case r.Degraded:
		return "DEGRADED"
	}
	return "UP"
}

// clean keeps text from a remote peer (certificate names, DNS answers,
// error messages) from writing control sequences to the terminal.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && r != '\t' {
			return '?'
		}
		return r
	}, s)
}

func (p *textPrinter) result(_ config.Check, r probes.Result) {
	p.shot = screenshotOf(r)
	var b strings.Builder
	p.render(&b, r)
	fmt.Fprint(p.w, cleanLines(b.String()))
}

// cleanLines cleans every line of s, keeping the line breaks.
func cleanLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = clean(l)
	}
	return strings.Join(lines, "\n")
}

func (p *textPrinter) render(w io.Writer, r probes.Result) {
	fmt.Fprintf(w, "%s  %s  %s  %s\n", state(r), r.Kind, r.Target, headline(r))
	if r.Err != nil {
		fmt.Fprintf(w, "  error       %v [%s]\n", r.Err, probes.ErrorClass(r.Err))
	}
	if r.Warning != nil {
		fmt.Fprintf(w, "  warning     %v\n", r.Warning)
	}
	waterfall(w, r)
	if r.TraceID != "" {
		fmt.Fprintf(w, "  trace id    %s\n", r.TraceID)
	}
	if t := r.TLS; t != nil && t.Subject != "" {
		fmt.Fprintf(w, "  tls         %s, %s\n", t.Version, t.Cipher)
		fmt.Fprintf(w, "  cert        %s (issuer %s)\n", t.Subject, t.Issuer)
		fmt.Fprintf(w, "  names       %s\n", strings.Join(t.SANs, ", "))
		fmt.Fprintf(w, "  expires     %s (%d days), chain %s, verified %t\n",
			t.NotAfter.Format(time.DateOnly), t.DaysLeft, t.EarliestChainExpiry.Format(time.DateOnly), t.Verified)
	}
	if r.Browser != nil {
		browserDetail(w, r.Browser)
	}
	if d := r.DNS; d != nil && d.Rcode != "" {
		fmt.Fprintf(w, "  dns         %s over %s, %d answers, %d authority, %d additional\n",
			d.Rcode, d.Transport, len(d.Answers), d.Authority, d.Additional)
		for _, a := range d.Answers {
			fmt.Fprintf(w, "    %s\n", a)
		}
	}
}

// browserDetail prints what a browser run measured.
func browserDetail(w io.Writer, b *probes.BrowserDetail) {
	fmt.Fprintf(w, "  page        %s\n", b.FinalURL)
	fmt.Fprintf(w, "  timing      TTFB %s  DOMContentLoaded %s  load %s\n", fmtMS(b.TTFB), fmtMS(b.DOMContentLoaded), fmtMS(b.Load))
	fmt.Fprintf(w, "  vitals      FCP %s  LCP %s  CLS %.3f\n", fmtMS(b.FCP), fmtMS(b.LCP), b.CLS)
	fmt.Fprintf(w, "  requests    %d, %d bytes\n", b.Requests, b.Bytes)
	for i, st := range b.Steps {
		line := fmt.Sprintf("  step %-6d %-40s %9s", i+1, st.Name, fmtMS(st.Duration))
		if st.Err != "" {
			line += "  FAILED: " + st.Err
		}
		fmt.Fprintln(w, line)
	}
	for _, e := range b.JSErrors {
		fmt.Fprintf(w, "  js error    %s\n", e)
	}
	for _, f := range b.FailedRequests {
		fmt.Fprintf(w, "  failed      %s\n", f)
	}
}

func headline(r probes.Result) string {
	total := fmtMS(r.Duration)
	switch {
	case r.HTTP != nil:
		return fmt.Sprintf("%d  %s  %d bytes  %d redirects  %s", r.HTTP.StatusCode, r.HTTP.Version, r.HTTP.BodyBytes, r.HTTP.Redirects, total)
	case r.DNS != nil && r.DNS.Rcode != "":
		return fmt.Sprintf("%s  %d answers  %s", r.DNS.Rcode, len(r.DNS.Answers), total)
	case r.TCP != nil:
		return fmt.Sprintf("connected to %s  %s", r.TCP.RemoteAddr, total)
	case r.Browser != nil:
		return fmt.Sprintf("%d requests  LCP %s  %s", r.Browser.Requests, fmtMS(r.Browser.LCP), total)
	}
	return total
}

func fmtMS(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// waterfall draws each phase as a bar that starts where the previous ended.
func waterfall(w io.Writer, r probes.Result) {
	const width = 40
	total := r.Duration
	if total <= 0 {
		total = 1
	}
	var offset time.Duration
	r.Phases.Each(func(name string, d time.Duration) {
		if d == 0 && name != probes.PhaseConnect {
			return
		}
		start := int(int64(offset) * width / int64(total))
		n := max(int(int64(d)*width/int64(total)), 1)
		start = min(start, width-1)
		n = min(n, width-start)
		bar := strings.Repeat(" ", start) + strings.Repeat("█", n)
		fmt.Fprintf(w, "  %-11s %9s  |%-*s|\n", name, fmtMS(d), width, bar)
		offset += d
	})
	fmt.Fprintf(w, "  %-11s %9s\n", "total", fmtMS(r.Duration))
}

func (p *textPrinter) summary(rs []probes.Result) {
	ds := make([]time.Duration, len(rs))
	ok := 0
	for i, r := range rs {
		ds[i] = r.Duration
		if r.OK {
			ok++
		}
	}
	slices.Sort(ds)
	fmt.Fprintf(p.w, "\n%d probes, %d passed, %d failed\n", len(rs), ok, len(rs)-ok)
	fmt.Fprintf(p.w, "total  min %s  median %s  p95 %s  max %s\n",
		fmtMS(ds[0]), fmtMS(percentile(ds, 50)), fmtMS(percentile(ds, 95)), fmtMS(ds[len(ds)-1]))
}

// percentile returns the nearest-rank percentile of sorted ds.
func percentile(ds []time.Duration, p int) time.Duration {
	rank := (p*len(ds) + 99) / 100
	return ds[max(rank-1, 0)]
}

// ---- json ----

type jsonPrinter struct{ textPrinter }

func (p *jsonPrinter) result(check config.Check, r probes.Result) {
	p.shot = screenshotOf(r)
	b, err := json.Marshal(probes.NewReport(check.Name, r))
	if err != nil {
		fmt.Fprintf(p.errw, "vantage check: encode result: %v\n", err)
		return
	}
	fmt.Fprintf(p.w, "%s\n", b)
}

func (p *jsonPrinter) summary([]probes.Result) {}

// ---- nagios ----

// nagiosPrinter follows the Nagios plugin conventions: one status line
// with performance data, exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
type nagiosPrinter struct {
	w    io.Writer
	last probes.Result
}

func (p *nagiosPrinter) result(_ config.Check, r probes.Result) { p.last = r }
func (p *nagiosPrinter) lastScreenshot() []byte                 { return screenshotOf(p.last) }
func (p *nagiosPrinter) summary([]probes.Result)                {}

func (p *nagiosPrinter) usage(err error) int {
	fmt.Fprintf(p.w, "VANTAGE UNKNOWN - %s\n", oneLine(err.Error()))
	return 3
}

func (p *nagiosPrinter) exitCode(rs []probes.Result) int {
	worst, code, label := p.last, 0, "OK"
	for _, r := range rs {
		switch {
		case !r.OK && code < 2:
			worst, code, label = r, 2, "CRITICAL"
		case r.OK && r.Degraded && code < 1:
			worst, code, label = r, 1, "WARNING"
		}
	}
	msg := headline(worst)
	switch {
	case worst.Err != nil:
		msg = worst.Err.Error()
	case worst.Warning != nil:
		msg = worst.Warning.Error()
	}
	fmt.Fprintf(p.w, "VANTAGE %s - %s %s: %s | %s\n", label, worst.Kind, worst.Target, clean(oneLine(msg)), perfData(worst))
	return code
}

func perfData(r probes.Result) string {
	parts := []string{fmt.Sprintf("time=%.6fs;;;0", seconds(r.Duration))}
	r.Phases.Each(func(name string, d time.Duration) {
		parts = append(parts, fmt.Sprintf("%s=%.6fs;;;0", name, seconds(d)))
	})
	if r.TLS != nil && !r.TLS.NotAfter.IsZero() {
		parts = append(parts, fmt.Sprintf("cert_days_left=%d;;;", r.TLS.DaysLeft))
	}
	return strings.Join(parts, " ")
}

// oneLine keeps plugin output on one line without the perfdata separator.
func oneLine(s string) string {
	return strings.NewReplacer("\n", " ", "\r", " ", "|", "/").Replace(s)
}
