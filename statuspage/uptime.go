package statuspage

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// partialWeight is how much a minute of partial outage counts as downtime
// (reference C.2: down = major + 0.3 · partial).
const partialWeight = 0.3

// dayUptime is one component's day: minutes measured, of major outage
// (a quorum of regions failing), of partial outage (some regions failing,
// fewer than the quorum), degraded, and under maintenance.
type dayUptime struct {
	measured, major, partial, degraded, maintenance float64
}

// down is the day's weighted downtime in minutes: major + 0.3 · partial,
// after excusing maintenance minutes (major first).
func (d dayUptime) down() float64 {
	major := max(0, d.major-d.maintenance)
	partial := max(0, d.partial-max(0, d.maintenance-d.major))
	return major + partialWeight*partial
}

// estimateDay turns the per-region counts of one day into state minutes.
// Rollups count probes, not minutes, and do not say which regions failed
// at the same time; the estimate assumes outages seen by several regions
// overlap (as a real outage does): with each region's failing share f and
// q the quorum, major = the q-th largest f, partial = the largest f − major,
// each times the measured minutes. With one region it is exact: major = f.
func estimateDay(regions []counts, quorum int, measured float64) dayUptime {
	var fails, degs []float64
	for _, c := range regions {
		if c.total > 0 {
			fails = append(fails, float64(c.failed)/float64(c.total))
			degs = append(degs, float64(c.degraded)/float64(c.total))
		}
	}
	if len(fails) == 0 || measured <= 0 {
		return dayUptime{}
	}
	slices.SortFunc(fails, func(a, b float64) int { return -cmp.Compare(a, b) })
	q := quorum
	if q <= 0 {
		q = len(fails)/2 + 1
	}
	q = min(q, len(fails))
	major := fails[q-1]
	return dayUptime{
		measured: measured,
		major:    major * measured,
		partial:  (fails[0] - major) * measured,
		degraded: slices.Max(degs) * measured,
	}
}

// Bar colour classes (CSS), from the day's weighted downtime.
const (
	barNoData   = "nd" // grey
	barOK       = "ok" // green
	barDegraded = "dg" // green with a marker: degraded, no downtime
	barMinor    = "mi" // yellow: ≤ 5 min
	barPartial  = "pa" // orange: ≤ 60 min
	barMajor    = "ma" // red
)

// barClass is the colour of a day bar (reference C.2).
func barClass(d dayUptime) string {
	down := d.down()
	switch {
	case d.measured <= 0:
		return barNoData
	case down <= 0 && d.degraded > 0:
		return barDegraded
	case down <= 0:
		return barOK
	case down <= 5:
		return barMinor
	case down <= 60:
		return barPartial
	}
	return barMajor
}

// uptimeRatio is 1 − Σdown / Σmeasured over days; false without data.
func uptimeRatio(days []dayUptime) (ratio float64, anyDown, ok bool) {
	var down, measured float64
	for _, d := range days {
		if d.measured > 0 {
			down += d.down()
			measured += d.measured
		}
	}
	if measured == 0 {
		return 0, false, false
	}
	return 1 - down/measured, down > 0, true
}

// percent formats ratio as a percentage with two decimals, truncated, not
// rounded: any downtime shows below 100.00 %. trim drops trailing zeros
// ("99.9%", "100%") as badges do.
func percent(ratio float64, anyDown, trim bool) string {
	hundredths := math.Floor(ratio*10000 + 1e-9)
	if anyDown && hundredths >= 10000 {
		hundredths = 9999
	}
	hundredths = max(0, hundredths)
	s := strconv.FormatFloat(hundredths/100, 'f', 2, 64)
	if trim {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s + "%"
}

// minutesText is "11 min", "1 h 5 min" for a downtime.
func minutesText(m float64) string {
	n := int(math.Ceil(m - 1e-9))
	if n < 60 {
		return strconv.Itoa(n) + " min"
	}
	h, rest := n/60, n%60
	if rest == 0 {
		return strconv.Itoa(h) + " h"
	}
	return strconv.Itoa(h) + " h " + strconv.Itoa(rest) + " min"
}

// msText formats a latency as "123 ms" (or "1.2 s").
func msText(d time.Duration) string {
	if d >= 10*time.Second {
		return strconv.FormatFloat(d.Seconds(), 'f', 0, 64) + " s"
	}
	if d >= time.Second {
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + " s"
	}
	return strconv.FormatInt(d.Round(time.Millisecond).Milliseconds(), 10) + " ms"
}
