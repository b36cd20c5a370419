package results

import "time"

// Burn-rate alert severities.
const (
	SeverityPage   = "page"
	SeverityTicket = "ticket"
)

// BurnWindow is one row of the multiwindow, multi-burn-rate table: it
// fires when the burn rate over both Long and Short exceeds Factor, the
// rate that spends BudgetPercent of the period's budget within Long.
type BurnWindow struct {
	Severity      string  // SeverityPage or SeverityTicket
	BudgetPercent float64 // share of the budget spent within Long at Factor, in percent
	Long, Short   time.Duration
	Factor        float64 // burn-rate threshold: BudgetPercent/100 · period / Long
}

// BurnWindows returns the SRE Workbook's table for a compliance period
// (with Sloth's "ticket quick" row), in order: page 2 % in 1h/5m, page 5 %
// in 6h/30m, ticket 10 % in 1d/2h, ticket 10 % in 3d/6h. The budget
// percentages are the invariant; the factors follow from the period: 14.4,
// 6, 3 and 1 for 30d; 13.44, 5.6, 2.8 and 0.933… for 28d.
func BurnWindows(period time.Duration) []BurnWindow {
	rows := []BurnWindow{
		{Severity: SeverityPage, BudgetPercent: 2, Long: time.Hour, Short: 5 * time.Minute},
		{Severity: SeverityPage, BudgetPercent: 5, Long: 6 * time.Hour, Short: 30 * time.Minute},
		{Severity: SeverityTicket, BudgetPercent: 10, Long: 24 * time.Hour, Short: 2 * time.Hour},
		{Severity: SeverityTicket, BudgetPercent: 10, Long: 72 * time.Hour, Short: 6 * time.Hour},
	}
	for i := range rows {
		rows[i].Factor = BurnFactor(rows[i].BudgetPercent, period, rows[i].Long)
	}
	return rows
}

// BurnFactor is the burn rate that spends budgetPercent of a period's
// budget within w: p·T/w, as one rounding of exact products (14.4, not
// 14.399999999999999, for 2 % of 30d in 1h).
func BurnFactor(budgetPercent float64, period, w time.Duration) float64 {
	return budgetPercent * float64(period) / (100 * float64(w))
}

// BudgetSpent is the share of a period's budget that burning at rate burn
// for w consumes: burn·w/T (14.4 for 1h of 30d: 0.02).
func BudgetSpent(burn float64, w, period time.Duration) float64 {
	return burn * float64(w) / float64(period)
}

// BurnAlertState is one row of the table evaluated on a status.
type BurnAlertState struct {
	BurnWindow
	LongBurn, ShortBurn float64 // burn rates over Long and Short
	ShortBad            int64   // bad events in Short
	Firing              bool
}

// burnTolerance is the relative margin within which a burn rate counts as
// equal to its threshold, so that float rounding of a ratio exactly at the
// threshold never decides: exactly at the threshold does not fire.
const burnTolerance = 1e-9

// BurnAlerts evaluates the multiwindow, multi-burn-rate rules on st, one
// state per row of windows, in order. A row fires when the burn rates over
// its long and its short window both exceed its Factor and the short window
// holds at least minBad bad events: the guard that keeps a single failed
// probe in a quiet hour from paging (with one region and a probe a
// minute, one failure is 1/60 of the hour, above 14.4 × 0.1 %). minBad ≤ 1
// disables the guard. A row whose windows st lacks never fires.
func BurnAlerts(st SLOStatus, windows []BurnWindow, minBad int64) []BurnAlertState {
	out := make([]BurnAlertState, 0, len(windows))
	for _, w := range windows {
		s := BurnAlertState{BurnWindow: w}
		long, okL := st.Windows[WindowName(w.Long)]
		short, okS := st.Windows[WindowName(w.Short)]
		s.LongBurn, s.ShortBurn, s.ShortBad = long.BurnRate, short.BurnRate, short.Total-short.Good
		s.Firing = okL && okS && exceeds(long.BurnRate, w.Factor) && exceeds(short.BurnRate, w.Factor) &&
			s.ShortBad >= max(minBad, 1)
		out = append(out, s)
	}
	return out
}

// exceeds reports whether burn is above threshold by more than rounding.
func exceeds(burn, threshold float64) bool {
	return burn > threshold*(1+burnTolerance)
}

// Firing reports whether any row of severity fires: the rows of one
// severity are alternatives (OR), each row's two windows a conjunction.
func Firing(states []BurnAlertState, severity string) bool {
	for _, s := range states {
		if s.Firing && s.Severity == severity {
			return true
		}
	}
	return false
}
