package results

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"
)

// SLOReader is what evaluating an SLO reads; every Store is one.
type SLOReader interface {
	RollupReader
	Count(ctx context.Context, q CountQuery) (good, total int64, err error)
}

// Interval is the half-open time range [Start, End).
type Interval struct {
	Start, End time.Time
}

// WindowStatus is the events of one trailing window.
type WindowStatus struct {
	Good, Total int64
	ErrorRatio  float64 // (Total − Good) / Total; 0 without events
	BurnRate    float64 // ErrorRatio / budget; 0 without events
}

// Never is the TimeToExhaustion of a budget nothing is burning.
const Never = time.Duration(math.MaxInt64)

// CurrentBurnWindow is the window whose burn rate is the current one.
const CurrentBurnWindow = 5 * time.Minute

// SLOStatus is an SLO evaluated at one instant.
type SLOStatus struct {
	Check string
	Spec  SLOSpec   // with defaults filled in
	End   time.Time // end of every window: the evaluation instant rounded up to the minute
	// Good and Total are the events of the whole period [End − Spec.Window, End).
	Good, Total int64
	SLI         float64 // Good / Total; 1 without events
	// BudgetRemaining is 1 − e(T)/B: 1 untouched, 0 spent, below 0 when
	// overspent (not clamped); 1 without events.
	BudgetRemaining float64
	BudgetMinutes   float64 // B·T in minutes: 43.2 for 99.9 % over 30d
	BudgetEvents    float64 // B·Total: the bad events the period allows
	// Windows holds every window of BurnWindows(Spec.Window) by
	// WindowName: "5m", "30m", "1h", "2h", "6h", "1d", "3d".
	Windows map[string]WindowStatus
	// TimeToExhaustion is remaining·T / current burn rate (the 5m
	// window's): how long the rest of the budget lasts at the current
	// rate. It is 0 when the budget is already spent and Never when
	// nothing burns now (or it would last longer than Never).
	TimeToExhaustion time.Duration
}

// EvaluateSLO evaluates spec for check at now, over all regions.
//
// Windows are whole minutes, the rollups' resolution: a window w is
// [End − w, End) with End = now rounded up to the minute, so it holds the
// minute in progress and reaches back between w − 1m and w from now; a
// record enters every window as soon as it is stored, and leaves a window
// up to one minute earlier than an exact sliding window would let it go.
// The availability SLI reads rollups only: the trailing windows from one
// read of the last 3d of minute rollups, the period from day rollups and
// the minute rollups of its partial days (see Window). The latency SLI
// counts raw records (Count), so a latency period must be within the raw
// retention.
//
// exclude lists the check's maintenance windows. When
// spec.ExcludeMaintenance is set their events are subtracted from every
// window (each interval widened to whole minutes: a minute touched by
// maintenance is left out entirely; overlaps are merged); otherwise they
// are ignored, so callers may pass them unconditionally.
func EvaluateSLO(ctx context.Context, r SLOReader, check string, spec SLOSpec, exclude []Interval, now time.Time) (SLOStatus, error) {
	spec = spec.WithDefaults()
	if err := spec.Validate(); err != nil {
		return SLOStatus{}, fmt.Errorf("evaluate slo of %s: %w", check, err)
	}
	end := ceilTo(Minute, now)
	period := Interval{end.Add(-spec.Window), end}
	ev := sloEvents{r: r, check: check, spec: spec}
	if spec.ExcludeMaintenance {
		ev.exclude = normalizeIntervals(exclude, period)
	}
	st := SLOStatus{Check: check, Spec: spec, End: end, Windows: map[string]WindowStatus{}}
	var err error
	if st.Good, st.Total, err = ev.count(ctx, period); err != nil {
		return SLOStatus{}, fmt.Errorf("evaluate slo of %s: %w", check, err)
	}
	if err := ev.windows(ctx, end, sloWindows(spec.Window), st.Windows); err != nil {
		return SLOStatus{}, fmt.Errorf("evaluate slo of %s: %w", check, err)
	}
	st.fillBudget()
	return st, nil
}

// fillBudget derives the SLI and budget figures from the counts.
func (st *SLOStatus) fillBudget() {
	o, T := st.Spec.Objective, st.Spec.Window
	st.BudgetMinutes = o.budgetOf(T.Minutes())
	st.BudgetEvents = o.budgetOf(float64(st.Total))
	st.SLI, st.BudgetRemaining = 1, 1
	if st.Total > 0 {
		st.SLI = float64(st.Good) / float64(st.Total)
		st.BudgetRemaining = 1 - windowStatus(st.Good, st.Total, o.Budget()).BurnRate
	}
	burn := st.Windows[WindowName(CurrentBurnWindow)].BurnRate
	switch {
	case st.BudgetRemaining <= 0:
		st.TimeToExhaustion = 0
	case burn == 0:
		st.TimeToExhaustion = Never
	default:
		d := st.BudgetRemaining * float64(T) / burn
		st.TimeToExhaustion = Never
		if d < float64(Never) {
			st.TimeToExhaustion = time.Duration(d)
		}
	}
}

// windowStatus computes ratio and burn rate of good out of total events.
func windowStatus(good, total int64, budget float64) WindowStatus {
	ws := WindowStatus{Good: good, Total: total}
	if total > 0 {
		ws.ErrorRatio = float64(total-good) / float64(total)
		ws.BurnRate = ws.ErrorRatio / budget
	}
	return ws
}

// sloWindows lists the distinct windows of the burn table for period,
// shortest first; CurrentBurnWindow is among them.
func sloWindows(period time.Duration) []time.Duration {
	ws := []time.Duration{CurrentBurnWindow}
	for _, b := range BurnWindows(period) {
		ws = append(ws, b.Long, b.Short)
	}
	slices.Sort(ws)
	return slices.Compact(ws)
}

// sloEvents counts the good and total events of one SLO in an interval,
// less those in the excluded intervals.
type sloEvents struct {
	r       SLOReader
	check   string
	spec    SLOSpec
	exclude []Interval // minute-aligned, sorted, disjoint
}

// count returns the events in iv (minute-aligned) outside the exclusions.
func (e sloEvents) count(ctx context.Context, iv Interval) (good, total int64, err error) {
	if good, total, err = e.raw(ctx, iv); err != nil {
		return 0, 0, err
	}
	for _, x := range e.exclude {
		x = Interval{later(x.Start, iv.Start), earlier(x.End, iv.End)}
		if !x.Start.Before(x.End) {
			continue
		}
		g, t, err := e.raw(ctx, x)
		if err != nil {
			return 0, 0, fmt.Errorf("excluded interval: %w", err)
		}
		good, total = good-g, total-t
	}
	return good, total, nil
}

// windows fills out with the trailing windows ws (ascending) ending at
// end. Availability reads the minute rollups of the longest window once
// and sums them from the end; latency counts each window.
func (e sloEvents) windows(ctx context.Context, end time.Time, ws []time.Duration, out map[string]WindowStatus) error {
	budget := e.spec.Objective.Budget()
	if e.spec.SLI == SLILatency {
		for _, w := range ws {
			good, total, err := e.count(ctx, Interval{end.Add(-w), end})
			if err != nil {
				return fmt.Errorf("count the last %s: %w", WindowName(w), err)
			}
			out[WindowName(w)] = windowStatus(good, total, budget)
		}
		return nil
	}
	longest := ws[len(ws)-1]
	rs, err := e.r.Rollups(ctx, RollupQuery{Check: e.check, Res: Minute, Since: end.Add(-longest), Until: end})
	if err != nil {
		return fmt.Errorf("read the last %s of minute rollups: %w", WindowName(longest), err)
	}
	var good, total int64
	i := len(rs) - 1
	for _, w := range ws {
		for ; i >= 0 && !rs[i].Start.Before(end.Add(-w)); i-- {
			if !e.excluded(rs[i].Start) {
				good, total = good+rs[i].Total-rs[i].Failed, total+rs[i].Total
			}
		}
		out[WindowName(w)] = windowStatus(good, total, budget)
	}
	return nil
}

// excluded reports whether the minute starting at t is excluded.
func (e sloEvents) excluded(t time.Time) bool {
	for _, x := range e.exclude {
		if !t.Before(x.Start) && t.Before(x.End) {
			return true
		}
	}
	return false
}

// raw returns all the events in iv: from rollups for availability, from
// an exact count of raw records for latency.
func (e sloEvents) raw(ctx context.Context, iv Interval) (good, total int64, err error) {
	if e.spec.SLI == SLILatency {
		return e.r.Count(ctx, CountQuery{Check: e.check, Since: iv.Start, Until: iv.End, MaxDuration: e.spec.Threshold})
	}
	ru, err := Window(ctx, e.r, e.check, "", iv.Start, iv.End)
	if err != nil {
		return 0, 0, err
	}
	return ru.Total - ru.Failed, ru.Total, nil
}

// normalizeIntervals widens ivs to whole minutes, clips them to within,
// drops empty ones and merges overlapping or touching ones, in order.
func normalizeIntervals(ivs []Interval, within Interval) []Interval {
	var out []Interval
	for _, iv := range ivs {
		iv = Interval{later(Minute.BucketStart(iv.Start), within.Start), earlier(ceilTo(Minute, iv.End), within.End)}
		if iv.Start.Before(iv.End) {
			out = append(out, iv)
		}
	}
	slices.SortFunc(out, func(a, b Interval) int { return cmp.Or(a.Start.Compare(b.Start), a.End.Compare(b.End)) })
	merged := out[:0]
	for _, iv := range out {
		if n := len(merged); n > 0 && !iv.Start.After(merged[n-1].End) {
			merged[n-1].End = later(merged[n-1].End, iv.End)
			continue
		}
		merged = append(merged, iv)
	}
	return merged
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
