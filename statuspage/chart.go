package statuspage

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/vantageprobe/vantage/results"
)

// Day bars are one SVG per component, 90 columns 3 units apart, each bar 2
// units wide: a run of days that need no label of their own (green days
// without incidents, days without data) is one dashed stroke
// (stroke-dasharray 2 1 in the stylesheet) with one <title> naming its
// dates; every other day is a stroke of its own with its own <title>. This
// keeps 200 components × 90 days in a page of a few hundred kilobytes.
const (
	barPitch = 3
	barWidth = 2
)

// dayInfo is what one bar shows.
type dayInfo struct {
	start     time.Time // UTC midnight
	uptime    dayUptime
	incidents []linkView
}

// plain reports whether the day can share a bar run with its neighbours.
func (d dayInfo) plain() bool {
	c := barClass(d.uptime)
	return len(d.incidents) == 0 && d.uptime.maintenance == 0 && (c == barOK || c == barNoData)
}

// dayLabel is a day's tooltip and accessible text.
func dayLabel(d dayInfo) string {
	var b strings.Builder
	b.WriteString(dateText(d.start))
	b.WriteString(": ")
	b.WriteString(dayText(d))
	return b.String()
}

// dayText describes a day without its date.
func dayText(d dayInfo) string {
	u := d.uptime
	if u.measured <= 0 {
		s := "no data"
		return s + incidentsText(d.incidents)
	}
	s := percent(1-u.down()/u.measured, u.down() > 0, false) + " uptime"
	if down := u.down(); down > 0 {
		s += ", " + minutesText(down) + " downtime"
	}
	if u.degraded > 0 && u.down() <= 0 {
		s += ", degraded"
	}
	if u.maintenance > 0 {
		s += ", maintenance"
	}
	return s + incidentsText(d.incidents)
}

func incidentsText(in []linkView) string {
	if len(in) == 0 {
		return ""
	}
	names := make([]string, len(in))
	for i, l := range in {
		names[i] = l.Text
	}
	return "; incidents: " + strings.Join(names, ", ")
}

// dateText is "5 Jan 2026".
func dateText(t time.Time) string { return t.Format("2 Jan 2006") }

// buildBars returns the bar strokes of days (oldest first).
func buildBars(days []dayInfo) []barView {
	var out []barView
	for i := 0; i < len(days); {
		j := i
		if days[i].plain() {
			for j+1 < len(days) && days[j+1].plain() && barClass(days[j+1].uptime) == barClass(days[i].uptime) {
				j++
			}
		}
		title := dayLabel(days[i])
		if j > i {
			title = dateText(days[i].start) + " – " + dateText(days[j].start) + ": " + dayText(days[i])
			if days[i].uptime.measured > 0 {
				title = dateText(days[i].start) + " – " + dateText(days[j].start) + ": 100.00% uptime"
			}
		}
		length := (j-i+1)*barPitch - (barPitch - barWidth)
		out = append(out, barView{
			Class: barClass(days[i].uptime),
			D:     "M" + strconv.Itoa(i*barPitch) + " 15h" + strconv.Itoa(length),
			Title: title,
		})
		i = j + 1
	}
	return out
}

// barsWidth is the viewBox width of the bars.
const barsWidth = historyDays*barPitch - (barPitch - barWidth)

// chartSeries is one line pair (p50, p95) of the response-time chart.
type chartSeries struct {
	name  string // region, or "" when regions are merged
	class string // CSS class of its lines
	hours [chartHours]results.Histogram
}

// Chart geometry: x runs 0…23 (one unit per hour), y 0…40, stretched to
// the box by preserveAspectRatio="none" (lines keep their width with
// vector-effect: non-scaling-stroke in the stylesheet).
const (
	chartHeight = 40
	chartPad    = 2
)

// buildChart draws the p50 (solid) and p95 (dashed) of each series.
func buildChart(series []chartSeries) chartView {
	var p [][2][chartHours]time.Duration
	var top time.Duration
	for _, s := range series {
		var q [2][chartHours]time.Duration
		for h := range s.hours {
			q[0][h], q[1][h] = s.hours[h].Quantile(0.5), s.hours[h].Quantile(0.95)
			top = max(top, q[1][h])
		}
		p = append(p, q)
	}
	if top == 0 {
		return chartView{Empty: true, Label: "Response time, last 24 hours: no data"}
	}
	top = niceCeil(top)
	cv := chartView{Max: msText(top)}
	for i, s := range series {
		cv.Lines = append(cv.Lines,
			lineView{Class: s.class, D: linePath(p[i][0], top)},
			lineView{Class: s.class + " p95", D: linePath(p[i][1], top)})
	}
	return cv
}

// linePath is a path through the hourly values; hours without data break
// the line, and a lone hour is a dot. Steps of the same slope are one
// command ("h5" for five flat hours), which keeps flat lines short.
func linePath(v [chartHours]time.Duration, top time.Duration) string {
	yOf := func(d time.Duration) int {
		return chartHeight - chartPad - int(math.Round(float64(d)/float64(top)*(chartHeight-2*chartPad)))
	}
	var b strings.Builder
	for first := 0; first < len(v); {
		if v[first] <= 0 {
			first++
			continue
		}
		last := first
		for last+1 < len(v) && v[last+1] > 0 {
			last++
		}
		b.WriteString("M" + strconv.Itoa(first) + " " + strconv.Itoa(yOf(v[first])))
		if first == last {
			b.WriteString("h0")
		}
		for x := first + 1; x <= last; {
			dy := yOf(v[x]) - yOf(v[x-1])
			n := 1
			for x+n <= last && yOf(v[x+n])-yOf(v[x+n-1]) == dy {
				n++
			}
			if dy == 0 {
				b.WriteString("h" + strconv.Itoa(n))
			} else {
				b.WriteString("l" + strconv.Itoa(n) + " " + strconv.Itoa(n*dy))
			}
			x += n
		}
		first = last + 1
	}
	return b.String()
}

// niceCeil rounds d up to 1, 2 or 5 times a power of ten milliseconds.
func niceCeil(d time.Duration) time.Duration {
	ms := float64(d) / float64(time.Millisecond)
	if ms <= 1 {
		return time.Millisecond
	}
	p := math.Pow(10, math.Floor(math.Log10(ms)))
	for _, m := range []float64{1, 2, 5, 10} {
		if ms <= m*p {
			return time.Duration(m * p * float64(time.Millisecond))
		}
	}
	return d
}
