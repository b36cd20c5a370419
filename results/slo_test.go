package results_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/results"
)

const day = 24 * time.Hour

func mustObjective(t *testing.T, s string) results.Objective {
	t.Helper()
	o, err := results.ParseObjective(s)
	if err != nil {
		t.Fatalf("ParseObjective(%q): %v", s, err)
	}
	return o
}

func TestParseObjective(t *testing.T) {
	tests := []struct {
		in       string
		budget   float64 // compared with ==: B is num/den rounded once, as the literal is
		fraction float64
		str      string
	}{
		{"99.9", 0.001, 0.999, "99.9%"},
		{"99.95", 0.0005, 0.9995, "99.95%"},
		{"99", 0.01, 0.99, "99%"},
		{"99.99", 0.0001, 0.9999, "99.99%"},
		{"99.90", 0.001, 0.999, "99.9%"}, // trailing zeros do not matter
		{"099.9", 0.001, 0.999, "99.9%"},
		{"99.9%", 0.001, 0.999, "99.9%"},
		{" 99.5 ", 0.005, 0.995, "99.5%"},
		{"50", 0.5, 0.5, "50%"},
		{"0.5", 0.995, 0.005, "0.5%"},
		{"99.999999", 1e-8, 0.99999999, "99.999999%"},
		{"99.000001", 0.00999999, 0.99000001, "99.000001%"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			o := mustObjective(t, tt.in)
			if got := o.Budget(); got != tt.budget {
				t.Errorf("Budget() = %.20g, want %.20g exactly", got, tt.budget)
			}
			if got := o.Fraction(); got != tt.fraction {
				t.Errorf("Fraction() = %.20g, want %.20g", got, tt.fraction)
			}
			if got := o.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
			text, err := o.MarshalText()
			if err != nil || string(text) != strings.TrimSuffix(tt.str, "%") {
				t.Errorf("MarshalText() = %q, %v; want %q", text, err, strings.TrimSuffix(tt.str, "%"))
			}
			var back results.Objective
			if err := back.UnmarshalText(text); err != nil || back != o {
				t.Errorf("UnmarshalText(MarshalText()) = %v, %v; want %v", back, err, o)
			}
		})
	}
	// Sloth's trap: 1 − 0.999 in float64 is not 0.001 (constants would
	// be exact, hence the variable); Budget is.
	S := 0.999
	if f := 1 - S; f == 0.001 {
		t.Fatal("the float64 trap this test guards against no longer exists")
	}
	if b := mustObjective(t, "99.9").Budget(); b != 1.0/1000 {
		t.Errorf("99.9: budget %.20g, want exactly 1/1000", b)
	}
}

func TestParseObjectiveRejects(t *testing.T) {
	tests := []struct{ in, want string }{
		{"100", "below 100 %"},
		{"100.0", "below 100 %"},
		{"100.5", "below 100 %"},
		{"1000", "below 100 %"},
		{"0", "above 0 %"},
		{"0.000", "above 0 %"},
		{"abc", "not a percentage"},
		{"", "not a percentage"},
		{"-1", "not a percentage"},
		{"+99", "not a percentage"},
		{"1e2", "not a percentage"},
		{".9", "not a percentage"},
		{"99.", "not a percentage"},
		{"99,9", "not a percentage"},
		{"99.9.9", "not a percentage"},
		{"99.9999999999999999", "more than 6 decimal places"},
		{"99.9999999", "more than 6 decimal places"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			o, err := results.ParseObjective(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseObjective(%q) = %v, %v; want an error saying %q", tt.in, o, err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.in) {
				t.Errorf("error %q does not quote the input", err)
			}
			var u results.Objective
			if err := u.UnmarshalText([]byte(tt.in)); err == nil || !u.IsZero() {
				t.Errorf("UnmarshalText(%q) = %v, %v; want an error and no value", tt.in, u, err)
			}
		})
	}
}

func TestObjectiveZero(t *testing.T) {
	var o results.Objective
	if !o.IsZero() || o.String() != "" || o.Budget() != 0 || o.Fraction() != 0 {
		t.Errorf("zero objective: IsZero %v, String %q, Budget %v, Fraction %v", o.IsZero(), o.String(), o.Budget(), o.Fraction())
	}
}

func TestSLIKindUnmarshalText(t *testing.T) {
	tests := []struct {
		in      string
		want    results.SLIKind
		wantErr bool
	}{
		{"availability", results.SLIAvailability, false},
		{"Latency", results.SLILatency, false},
		{"uptime", "", true},
		{"", "", true},
	}
	for _, tt := range tests {
		var k results.SLIKind
		err := k.UnmarshalText([]byte(tt.in))
		if (err != nil) != tt.wantErr || k != tt.want {
			t.Errorf("UnmarshalText(%q) = %q, %v; want %q (error %v)", tt.in, k, err, tt.want, tt.wantErr)
		}
	}
}

func TestSLOSpecValidate(t *testing.T) {
	o := results.Objective{}
	if err := o.UnmarshalText([]byte("99.9")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		spec results.SLOSpec
		want []string // one line each, in order; nil = valid
	}{
		{"defaults", results.SLOSpec{Objective: o}, nil},
		{"latency", results.SLOSpec{Objective: o, Window: 28 * day, SLI: results.SLILatency, Threshold: 300 * time.Millisecond, ExcludeMaintenance: true}, nil},
		{"3d window", results.SLOSpec{Objective: o, Window: 3 * day}, nil},
		{"no objective", results.SLOSpec{}, []string{"objective: required, a percentage such as 99.9"}},
		{"latency without threshold", results.SLOSpec{Objective: o, SLI: results.SLILatency}, []string{"threshold: required for sli latency"}},
		{"negative threshold", results.SLOSpec{Objective: o, SLI: results.SLILatency, Threshold: -time.Second}, []string{"threshold: must be positive"}},
		{"threshold without latency", results.SLOSpec{Objective: o, Threshold: time.Second}, []string{"threshold: only for sli latency"}},
		{"short window", results.SLOSpec{Objective: o, Window: day}, []string{"window: 1d is shorter than 3d, the longest burn-rate window"}},
		{"negative window", results.SLOSpec{Objective: o, Window: -day}, []string{"window: must be positive"}},
		{"window not in minutes", results.SLOSpec{Objective: o, Window: 30*day + time.Second}, []string{"window: must be a whole number of minutes, the rollups' resolution"}},
		{"everything wrong", results.SLOSpec{Window: time.Hour, SLI: "uptime", Threshold: time.Second}, []string{
			"objective: required, a percentage such as 99.9",
			"window: 1h is shorter than 3d, the longest burn-rate window",
			`sli: "uptime" is not an SLI (availability or latency)`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.spec.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want %q", tt.want)
			}
			if got := strings.Split(err.Error(), "\n"); strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("Validate():\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestSLOSpecWithDefaults(t *testing.T) {
	s := results.SLOSpec{}.WithDefaults()
	if s.Window != 30*day || s.SLI != results.SLIAvailability {
		t.Errorf("WithDefaults() = window %v, sli %q; want 30d, availability", s.Window, s.SLI)
	}
	s = results.SLOSpec{Window: 28 * day, SLI: results.SLILatency}.WithDefaults()
	if s.Window != 28*day || s.SLI != results.SLILatency {
		t.Errorf("WithDefaults() overrode window %v, sli %q", s.Window, s.SLI)
	}
}

// TestBurnWindows checks the table of reference A.2 and its worked numbers.
func TestBurnWindows(t *testing.T) {
	type row struct {
		sev         string
		pct         float64
		long, short time.Duration
	}
	rows := []row{
		{"page", 2, time.Hour, 5 * time.Minute},
		{"page", 5, 6 * time.Hour, 30 * time.Minute},
		{"ticket", 10, day, 2 * time.Hour},
		{"ticket", 10, 3 * day, 6 * time.Hour},
	}
	tests := []struct {
		period  time.Duration
		factors []float64 // exact: one rounding of p·T/w
	}{
		{30 * day, []float64{14.4, 6, 3, 1}},
		{28 * day, []float64{13.44, 5.6, 2.8, 14.0 / 15}},
	}
	for _, tt := range tests {
		t.Run(results.WindowName(tt.period), func(t *testing.T) {
			got := results.BurnWindows(tt.period)
			if len(got) != len(rows) {
				t.Fatalf("BurnWindows(%v) has %d rows, want %d", tt.period, len(got), len(rows))
			}
			for i, w := range got {
				r := rows[i]
				if w.Severity != r.sev || w.BudgetPercent != r.pct || w.Long != r.long || w.Short != r.short {
					t.Errorf("row %d = %+v, want %+v", i, w, r)
				}
				if w.Factor != tt.factors[i] {
					t.Errorf("row %d factor = %.20g, want %.20g", i, w.Factor, tt.factors[i])
				}
				// Burning at the factor for the long window spends exactly the row's percentage.
				if spent := results.BudgetSpent(w.Factor, w.Long, tt.period); math.Abs(spent-r.pct/100) > 1e-12 {
					t.Errorf("row %d: %v× over %v spends %.6f of the budget, want %.2f", i, w.Factor, w.Long, spent, r.pct/100)
				}
			}
		})
	}
	if f := results.BurnWindows(28 * day)[3].Factor; math.Abs(f-0.9333) > 0.0001 {
		t.Errorf("28d slow ticket factor %v, want ≈ 0.9333", f)
	}
}

// TestWorkedNumbers reproduces A.2's numbers for 99.9 % over 30d.
func TestWorkedNumbers(t *testing.T) {
	B := mustObjective(t, "99.9").Budget()
	if B != 0.001 {
		t.Fatalf("B = %.20g, want 0.001", B)
	}
	T := 30 * day
	spent := []struct {
		burn float64
		w    time.Duration
		want float64
	}{
		{14.4, time.Hour, 0.02},
		{6, 6 * time.Hour, 0.05},
		{3, day, 0.10},
		{1, 3 * day, 0.10},
		{1, T, 1}, // burn 1 spends the whole budget in the period
	}
	for _, s := range spent {
		if got := results.BudgetSpent(s.burn, s.w, T); math.Abs(got-s.want) > 1e-12 {
			t.Errorf("%v× over %v spends %.15f, want %.3f", s.burn, s.w, got, s.want)
		}
	}
	// Error ratio at threshold (factor·B) and exhaustion at threshold (T/factor).
	ratios := []float64{0.0144, 0.006, 0.003, 0.001}
	exhaustion := []time.Duration{50 * time.Hour, 120 * time.Hour, 10 * day, 30 * day}
	for i, w := range results.BurnWindows(T) {
		if got := w.Factor * B; math.Abs(got-ratios[i]) > 1e-15 {
			t.Errorf("row %d: error ratio at threshold %v, want %v", i, got, ratios[i])
		}
		if got := time.Duration(float64(T) / w.Factor); (got - exhaustion[i]).Abs() > time.Microsecond {
			t.Errorf("row %d: exhaustion at threshold %v, want %v", i, got, exhaustion[i])
		}
	}
	// A.1: detection of 100 % errors by the 14.4× 1h rule takes 0.864 min ≈ 52 s.
	if d := time.Duration(14.4 * B * float64(time.Hour) / 1.0); (d - 51840*time.Millisecond).Abs() > time.Millisecond {
		t.Errorf("t_detect at e = 100 %% is %v, want 51.84s", d)
	}
}

func TestWindowName(t *testing.T) {
	tests := map[time.Duration]string{
		5 * time.Minute: "5m", 30 * time.Minute: "30m", time.Hour: "1h", 2 * time.Hour: "2h",
		6 * time.Hour: "6h", day: "1d", 3 * day: "3d", 30 * day: "30d", 90 * time.Minute: "90m",
		1500 * time.Millisecond: "1.5s", 0: "0s",
	}
	for d, want := range tests {
		if got := results.WindowName(d); got != want {
			t.Errorf("WindowName(%v) = %q, want %q", d, got, want)
		}
	}
}

// status builds an SLOStatus with the given windows: name → good, total.
func status(t *testing.T, objective string, windows map[string][2]int64) results.SLOStatus {
	B := mustObjective(t, objective).Budget()
	st := results.SLOStatus{Windows: map[string]results.WindowStatus{}}
	for name, gt := range windows {
		ws := results.WindowStatus{Good: gt[0], Total: gt[1]}
		if gt[1] > 0 {
			ws.ErrorRatio = float64(gt[1]-gt[0]) / float64(gt[1])
			ws.BurnRate = ws.ErrorRatio / B
		}
		st.Windows[name] = ws
	}
	return st
}

func TestBurnAlerts(t *testing.T) {
	quiet := map[string][2]int64{"30m": {30, 30}, "6h": {360, 360}, "2h": {120, 120}, "1d": {1440, 1440}, "3d": {4320, 4320}}
	with := func(extra map[string][2]int64) map[string][2]int64 {
		m := map[string][2]int64{}
		for k, v := range quiet {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name      string
		objective string
		windows   map[string][2]int64
		minBad    int64
		firing    []bool // per row of the 30d table
	}{
		{"both windows over", "99.9", with(map[string][2]int64{"1h": {58, 60}, "5m": {3, 5}}), 1, []bool{true, false, false, false}},
		{"long only", "99.9", with(map[string][2]int64{"1h": {58, 60}, "5m": {5, 5}}), 1, []bool{false, false, false, false}},
		{"short only", "99.9", with(map[string][2]int64{"1h": {60, 60}, "5m": {4, 5}}), 1, []bool{false, false, false, false}},
		// 99 %: threshold ratio 0.144; 18/125 is exactly on it and does not fire, 19/125 does.
		{"exactly at threshold", "99", with(map[string][2]int64{"1h": {107, 125}, "5m": {107, 125}}), 1, []bool{false, false, false, false}},
		{"just over threshold", "99", with(map[string][2]int64{"1h": {106, 125}, "5m": {106, 125}}), 1, []bool{true, false, false, false}},
		{"one failure, guard 1", "99.9", with(map[string][2]int64{"1h": {59, 60}, "5m": {4, 5}}), 1, []bool{true, false, false, false}},
		{"one failure, guard 2", "99.9", with(map[string][2]int64{"1h": {59, 60}, "5m": {4, 5}}), 2, []bool{false, false, false, false}},
		{"guard 0 means none", "99.9", with(map[string][2]int64{"1h": {59, 60}, "5m": {4, 5}}), 0, []bool{true, false, false, false}},
		{"slow ticket", "99.9", with(map[string][2]int64{"1h": {60, 60}, "5m": {5, 5}, "3d": {4310, 4320}, "6h": {358, 360}}), 2,
			[]bool{false, false, false, true}},
		{"page slow and ticket fast", "99.9", with(map[string][2]int64{"1h": {60, 60}, "5m": {5, 5}, "6h": {350, 360}, "30m": {29, 30}, "1d": {1420, 1440}, "2h": {118, 120}}), 1,
			[]bool{false, true, true, false}},
		{"no events", "99.9", map[string][2]int64{"5m": {0, 0}, "1h": {0, 0}}, 0, []bool{false, false, false, false}},
		{"windows missing", "99.9", map[string][2]int64{}, 0, []bool{false, false, false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := status(t, tt.objective, tt.windows)
			got := results.BurnAlerts(st, results.BurnWindows(30*day), tt.minBad)
			if len(got) != 4 {
				t.Fatalf("BurnAlerts returned %d rows, want 4", len(got))
			}
			page, ticket := false, false
			for i, s := range got {
				if s.Firing != tt.firing[i] {
					t.Errorf("row %d (%s %v/%v, %v×): firing %v, want %v (long burn %.3f, short burn %.3f, short bad %d)",
						i, s.Severity, s.Long, s.Short, s.Factor, s.Firing, tt.firing[i], s.LongBurn, s.ShortBurn, s.ShortBad)
				}
				if tt.firing[i] {
					page = page || s.Severity == results.SeverityPage
					ticket = ticket || s.Severity == results.SeverityTicket
				}
				if w, ok := st.Windows[results.WindowName(s.Long)]; ok && s.LongBurn != w.BurnRate {
					t.Errorf("row %d: long burn %v, window says %v", i, s.LongBurn, w.BurnRate)
				}
			}
			if results.Firing(got, results.SeverityPage) != page || results.Firing(got, results.SeverityTicket) != ticket {
				t.Errorf("Firing(page) = %v, Firing(ticket) = %v; want %v, %v",
					results.Firing(got, results.SeverityPage), results.Firing(got, results.SeverityTicket), page, ticket)
			}
		})
	}
}
