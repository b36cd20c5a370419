package results_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/probes"
	"github.com/vantageprobe/vantage/results"
	"github.com/vantageprobe/vantage/results/sqlite"
)

// t0 is a fixed, minute-aligned instant; pruning is off, so records keep
// whatever time they are given.
var t0 = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// openStore opens a SQLite store in t.TempDir().
func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), sqlite.Options{Path: filepath.Join(t.TempDir(), "vantage.db"), PruneInterval: -1})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return s
}

// recorder writes records with consecutive ids.
type recorder struct {
	t *testing.T
	s results.Store
	n int
}

// rec returns a passing record of check "web" from region at started.
func (r *recorder) rec(region string, started time.Time, d time.Duration, ok bool) results.Record {
	r.n++
	return results.Record{
		ID: fmt.Sprintf("r%07d", r.n), Check: "web", Region: region, Kind: probes.KindHTTP,
		Target: "http://127.0.0.1/", Started: started, Duration: d, OK: ok,
	}
}

// write stores recs and flushes.
func (r *recorder) write(recs ...results.Record) {
	r.t.Helper()
	if err := r.s.Write(r.t.Context(), recs...); err != nil {
		r.t.Fatalf("write: %v", err)
	}
	if err := r.s.Flush(r.t.Context()); err != nil {
		r.t.Fatalf("flush: %v", err)
	}
}

// everyMinute returns a record per region and minute in [from, to), at
// second 10 of the minute; bad(region, t) says which fail.
func (r *recorder) everyMinute(regions []string, from, to time.Time, bad func(region string, t time.Time) bool) []results.Record {
	var out []results.Record
	for m := from; m.Before(to); m = m.Add(time.Minute) {
		for _, region := range regions {
			at := m.Add(10 * time.Second)
			out = append(out, r.rec(region, at, 20*time.Millisecond, bad == nil || !bad(region, at)))
		}
	}
	return out
}

func spec(t *testing.T, objective string) results.SLOSpec {
	return results.SLOSpec{Objective: mustObjective(t, objective)}
}

var allWindows = []string{"5m", "30m", "1h", "2h", "6h", "1d", "3d"}

func TestEvaluateSLONoEvents(t *testing.T) {
	s := openStore(t)
	for _, sli := range []results.SLIKind{results.SLIAvailability, results.SLILatency} {
		t.Run(string(sli), func(t *testing.T) {
			sp := spec(t, "99.9")
			if sli == results.SLILatency {
				sp.SLI, sp.Threshold = sli, time.Second
			}
			st, err := results.EvaluateSLO(t.Context(), s, "web", sp, nil, t0.Add(17*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			if st.Total != 0 || st.SLI != 1 || st.BudgetRemaining != 1 || st.TimeToExhaustion != results.Never {
				t.Errorf("no events: total %d, SLI %v, remaining %v, exhaustion %v; want 0, 1, 1, never",
					st.Total, st.SLI, st.BudgetRemaining, st.TimeToExhaustion)
			}
			if st.BudgetMinutes != 43.2 || st.Spec.Window != 30*day || !st.End.Equal(t0.Add(time.Minute)) {
				t.Errorf("budget %v min over %v ending %v; want 43.2 over 30d ending %v", st.BudgetMinutes, st.Spec.Window, st.End, t0.Add(time.Minute))
			}
			if len(st.Windows) != len(allWindows) {
				t.Errorf("windows %v, want %v", st.Windows, allWindows)
			}
			for _, w := range allWindows {
				if ws, ok := st.Windows[w]; !ok || ws != (results.WindowStatus{}) {
					t.Errorf("window %s = %+v (present %v), want zero", w, ws, ok)
				}
			}
		})
	}
}

// TestEvaluateSLOBudget checks SLI, remaining budget and time to
// exhaustion against numbers computed by hand: one region, a probe a
// minute for the last 2 days, plus a passed probe in the period's first
// minute and a failed one in the minute before it (not counted).
func TestEvaluateSLOBudget(t *testing.T) {
	now := t0.Add(30 * time.Second) // windows end at t0 + 1m
	end := t0.Add(time.Minute)
	const n = 2881.0 // 2 days of minutes and the period's first
	tests := []struct {
		name      string
		objective string
		window    time.Duration
		failures  []int // minutes before end whose probe fails
		degraded  []int // minutes before end whose probe is degraded
		good      int64
		remaining float64
		burn5m    float64
		budgetMin float64
	}{
		{"clean, degraded is good", "99.9", 0, nil, []int{3, 500}, 2881, 1, 0, 43.2},
		{"partly spent", "99.9", 0, []int{100}, nil, 2880, 1 - (1/n)/0.001, 0, 43.2},
		{"overspent, not clamped", "99.9", 0, seq(20, 24), nil, 2876, 1 - (5/n)/0.001, 0, 43.2},
		{"burning now", "99", 28 * day, []int{2, 2000}, nil, 2879, 1 - (2/n)/0.01, (1.0 / 5) / 0.01, 403.2},
		{"3d period", "99.9", 3 * day, []int{3}, nil, 2880, 1 - (1/n)/0.001, (1.0 / 5) / 0.001, 4.32},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t)
			r := &recorder{t: t, s: s}
			fail, deg := map[time.Time]bool{}, map[time.Time]bool{}
			for _, m := range tt.failures {
				fail[end.Add(-time.Duration(m)*time.Minute+10*time.Second)] = true
			}
			for _, m := range tt.degraded {
				deg[end.Add(-time.Duration(m)*time.Minute+10*time.Second)] = true
			}
			recs := r.everyMinute([]string{"eu"}, end.Add(-2*day), end, func(_ string, at time.Time) bool { return fail[at] })
			for i := range recs {
				recs[i].Degraded = deg[recs[i].Started]
			}
			periodStart := end.Add(-cmp.Or(tt.window, 30*day))
			recs = append(recs,
				r.rec("eu", periodStart, time.Millisecond, true),
				r.rec("eu", periodStart.Add(-time.Nanosecond), time.Millisecond, false))
			r.write(recs...)
			sp := spec(t, tt.objective)
			sp.Window = tt.window
			st, err := results.EvaluateSLO(t.Context(), s, "web", sp, nil, now)
			if err != nil {
				t.Fatal(err)
			}
			if st.Good != tt.good || st.Total != n {
				t.Errorf("period: %d good of %d, want %d of %v", st.Good, st.Total, tt.good, n)
			}
			if want := float64(tt.good) / n; math.Abs(st.SLI-want) > 1e-15 {
				t.Errorf("SLI %v, want %v", st.SLI, want)
			}
			if math.Abs(st.BudgetRemaining-tt.remaining) > 1e-12 {
				t.Errorf("remaining %.15f, want %.15f", st.BudgetRemaining, tt.remaining)
			}
			if got := st.Windows["5m"].BurnRate; math.Abs(got-tt.burn5m) > 1e-9 {
				t.Errorf("5m burn rate %v, want %v", got, tt.burn5m)
			}
			if math.Abs(st.BudgetMinutes-tt.budgetMin) > 1e-12 {
				t.Errorf("budget %v minutes, want %v", st.BudgetMinutes, tt.budgetMin)
			}
			if want := mustObjective(t, tt.objective).Budget() * n; math.Abs(st.BudgetEvents-want) > 1e-9 {
				t.Errorf("budget %v events, want B·total = %v", st.BudgetEvents, want)
			}
			var wantTTE time.Duration
			switch {
			case tt.remaining <= 0:
				wantTTE = 0
			case tt.burn5m == 0:
				wantTTE = results.Never
			default:
				wantTTE = time.Duration(tt.remaining * float64(st.Spec.Window) / tt.burn5m)
			}
			if (st.TimeToExhaustion - wantTTE).Abs() > time.Millisecond {
				t.Errorf("time to exhaustion %v, want %v", st.TimeToExhaustion, wantTTE)
			}
		})
	}
}

// seq returns from, from+1, … to.
func seq(from, to int) []int {
	var out []int
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

// TestEvaluateSLOWindowEdges pins the minute alignment: a window w is
// [End − w, End) with End = now rounded up to the minute.
func TestEvaluateSLOWindowEdges(t *testing.T) {
	s := openStore(t)
	r := &recorder{t: t, s: s}
	// One failure each at t0−5m (just inside the 5m window ending t0),
	// t0−5m−1ns (just outside) and t0−1ns, all of region eu; us passes.
	r.write(
		r.rec("eu", t0.Add(-5*time.Minute), time.Millisecond, false),
		r.rec("eu", t0.Add(-5*time.Minute-time.Nanosecond), time.Millisecond, false),
		r.rec("eu", t0.Add(-time.Nanosecond), time.Millisecond, false),
		r.rec("us", t0.Add(-time.Minute), time.Millisecond, true),
	)
	tests := []struct {
		now         time.Time
		good, total int64
	}{
		{t0, 1, 3},                                   // End = t0: [t0−5m, t0)
		{t0.Add(-time.Nanosecond), 1, 3},             // rounds up to t0
		{t0.Add(time.Nanosecond), 1, 2},              // End = t0+1m: t0−5m drops out
		{t0.Add(59 * time.Second), 1, 2},             // still t0+1m
		{t0.Add(3*time.Minute + time.Second), 1, 2},  // End = t0+4m: the minute before t0 is left
		{t0.Add(4*time.Minute + time.Second), 0, 0},  // End = t0+5m: [t0, t0+5m) is empty
		{t0.Add(-4*time.Minute - time.Second), 0, 2}, // End = t0−4m: t0−5m−1ns and t0−5m
	}
	for _, tt := range tests {
		st, err := results.EvaluateSLO(t.Context(), s, "web", spec(t, "99.9"), nil, tt.now)
		if err != nil {
			t.Fatal(err)
		}
		if w := st.Windows["5m"]; w.Good != tt.good || w.Total != tt.total {
			t.Errorf("now %v: 5m window %d good of %d, want %d of %d", tt.now.Sub(t0), w.Good, w.Total, tt.good, tt.total)
		}
	}
}

// stepCase is an error ratio num/den starting at t0 after a clean hour,
// with evenly spread probe runs from several regions.
type stepCase struct {
	name          string
	num, den      int64 // error ratio e = num/den
	regions       int
	every         time.Duration // each region's interval
	fires         bool
	stopAfter     time.Duration // errors stop this long after t0 (0: never)
	simulateUntil time.Duration
}

// TestStepChange: a clean history, then error ratio e from t0. The fast
// page rule (1h/5m, 14.4×) fires after t_detect = 14.4·B·1h/e (A.1) and
// resets once the errors stop and leave the short window: after about
// 5m·(1 − 14.4·B/e), i.e. ≈ 5m for a real outage (4.9m at e = 100 %),
// sooner for an error ratio just above the threshold.
func TestStepChange(t *testing.T) {
	const B = 0.001 // 99.9 %
	tests := []stepCase{
		{name: "100%", num: 1, den: 1, regions: 3, every: 15 * time.Second, fires: true},
		{name: "50%", num: 1, den: 2, regions: 3, every: 15 * time.Second, fires: true},
		{name: "10%", num: 1, den: 10, regions: 2, every: 12 * time.Second, fires: true},
		{name: "2%", num: 1, den: 50, regions: 5, every: 6 * time.Second, fires: true},
		{name: "1% never pages", num: 1, den: 100, regions: 2, every: 12 * time.Second, simulateUntil: 75 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := float64(tt.num) / float64(tt.den)
			tDetect := time.Duration(14.4 * B * float64(time.Hour) / e)
			if tt.fires {
				tt.stopAfter = tDetect + 5*time.Minute
				tt.simulateUntil = tt.stopAfter + 7*time.Minute
			}
			fired, reset := simulateStep(t, tt)
			if !tt.fires {
				if fired >= 0 {
					t.Fatalf("e = %v fired after %v; the threshold is 1.44 %%", e, fired)
				}
				return
			}
			if fired < 0 {
				t.Fatalf("e = %v never fired (t_detect %v)", e, tDetect)
			}
			if (fired - tDetect).Abs() > time.Minute {
				t.Errorf("e = %v fired after %v, want t_detect = 14.4·B·1h/e = %v (± the 1 minute edge)", e, fired, tDetect)
			}
			if reset < 0 {
				t.Fatalf("did not reset within %v of the errors stopping", tt.simulateUntil-tt.stopAfter)
			}
			// The short window's ratio falls below 14.4·B once the errors
			// fill less than (1 − 14.4·B/e) of it: ≈ 5m for e ≫ 1.44 %.
			tReset := time.Duration(float64(5*time.Minute) * (1 - 14.4*B/e))
			if (reset - tReset).Abs() > time.Minute+stepEvery {
				t.Errorf("reset %v after the last failure, want ≈ 5m·(1 − 14.4·B/e) = %v (± the minute edge and a %v step)", reset, tReset, stepEvery)
			}
			t.Logf("e = %v: t_detect %v, fired after %v; t_reset %v, reset %v after the last failure", e, tDetect, fired, tReset, reset)
		})
	}
}

const stepEvery = 30 * time.Second // evaluation interval

// simulateStep writes records as time passes and evaluates every
// stepEvery; it returns when the page row first fired (after t0) and when
// it first stopped firing after the errors stopped (after the last failed
// run), −1 for never.
func simulateStep(t *testing.T, tt stepCase) (fired, reset time.Duration) {
	s := openStore(t)
	r := &recorder{t: t, s: s}
	gap := tt.every / time.Duration(tt.regions) // runs round-robin over regions
	next := t0.Add(-61 * time.Minute)           // a full clean hour before t0
	var k, bad int64                            // runs since t0, failures among them
	var lastBad time.Time
	emit := func(until time.Time) {
		var recs []results.Record
		for ; !next.After(until); next = next.Add(gap) {
			region := fmt.Sprintf("r%d", int(next.Sub(t0.Add(-61*time.Minute))/gap)%tt.regions)
			ok := true
			if !next.Before(t0) && (tt.stopAfter == 0 || next.Before(t0.Add(tt.stopAfter))) {
				k++
				if want := k * tt.num / tt.den; want > bad { // failures spread evenly: ⌊k·e⌋ so far
					bad, ok, lastBad = want, false, next
				}
			}
			recs = append(recs, r.rec(region, next, 20*time.Millisecond, ok))
		}
		if len(recs) > 0 {
			r.write(recs...)
		}
	}
	windows := results.BurnWindows(30 * day)
	fired, reset = -1, -1
	for now := t0; now.Before(t0.Add(tt.simulateUntil)); now = now.Add(stepEvery) {
		emit(now)
		st, err := results.EvaluateSLO(t.Context(), s, "web", spec(t, "99.9"), nil, now)
		if err != nil {
			t.Fatal(err)
		}
		page := results.BurnAlerts(st, windows, 1)[0]
		elapsed := now.Sub(t0)
		switch {
		case page.Firing && fired < 0:
			fired = elapsed
		case !page.Firing && fired >= 0 && tt.stopAfter > 0 && elapsed >= tt.stopAfter && reset < 0:
			return fired, now.Sub(lastBad)
		case !page.Firing && fired >= 0 && elapsed < tt.stopAfter && elapsed+time.Minute >= tt.stopAfter:
			// Right at the crossing a small error ratio may flap for a
			// minute or two (a good run lowers it, a bad one raises it);
			// minutes later the hour's ratio is well above.
			t.Fatalf("not firing at %v while errors go on (fired at %v)", elapsed, fired)
		}
	}
	return fired, reset
}

// TestQuietHourGuard: one failed probe in an hour of one probe a minute is
// 1/60 of the events, above 14.4 × 0.1 %: it pages unless the short window
// must hold at least 2 bad events. With 3 regions it is 1/180 and does not.
func TestQuietHourGuard(t *testing.T) {
	tests := []struct {
		name    string
		regions []string
		minBad  int64
		fires   bool
	}{
		{"1 region, guard 1", []string{"eu"}, 1, true},
		{"1 region, guard 2", []string{"eu"}, 2, false},
		{"3 regions, guard 1", []string{"eu", "us", "ap"}, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t)
			r := &recorder{t: t, s: s}
			failAt := t0.Add(-2*time.Minute + 10*time.Second)
			r.write(r.everyMinute(tt.regions, t0.Add(-3*time.Hour), t0, func(region string, at time.Time) bool {
				return region == "eu" && at.Equal(failAt)
			})...)
			st, err := results.EvaluateSLO(t.Context(), s, "web", spec(t, "99.9"), nil, t0)
			if err != nil {
				t.Fatal(err)
			}
			h := st.Windows["1h"]
			if h.Total != int64(60*len(tt.regions)) || h.Total-h.Good != 1 {
				t.Fatalf("1h window %d bad of %d, want 1 of %d", h.Total-h.Good, h.Total, 60*len(tt.regions))
			}
			states := results.BurnAlerts(st, results.BurnWindows(30*day), tt.minBad)
			if got := states[0].Firing; got != tt.fires {
				t.Errorf("page 1h/5m firing %v, want %v (burn 1h %.2f, 5m %.2f)", got, tt.fires, states[0].LongBurn, states[0].ShortBurn)
			}
			if got := results.Firing(states, results.SeverityPage); got != tt.fires {
				t.Errorf("Firing(page) = %v, want %v", got, tt.fires)
			}
		})
	}
}

// TestLatencySLI: with sli latency a record is good when it passed and
// took at most the threshold, counted exactly from raw records.
func TestLatencySLI(t *testing.T) {
	s := openStore(t)
	r := &recorder{t: t, s: s}
	const threshold = 100 * time.Millisecond
	at := func(m int) time.Time { return t0.Add(-time.Duration(m)*time.Minute + 5*time.Second) }
	fastDegraded := r.rec("us", at(2), threshold/2, true)
	fastDegraded.Degraded = true
	r.write(
		r.rec("eu", at(1), threshold-time.Millisecond, true), // good
		r.rec("eu", at(2), threshold, true),                  // good: exactly at the threshold
		r.rec("eu", at(3), threshold+time.Nanosecond, true),  // bad: passed, 1ns too slow
		r.rec("us", at(1), time.Millisecond, false),          // bad: failed, however fast
		fastDegraded,                                          // good: degraded counts as passed
		r.rec("us", at(3), 2*threshold, true),                 // bad: slow
		r.rec("eu", at(90), time.Millisecond, true),           // good, in the period but not the last hour
		r.rec("eu", at(120), 5*time.Second, true),             // bad, likewise
		r.rec("eu", at(31*24*60), 5*time.Second, false),       // before the period
		r.rec("ap", at(4), threshold+time.Microsecond, false), // bad twice over
	)
	sp := results.SLOSpec{Objective: mustObjective(t, "99"), SLI: results.SLILatency, Threshold: threshold}
	st, err := results.EvaluateSLO(t.Context(), s, "web", sp, nil, t0)
	if err != nil {
		t.Fatal(err)
	}
	if st.Good != 4 || st.Total != 9 {
		t.Errorf("period: %d good of %d, want 4 of 9", st.Good, st.Total)
	}
	if w := st.Windows["5m"]; w.Good != 3 || w.Total != 7 {
		t.Errorf("5m window: %d good of %d, want 3 of 7", w.Good, w.Total)
	}
	if w := st.Windows["1h"]; w.Good != 3 || w.Total != 7 || math.Abs(w.BurnRate-(4.0/7)/0.01) > 1e-9 {
		t.Errorf("1h window: %d good of %d, burn %v; want 3 of 7, burn %v", w.Good, w.Total, w.BurnRate, (4.0/7)/0.01)
	}
	// The same records under the availability SLI: only failures are bad.
	st, err = results.EvaluateSLO(t.Context(), s, "web", spec(t, "99"), nil, t0)
	if err != nil {
		t.Fatal(err)
	}
	if st.Good != 7 || st.Total != 9 {
		t.Errorf("availability: %d good of %d, want 7 of 9", st.Good, st.Total)
	}
}

// TestMaintenanceExclusion: with exclude_maintenance the events inside the
// excluded intervals (widened to whole minutes, merged, clipped to the
// period) count neither as good nor as total, in the period and in every
// window; without it they count.
func TestMaintenanceExclusion(t *testing.T) {
	s := openStore(t)
	r := &recorder{t: t, s: s}
	now := t0.Add(30 * time.Second)
	end := t0.Add(time.Minute)
	regions := []string{"eu", "us"}
	outage := iv(end.Add(-50*time.Minute), end.Add(-30*time.Minute))
	lone := end.Add(-10*time.Minute + 10*time.Second)
	bad := func(region string, at time.Time) bool {
		return (!at.Before(outage.Start) && at.Before(outage.End)) || (region == "eu" && at.Equal(lone))
	}
	periodStart := end.Add(-30 * day)
	r.write(r.everyMinute(regions, end.Add(-2*time.Hour), end, bad)...)                                      // 240 records, 41 failed
	r.write(r.everyMinute(regions, periodStart.Add(-5*time.Minute), periodStart.Add(5*time.Minute), nil)...) // 10 in the period, 10 before
	exclude := []results.Interval{
		{Start: outage.Start.Add(5 * time.Second), End: end.Add(-40 * time.Minute)},        // widened to the minute
		{Start: end.Add(-45 * time.Minute), End: outage.End.Add(-30 * time.Second)},        // overlaps, widened to end−30m
		{Start: end.Add(-44 * time.Minute), End: end.Add(-43 * time.Minute)},               // inside both: not subtracted twice
		{Start: periodStart.Add(-10 * time.Minute), End: periodStart.Add(2 * time.Minute)}, // clipped: 2 minutes × 2 regions
		{Start: end.Add(time.Hour), End: end.Add(2 * time.Hour)},                           // in the future: nothing
	}
	tests := []struct {
		name               string
		sli                results.SLIKind
		excludeMaintenance bool
		good, total        int64
		hourGood, hourTot  int64
	}{
		{"availability, excluded", results.SLIAvailability, true, 205, 206, 79, 80},
		{"availability, counted", results.SLIAvailability, false, 209, 250, 79, 120},
		{"latency, excluded", results.SLILatency, true, 205, 206, 79, 80},
		{"latency, counted", results.SLILatency, false, 209, 250, 79, 120},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp := spec(t, "99.9")
			sp.ExcludeMaintenance = tt.excludeMaintenance
			if tt.sli == results.SLILatency {
				sp.SLI, sp.Threshold = tt.sli, time.Second
			}
			st, err := results.EvaluateSLO(t.Context(), s, "web", sp, exclude, now)
			if err != nil {
				t.Fatal(err)
			}
			if st.Good != tt.good || st.Total != tt.total {
				t.Errorf("period: %d good of %d, want %d of %d", st.Good, st.Total, tt.good, tt.total)
			}
			if w := st.Windows["1h"]; w.Good != tt.hourGood || w.Total != tt.hourTot {
				t.Errorf("1h window: %d good of %d, want %d of %d", w.Good, w.Total, tt.hourGood, tt.hourTot)
			}
			if w := st.Windows["30m"]; w.Good != 59 || w.Total != 60 {
				t.Errorf("30m window (after the maintenance): %d good of %d, want 59 of 60", w.Good, w.Total)
			}
			if w := st.Windows["3d"]; w.Total != tt.total-10+4*boolInt(tt.excludeMaintenance) {
				t.Errorf("3d window: %d events, want the period's less the 10 at its start", w.Total)
			}
		})
	}
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// iv is a shorthand for a results.Interval.
func iv(start, end time.Time) results.Interval { return results.Interval{Start: start, End: end} }

// failingReader fails every read.
type failingReader struct{ err error }

func (f failingReader) Rollups(context.Context, results.RollupQuery) ([]results.Rollup, error) {
	return nil, f.err
}

func (f failingReader) Count(context.Context, results.CountQuery) (int64, int64, error) {
	return 0, 0, f.err
}

func TestEvaluateSLOErrors(t *testing.T) {
	broken := errors.New("disk on fire")
	for _, sli := range []results.SLIKind{results.SLIAvailability, results.SLILatency} {
		sp := spec(t, "99.9")
		if sli == results.SLILatency {
			sp.SLI, sp.Threshold = sli, time.Second
		}
		_, err := results.EvaluateSLO(t.Context(), failingReader{broken}, "web", sp, nil, t0)
		if !errors.Is(err, broken) {
			t.Errorf("%s: error %v, want it to wrap the store's", sli, err)
		}
	}
	_, err := results.EvaluateSLO(t.Context(), failingReader{broken}, "web", results.SLOSpec{}, nil, t0)
	if err == nil || errors.Is(err, broken) {
		t.Errorf("invalid spec: error %v, want a validation error before any read", err)
	}
}
