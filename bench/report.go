package bench

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is a bench's findings. Durations are seconds, sizes MiB or bytes.
type Report struct {
	Checks          int      `json:"checks"`
	IntervalSeconds float64  `json:"interval_seconds"`
	WarmupSeconds   float64  `json:"warmup_seconds"`
	WindowSeconds   float64  `json:"window_seconds"`
	Mix             []string `json:"mix"`
	Regions         []string `json:"regions"`
	CPUs            int      `json:"cpus"`
	ClockTicks      int64    `json:"clock_ticks_per_second"`

	PlannedProbesPerSecond  float64          `json:"planned_probes_per_second"`
	AchievedProbesPerSecond float64          `json:"achieved_probes_per_second"`
	Probes                  int64            `json:"probes"` // started in the window, stored
	Failed                  int64            `json:"failed"`
	FailedByClass           map[string]int64 `json:"failed_by_class"` // error_class → probes

	CPU        CPU        `json:"cpu"`
	Memory     []Memory   `json:"memory"`
	Scheduling Scheduling `json:"scheduling"`
	Store      Store      `json:"store"`
	Results    Results    `json:"results"`
	Render     Render     `json:"render"`
	Delayed    Delayed    `json:"delayed_target"`
	Soak       *Soak      `json:"soak,omitempty"` // with --soak
}

// CPU is the CPU time used in the window.
type CPU struct {
	VantageSeconds        float64 `json:"vantage_seconds"` // server and agents
	ServerSeconds         float64 `json:"server_seconds"`
	AgentsSeconds         float64 `json:"agents_seconds"`
	BenchSeconds          float64 `json:"bench_seconds"` // this process: the target farm and the sampling
	VantageCores          float64 `json:"vantage_cores"` // vantage_seconds per second of window
	MillisPer1000Probes   float64 `json:"ms_per_1000_probes"`
	ServerMillisPer1000   float64 `json:"server_ms_per_1000_probes"`
	BenchMillisPer1000    float64 `json:"bench_ms_per_1000_probes"`
	ProcessesMeasuredFrom string  `json:"source"`
}

// Memory is one process's resident memory.
type Memory struct {
	Process    string  `json:"process"`
	RSSMiB     float64 `json:"rss_mib"`      // at the window's end
	MaxRSSMiB  float64 `json:"max_rss_mib"`  // largest sample in the window
	PeakRSSMiB float64 `json:"peak_rss_mib"` // VmHWM: the process's peak since it started
}

// Scheduling is how punctual the runs in the window were.
type Scheduling struct {
	LagP50Seconds          float64 `json:"lag_p50_seconds"` // started − planned slot
	LagP99Seconds          float64 `json:"lag_p99_seconds"`
	LagMaxSeconds          float64 `json:"lag_max_seconds"`
	GapP99Seconds          float64 `json:"gap_p99_seconds"` // between consecutive runs of a check × region
	GapMaxSeconds          float64 `json:"gap_max_seconds"`
	OverrunsWindow         int64   `json:"overruns_window"` // the server's, in the window
	OverrunsTotal          int64   `json:"overruns_total"`  // every process's, the whole run
	AllRunningAfterSeconds float64 `json:"all_running_after_seconds"`
	NeverRan               int     `json:"never_ran"` // check × region pairs without a stored result
}

// Store is the server's results store in the window.
type Store struct {
	QueueDepthMax  float64 `json:"queue_depth_max"`
	QueueDepthMean float64 `json:"queue_depth_mean"`
	Batches        int64   `json:"batches"`
	Written        int64   `json:"written"`
	// Dropped are results the server's full queue dropped, as of the
	// window's end (vantage_results_dropped_total): they make stored
	// fall short of produced.
	Dropped                int64   `json:"dropped"`
	BatchCommitMeanSeconds float64 `json:"batch_commit_mean_seconds"`
	BatchCommitP99Seconds  float64 `json:"batch_commit_p99_seconds"`
	WriteSecondsPer1000    float64 `json:"commit_seconds_per_1000_results"`
}

// Results compares the results produced with those stored, after the
// final flush: they must be equal.
type Results struct {
	Produced int64           `json:"produced"`
	Stored   int64           `json:"stored"`
	Equal    bool            `json:"equal"`
	ByRegion []RegionResults `json:"by_region"`
}

// RegionResults is one process's results.
type RegionResults struct {
	Region   string `json:"region"`
	Produced int64  `json:"produced"` // its scheduler's runs (logged as it stopped)
	Stored   int64  `json:"stored"`
}

// Render is the latency of pages at this scale.
type Render struct {
	Index   Timing `json:"index"`
	Metrics Timing `json:"metrics"`
}

// Timing is a few sequential GETs.
type Timing struct {
	N          int     `json:"n"`
	P50Seconds float64 `json:"p50_seconds"`
	MaxSeconds float64 `json:"max_seconds"`
	Bytes      int64   `json:"bytes"`
}

// Delayed is how the 50 ms target measured.
type Delayed struct {
	Probes              int     `json:"probes"`
	P50Seconds          float64 `json:"p50_seconds"`
	P99Seconds          float64 `json:"p99_seconds"`
	OvershootP50Seconds float64 `json:"overshoot_p50_seconds"`
	OvershootP99Seconds float64 `json:"overshoot_p99_seconds"`
	TargetDelaySeconds  float64 `json:"target_delay_seconds"`
	// The durations in parts (p50 / p99 of each): processing is the
	// target's wait and wake-up as the kernel's arrival stamp dates it;
	// connect and rest (the request built and written, the body read) are
	// the prober's side of an overshoot.
	ProcessingP50Seconds float64 `json:"processing_p50_seconds"`
	ProcessingP99Seconds float64 `json:"processing_p99_seconds"`
	ConnectP50Seconds    float64 `json:"connect_p50_seconds"`
	ConnectP99Seconds    float64 `json:"connect_p99_seconds"`
	RestP50Seconds       float64 `json:"rest_p50_seconds"`
	RestP99Seconds       float64 `json:"rest_p99_seconds"`
}

func newReport(o Options, hz int64) *Report {
	regions := o.regions()
	return &Report{
		Checks: o.Checks, IntervalSeconds: o.Interval.Seconds(), WarmupSeconds: o.Warmup.Seconds(),
		Mix: o.Mix, Regions: regions, CPUs: cpus(), ClockTicks: hz,
		PlannedProbesPerSecond: float64(o.Checks*len(regions)) / o.Interval.Seconds(),
	}
}

func newTiming(ds []time.Duration, size int64) Timing {
	if len(ds) == 0 {
		return Timing{}
	}
	return Timing{N: len(ds), P50Seconds: quantile(ds, 0.5).Seconds(), MaxSeconds: slices.Max(ds).Seconds(), Bytes: size}
}

const mib = 1 << 20

// fill completes r from the window's samples, the stored results and what
// each process produced.
func (r *Report) fill(w *window, a *analysis, produced map[string]*stopLine) {
	secs := w.to.Sub(w.from).Seconds()
	r.WindowSeconds = secs
	r.Probes, r.Failed, r.FailedByClass = a.probes, a.failed, a.failures
	r.AchievedProbesPerSecond = float64(a.probes) / secs
	cpu := func(name string) float64 { return (w.use1[name].cpu - w.use0[name].cpu).Seconds() }
	r.CPU.ServerSeconds = cpu("server")
	for _, region := range r.Regions[1:] {
		r.CPU.AgentsSeconds += cpu(region)
	}
	r.CPU.VantageSeconds = r.CPU.ServerSeconds + r.CPU.AgentsSeconds
	r.CPU.BenchSeconds = cpu("bench")
	r.CPU.VantageCores = r.CPU.VantageSeconds / secs
	r.CPU.ProcessesMeasuredFrom = fmt.Sprintf("/proc/PID/stat utime+stime at %d ticks/s", r.ClockTicks)
	if a.probes > 0 {
		per := 1e6 / float64(a.probes) // seconds → ms, per 1,000 probes
		r.CPU.MillisPer1000Probes = r.CPU.VantageSeconds * per
		r.CPU.ServerMillisPer1000 = r.CPU.ServerSeconds * per
		r.CPU.BenchMillisPer1000 = r.CPU.BenchSeconds * per
	}
	for _, name := range append([]string{"server"}, r.Regions[1:]...) {
		r.Memory = append(r.Memory, Memory{Process: name, RSSMiB: float64(w.use1[name].rss) / mib,
			MaxRSSMiB: float64(max(w.maxRSS[name], w.use1[name].rss)) / mib, PeakRSSMiB: float64(w.use1[name].hwm) / mib})
	}
	r.fillScheduling(w, a, produced)
	r.fillStore(w)
	r.fillResults(a, produced)
	if n := len(a.delayed); n > 0 {
		p50, p99 := quantile(a.delayed, 0.5), quantile(a.delayed, 0.99)
		r.Delayed = Delayed{Probes: n, P50Seconds: p50.Seconds(), P99Seconds: p99.Seconds(), TargetDelaySeconds: DelayedTarget.Seconds(),
			OvershootP50Seconds: (p50 - DelayedTarget).Seconds(), OvershootP99Seconds: (p99 - DelayedTarget).Seconds()}
		dp := &a.delayedParts
		r.Delayed.ProcessingP50Seconds, r.Delayed.ProcessingP99Seconds = quantile(dp.processing, 0.5).Seconds(), quantile(dp.processing, 0.99).Seconds()
		r.Delayed.ConnectP50Seconds, r.Delayed.ConnectP99Seconds = quantile(dp.connect, 0.5).Seconds(), quantile(dp.connect, 0.99).Seconds()
		r.Delayed.RestP50Seconds, r.Delayed.RestP99Seconds = quantile(dp.rest, 0.5).Seconds(), quantile(dp.rest, 0.99).Seconds()
	}
}

func (r *Report) fillScheduling(w *window, a *analysis, produced map[string]*stopLine) {
	s := &r.Scheduling
	if len(a.lags) > 0 {
		s.LagP50Seconds, s.LagP99Seconds = quantile(a.lags, 0.5).Seconds(), quantile(a.lags, 0.99).Seconds()
		s.LagMaxSeconds = slices.Max(a.lags).Seconds()
	}
	if len(a.gaps) > 0 {
		s.GapP99Seconds, s.GapMaxSeconds = quantile(a.gaps, 0.99).Seconds(), slices.Max(a.gaps).Seconds()
	}
	s.OverrunsWindow = int64(w.m1.sum("vantage_scheduler_overruns_total") - w.m0.sum("vantage_scheduler_overruns_total"))
	for _, p := range produced {
		if p != nil {
			s.OverrunsTotal += p.overruns
		}
	}
	s.AllRunningAfterSeconds = a.allRunningAfter.Seconds()
	s.NeverRan = a.missing
}

func (r *Report) fillStore(w *window) {
	s := &r.Store
	s.QueueDepthMax = w.depthMax
	if w.depthN > 0 {
		s.QueueDepthMean = w.depthSum / float64(w.depthN)
	}
	s.Batches = int64(w.m1.sum("vantage_results_batches_total") - w.m0.sum("vantage_results_batches_total"))
	s.Written = int64(w.m1.sum("vantage_results_written_total") - w.m0.sum("vantage_results_written_total"))
	s.Dropped = int64(w.m1.sum("vantage_results_dropped_total"))
	h := deltaHist(w.m0, w.m1, "vantage_results_batch_commit_seconds")
	if h.count > 0 {
		s.BatchCommitMeanSeconds = h.sum / h.count
		s.BatchCommitP99Seconds = h.quantile(0.99)
	}
	if s.Written > 0 {
		s.WriteSecondsPer1000 = h.sum / float64(s.Written) * 1000
	}
}

func (r *Report) fillResults(a *analysis, produced map[string]*stopLine) {
	res := &r.Results
	res.Equal = true
	for _, region := range r.Regions {
		rr := RegionResults{Region: region, Produced: -1, Stored: a.stored[region]}
		if p := produced[region]; p != nil {
			rr.Produced = p.runs
		}
		if rr.Produced != rr.Stored {
			res.Equal = false
		}
		res.Produced += max(rr.Produced, 0)
		res.Stored += rr.Stored
		res.ByRegion = append(res.ByRegion, rr)
	}
}

// WriteTable prints r for a terminal.
func (r *Report) WriteTable(w io.Writer) error {
	ms := func(s float64) string { return fmt.Sprintf("%.2f ms", s*1000) }
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, format string, a ...any) { fmt.Fprintf(tw, "  %s\t"+format+"\n", append([]any{k}, a...)...) }
	fmt.Fprintf(tw, "vantage bench: %d checks (%s) every %gs from %s; %.1fs window after %gs warm-up; %d CPUs\n",
		r.Checks, strings.Join(r.Mix, ","), r.IntervalSeconds, strings.Join(r.Regions, ", "), r.WindowSeconds, r.WarmupSeconds, r.CPUs)
	row("probes/s", "%.1f achieved of %.1f planned (%d probes, %d failed)", r.AchievedProbesPerSecond, r.PlannedProbesPerSecond, r.Probes, r.Failed)
	if len(r.FailedByClass) > 0 {
		var parts []string
		for class, n := range r.FailedByClass {
			parts = append(parts, fmt.Sprintf("%s %d", class, n))
		}
		slices.Sort(parts)
		row("failed by class", "%s", strings.Join(parts, ", "))
	}
	row("CPU per 1,000 probes", "%.0f ms vantage (server %.0f ms), %.2f cores; bench+targets %.0f ms", r.CPU.MillisPer1000Probes, r.CPU.ServerMillisPer1000, r.CPU.VantageCores, r.CPU.BenchMillisPer1000)
	for _, m := range r.Memory {
		row("RSS "+m.Process, "%.1f MiB (max in window %.1f, peak %.1f)", m.RSSMiB, m.MaxRSSMiB, m.PeakRSSMiB)
	}
	s := r.Scheduling
	row("scheduling lag", "p50 %s  p99 %s  max %s", ms(s.LagP50Seconds), ms(s.LagP99Seconds), ms(s.LagMaxSeconds))
	row("gap between runs", "p99 %s  max %s (interval %gs)", ms(s.GapP99Seconds), ms(s.GapMaxSeconds), r.IntervalSeconds)
	row("overruns", "%d in window (server), %d in the whole run", s.OverrunsWindow, s.OverrunsTotal)
	row("all checks running", "%.2f s after start (%d check × region never ran)", s.AllRunningAfterSeconds, s.NeverRan)
	st := r.Store
	row("result queue depth", "max %.0f  mean %.1f, %d results dropped (queue full)", st.QueueDepthMax, st.QueueDepthMean, st.Dropped)
	row("store commits", "%d batches, mean %s, p99 ≈ %s, %s per 1,000 results", st.Batches, ms(st.BatchCommitMeanSeconds), ms(st.BatchCommitP99Seconds), ms(st.WriteSecondsPer1000))
	verdict := "equal"
	if !r.Results.Equal {
		verdict = "NOT EQUAL"
	}
	row("results", "%d produced, %d stored: %s", r.Results.Produced, r.Results.Stored, verdict)
	for _, rr := range r.Results.ByRegion {
		row("  "+rr.Region, "%d produced, %d stored", rr.Produced, rr.Stored)
	}
	row("GET /", "p50 %s  max %s  (%d bytes, %d GETs)", ms(r.Render.Index.P50Seconds), ms(r.Render.Index.MaxSeconds), r.Render.Index.Bytes, r.Render.Index.N)
	row("GET /metrics", "p50 %s  max %s  (%d bytes, %d GETs)", ms(r.Render.Metrics.P50Seconds), ms(r.Render.Metrics.MaxSeconds), r.Render.Metrics.Bytes, r.Render.Metrics.N)
	if d := r.Delayed; d.Probes > 0 {
		row("50 ms target", "p50 %s  p99 %s  (overshoot p50 %s, p99 %s; %d probes)", ms(d.P50Seconds), ms(d.P99Seconds), ms(d.OvershootP50Seconds), ms(d.OvershootP99Seconds), d.Probes)
		row("  in parts", "processing p50 %s p99 %s (the target); connect p50 %s p99 %s, rest p50 %s p99 %s (the prober)",
			ms(d.ProcessingP50Seconds), ms(d.ProcessingP99Seconds), ms(d.ConnectP50Seconds), ms(d.ConnectP99Seconds), ms(d.RestP50Seconds), ms(d.RestP99Seconds))
	}
	if s := r.Soak; s != nil {
		names := slices.Sorted(maps.Keys(s.RSSGrowthMiB))
		var growth []string
		for _, n := range names {
			growth = append(growth, fmt.Sprintf("%s %+.1f", n, s.RSSGrowthMiB[n]))
		}
		row("soak", "%d samples, %d hostile checks", s.Samples, s.HostileChecks)
		judged := fmt.Sprintf("allowed %.1f", s.RSSAllowanceMiB)
		if !s.RSSJudged {
			judged = "not judged: the race detector's memory grows"
		}
		row("  RSS growth", "%s MiB, medians of the last quarter against the second (%s)", strings.Join(growth, ", "), judged)
		row("  goroutines", "server %.0f → %.0f (allowed %.0f)", s.Goroutines[0], s.Goroutines[1], s.GoroutineAllowed)
		row("  notifications", "%d received, %d delivered twice", s.Notifications, s.Duplicates)
		row("  Chromium", "%d processes before, %d after", s.ChromiumBefore, s.ChromiumAfter)
		verdict := "passed"
		if !s.Passed() {
			verdict = "FAILED: " + strings.Join(s.Problems, "; ")
		}
		row("  verdict", "%s", verdict)
	}
	return tw.Flush()
}
