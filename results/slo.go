package results

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SLOSpec is a check's service level objective (config: checks[].slo).
//
// Events are probe executions, one per region and run (reachability,
// occurrences-based: SLI = Σgood / Σtotal over the window, all regions
// together). With sli availability an event is good when the probe passed;
// degraded counts as passed, as Checkly and openstatus count it. With sli
// latency it is good when it passed and took at most Threshold.
type SLOSpec struct {
	Objective Objective     `yaml:"objective"` // percent, e.g. 99.9, parsed as an exact decimal
	Window    time.Duration `yaml:"window"`    // rolling compliance period; default 30d
	SLI       SLIKind       `yaml:"sli"`       // availability (default) or latency
	Threshold time.Duration `yaml:"threshold"` // latency only: good = passed and Duration ≤ Threshold
	// ExcludeMaintenance leaves the check's maintenance windows out of
	// every window: their events count neither as good nor as total.
	ExcludeMaintenance bool `yaml:"exclude_maintenance"`
}

// DefaultSLOWindow is the compliance period of a spec without a window.
const DefaultSLOWindow = 30 * 24 * time.Hour

// MinSLOWindow is the shortest compliance period: the longest burn-rate
// window (3d, see BurnWindows) must fit in it.
const MinSLOWindow = 3 * 24 * time.Hour

// WithDefaults returns s with its defaults filled in: a 30d window and the
// availability SLI.
func (s SLOSpec) WithDefaults() SLOSpec {
	if s.Window == 0 {
		s.Window = DefaultSLOWindow
	}
	if s.SLI == "" {
		s.SLI = SLIAvailability
	}
	return s
}

// Validate reports every problem of s (zero window and SLI mean their
// defaults), each starting with its field.
func (s SLOSpec) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if s.Objective.IsZero() {
		add("objective: required, a percentage such as 99.9")
	}
	switch {
	case s.Window < 0:
		add("window: must be positive")
	case s.Window > 0 && s.Window < MinSLOWindow:
		add("window: %s is shorter than %s, the longest burn-rate window", WindowName(s.Window), WindowName(MinSLOWindow))
	case s.Window%time.Minute != 0:
		add("window: must be a whole number of minutes, the rollups' resolution")
	}
	switch s.SLI {
	case "", SLIAvailability:
		if s.Threshold != 0 {
			add("threshold: only for sli latency")
		}
	case SLILatency:
		if s.Threshold < 0 {
			add("threshold: must be positive")
		} else if s.Threshold == 0 {
			add("threshold: required for sli latency")
		}
	default:
		add("sli: %q is not an SLI (availability or latency)", string(s.SLI))
	}
	return errors.Join(errs...)
}

// SLIKind says which events of a check are good.
type SLIKind string

// SLI kinds. The zero value means SLIAvailability.
const (
	SLIAvailability SLIKind = "availability" // good = passed (degraded included)
	SLILatency      SLIKind = "latency"      // good = passed and no slower than the threshold
)

// UnmarshalText accepts availability and latency.
func (k *SLIKind) UnmarshalText(b []byte) error {
	switch v := SLIKind(strings.ToLower(strings.TrimSpace(string(b)))); v {
	case SLIAvailability, SLILatency:
		*k = v
		return nil
	}
	return fmt.Errorf("%q is not an SLI (availability or latency)", b)
}

// Objective is an SLO target in percent, held as an exact decimal: the
// fraction num/den of 1 with den = 100·10^k for k decimal places, so that
// 99.9 is 999/1000 and its budget exactly 1/1000 (in float64, 1 − 0.999
// is 0.0010000000000000009 and Sloth's (100 − 99.9)/100 is
// 0.0009999999999999432). The zero value is unset.
type Objective struct {
	num, den int64
}

// MaxObjectiveDecimals is the most decimal places an objective may have
// (99.999999 %): a budget below 10⁻⁸ of the events cannot be told apart
// at one probe a minute, and num/den stay exact in a float64.
const MaxObjectiveDecimals = 6

// ParseObjective parses a percentage strictly between 0 and 100 written as
// a decimal ("99", "99.9", "99.95"; a trailing "%" is allowed).
func ParseObjective(s string) (Objective, error) {
	text := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "%"))
	intPart, fracPart, hasDot := strings.Cut(text, ".")
	if !isDigits(intPart) || (hasDot && !isDigits(fracPart)) {
		return Objective{}, fmt.Errorf("%q is not a percentage such as 99.9", s)
	}
	fracPart = strings.TrimRight(fracPart, "0")
	if len(fracPart) > MaxObjectiveDecimals {
		return Objective{}, fmt.Errorf("%q has more than %d decimal places", s, MaxObjectiveDecimals)
	}
	intPart = strings.TrimLeft(intPart, "0")
	if len(intPart) > 3 {
		return Objective{}, fmt.Errorf("%q must be below 100 %%: a 100 %% objective leaves no error budget", s)
	}
	var num int64 // at most 9 digits: no overflow
	for _, c := range intPart + fracPart {
		num = num*10 + int64(c-'0')
	}
	den := int64(100)
	for range len(fracPart) {
		den *= 10
	}
	switch {
	case num == 0:
		return Objective{}, fmt.Errorf("%q must be above 0 %%", s)
	case num >= den:
		return Objective{}, fmt.Errorf("%q must be below 100 %%: a 100 %% objective leaves no error budget", s)
	}
	return Objective{num: num, den: den}, nil
}

// isDigits reports whether s is a non-empty run of ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// UnmarshalText parses the objective as ParseObjective does.
func (o *Objective) UnmarshalText(b []byte) error {
	v, err := ParseObjective(string(b))
	if err != nil {
		return err
	}
	*o = v
	return nil
}

// MarshalText returns the percentage without a sign ("99.9"), which
// UnmarshalText reads back; "" when unset.
func (o Objective) MarshalText() ([]byte, error) { return []byte(o.percent()), nil }

// String returns the percentage with a sign: "99.9%" ("" when unset).
func (o Objective) String() string {
	if o.IsZero() {
		return ""
	}
	return o.percent() + "%"
}

// percent is the decimal percentage, as few decimals as it was parsed with.
func (o Objective) percent() string {
	if o.IsZero() {
		return ""
	}
	scale := o.den / 100 // 10^k
	s := strconv.FormatInt(o.num/scale, 10)
	if scale == 1 {
		return s
	}
	frac := strconv.FormatInt(scale+o.num%scale, 10)[1:] // zero-padded to k digits
	return s + "." + frac
}

// IsZero reports whether the objective is unset.
func (o Objective) IsZero() bool { return o.den == 0 }

// Fraction returns the objective as a fraction of 1 (0.999 for 99.9 %).
func (o Objective) Fraction() float64 {
	if o.IsZero() {
		return 0
	}
	return float64(o.num) / float64(o.den)
}

// Budget returns the error budget B = 1 − objective as a fraction of 1,
// computed exactly and rounded once: 99.9 % → 0.001 (1/1000).
func (o Objective) Budget() float64 {
	if o.IsZero() {
		return 0
	}
	return float64(o.den-o.num) / float64(o.den)
}

// budgetOf returns B·n rounded once, n being minutes or events.
func (o Objective) budgetOf(n float64) float64 {
	return float64(o.den-o.num) * n / float64(o.den)
}

// WindowName names a duration the way SLO windows are written: "5m",
// "1h", "3d"; durations that are not whole minutes as time.Duration does.
func WindowName(d time.Duration) string {
	day := 24 * time.Hour
	switch {
	case d != 0 && d%day == 0:
		return strconv.FormatInt(int64(d/day), 10) + "d"
	case d != 0 && d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d != 0 && d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	return d.String()
}
