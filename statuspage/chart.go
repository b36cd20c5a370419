package statuspage

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/vantageprobe/vantage/results"
)

// Day bars are one SVG per component, 90 columns 1 unit apart (x is the
// day's index: short numbers), each bar ⅔ unit wide, drawn as dashed
// strokes (stroke-dasharray .667 .333 in the stylesheet; the pattern starts
// again at each subpath): one green stroke under every day from the first with data
// to today, without a title (the days not marked are 100 %; the uptime
// and the count of marked days are in the text beside and the accessible
// label), and over it one stroke per run of
// days without data, and one path per colour for the days that are not
// plain green (downtime, degraded, maintenance or an incident): a subpath
// per run of adjacent days of that colour, one <title> naming the colour's
// meaning and its dates ("≤ 60 min down: 30 Dec 2025, 8, 21 Jan": the
// year only when it is not today's; a day's
// incidents by count, its maintenance). Each day's uptime, downtime and
// incidents by name are in the table of /components/{check}. A marked
// day costs about 12 bytes, so 200 components × 90 days stay within 300
// KB even with one day in six marked.

// barsViewBox is the viewBox of the bars: 90 days, less the gap after the
// last.
const barsViewBox = "0 -15 89.667 30"

// dayInfo is what one bar shows.
type dayInfo struct {
	start     time.Time // UTC midnight
	uptime    dayUptime
	incidents []linkView
}

// plain reports whether the day needs no mark of its own: green without
// incidents or maintenance, or (in a run) without data.
func (d dayInfo) plain() bool {
	c := barClass(d.uptime)
	return len(d.incidents) == 0 && d.uptime.maintenance == 0 && (c == barOK || c == barNoData)
}

// dayLabel is a day's accessible text.
func dayLabel(d dayInfo) string {
	return dateText(d.start) + ": " + dayText(d)
}

// dayText describes a day without its date.
func dayText(d dayInfo) string {
	u := d.uptime
	if u.measured <= 0 {
		return "no data" + incidentsText(d.incidents)
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

// rangeText is a range of days as short as it reads: "5–9 Jan 2026",
// "30 Jan – 2 Feb 2026", "30 Dec 2025 – 2 Jan 2026".
func rangeText(a, b time.Time) string {
	switch {
	case a.Equal(b):
		return dateText(a)
	case a.Year() != b.Year():
		return dateText(a) + " – " + dateText(b)
	case a.Month() != b.Month():
		return a.Format("2 Jan") + " – " + dateText(b)
	}
	return a.Format("2") + "–" + dateText(b)
}

// barWords is what a colour of marked days means, in its <title>.
var barWords = map[string]string{
	barOK:       "Incidents or maintenance",
	barNoData:   "No data",
	barDegraded: "Degraded",
	barMinor:    "≤ 5 min down",
	barPartial:  "≤ 60 min down",
	barMajor:    "Over 60 min down",
}

// barOrder is the order of the marks: the worse colours drawn last.
var barOrder = []string{barOK, barNoData, barDegraded, barMinor, barPartial, barMajor}

// buildBars returns the strokes of days (oldest first): the green
// background, the runs without data, then one path per colour of marked
// days.
func buildBars(days []dayInfo) []barView {
	first, last := -1, -1
	marked := false
	for i, d := range days {
		if d.uptime.measured > 0 {
			if first < 0 {
				first = i
			}
			last = i
		}
		marked = marked || !d.plain()
	}
	var out []barView
	if first >= 0 { // no title: the component's text says the uptime
		out = append(out, barView{Class: barOK, D: stroke(first, last)})
	}
	for i := 0; i < len(days); i++ {
		if days[i].plain() && barClass(days[i].uptime) == barNoData {
			j := i
			for j+1 < len(days) && days[j+1].plain() && barClass(days[j+1].uptime) == barNoData {
				j++
			}
			out = append(out, barView{Class: barNoData, D: stroke(i, j), Title: rangeText(days[i].start, days[j].start) + ": no data"})
			i = j
		}
	}
	if !marked {
		return out
	}
	for _, c := range barOrder {
		var d, title strings.Builder
		var month time.Time // of the dates not yet followed by their month
		year := days[len(days)-1].start.Year()
		for i := 0; i < len(days); i++ {
			if days[i].plain() || barClass(days[i].uptime) != c {
				continue
			}
			j := i
			for j+1 < len(days) && !days[j+1].plain() && barClass(days[j+1].uptime) == c {
				j++
			}
			d.WriteString(stroke(i, j))
			for k := i; k <= j; k++ {
				t := days[k].start
				m := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
				switch {
				case title.Len() == 0:
					title.WriteString(barWords[c] + ": ")
				case m.Equal(month):
					title.WriteString(", ")
				default:
					title.WriteString(monthText(month, m, year) + ", ")
				}
				month = m
				title.WriteString(strconv.Itoa(t.Day()) + dayNotes(days[k]))
			}
			i = j
		}
		if d.Len() > 0 {
			title.WriteString(monthText(month, time.Time{}, year))
			out = append(out, barView{Class: c, D: d.String(), Title: title.String()})
		}
	}
	return out
}

// monthText follows the last date of month m: " Sep", or " Dec 2025"
// when the next date (next, zero at the end) is in another year and m is
// not in this year (today's, the bars' last day).
func monthText(m, next time.Time, year int) string {
	if m.Year() != year && (next.IsZero() || next.Year() != m.Year()) {
		return m.Format(" Jan 2006")
	}
	return m.Format(" Jan")
}

// dayNotes is a marked day's incidents (by count) and maintenance.
func dayNotes(d dayInfo) string {
	var s []string
	switch n := len(d.incidents); n {
	case 0:
	case 1:
		s = append(s, "1 incident")
	default:
		s = append(s, strconv.Itoa(n)+" incidents")
	}
	if d.uptime.maintenance > 0 {
		s = append(s, "maintenance")
	}
	if len(s) == 0 {
		return ""
	}
	return " (" + strings.Join(s, ", ") + ")"
}

// stroke is the path of the bars of days i…j.
func stroke(i, j int) string {
	return "M" + strconv.Itoa(i) + " 0h" + strconv.Itoa(j-i+1)
}

// chartSeries is one line pair (p50, p95) of a response-time chart.
type chartSeries struct {
	name     string             // region, or "" when regions are merged
	class    string             // CSS class of its lines
	q        [2][]time.Duration // p50 and p95 of each hour, oldest first; 0 = no data
	p50, p95 bool               // which lines to draw
}

// quantiles fills in the p50 and p95 of each hour.
func (s *chartSeries) quantiles(hours []results.Histogram) {
	s.q = [2][]time.Duration{make([]time.Duration, len(hours)), make([]time.Duration, len(hours))}
	for h := range hours {
		s.q[0][h], s.q[1][h] = hours[h].Quantile(0.5), hours[h].Quantile(0.95)
	}
}

// Chart geometry: x runs 0…23 (one unit per hour; 0…167 for 7 days), y
// 0…24 (20 steps between the pads: finer steps would mostly draw noise, in
// bytes), stretched to the box by preserveAspectRatio="none" (lines keep
// their width with vector-effect: non-scaling-stroke in the stylesheet).
const (
	chartHeight = 24
	chartPad    = 2
)

// Chart spans, as captions say them.
const (
	daySpan  = "24 h"
	weekSpan = "7 days"
)

// buildChart draws the p50 (solid) and p95 (dashed) of each series, all
// of the same length; span names it.
func buildChart(series []chartSeries, span string) chartView {
	var top time.Duration
	points := 0
	for _, s := range series {
		points = max(points, len(s.q[0]))
		for h := range s.q[0] {
			if s.p95 {
				top = max(top, s.q[1][h])
			}
			if s.p50 {
				top = max(top, s.q[0][h])
			}
		}
	}
	if top == 0 {
		return chartView{Empty: true, Span: span, Label: "Response time, last " + spanWords(span) + ": no data"}
	}
	top = niceCeil(top)
	cv := chartView{Max: msText(top), Span: span, Width: points - 1}
	for _, s := range series {
		if s.p50 {
			cv.Lines = append(cv.Lines, lineView{Class: s.class, D: linePath(s.q[0], top)})
		}
		if s.p95 {
			cv.Lines = append(cv.Lines, lineView{Class: s.class + " p95", D: linePath(s.q[1], top)})
		}
	}
	return cv
}

// linePath is a path through the hourly values; hours without data break
// the line, and a lone hour is a dot. It is written short: flat runs as
// "h5", runs of one slope as one step, and steps after an "l" without
// repeating it ("l1 2 1-3").
func linePath(v []time.Duration, top time.Duration) string {
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
		inL := false
		for x := first + 1; x <= last; {
			dy := yOf(v[x]) - yOf(v[x-1])
			n := 1
			for x+n <= last && yOf(v[x+n])-yOf(v[x+n-1]) == dy {
				n++
			}
			switch {
			case dy == 0:
				b.WriteString("h" + strconv.Itoa(n))
				inL = false
			case !inL:
				b.WriteString("l" + strconv.Itoa(n) + " " + strconv.Itoa(n*dy))
				inL = true
			default: // an implicit "l": a space, unless the sign separates
				b.WriteString(" " + strconv.Itoa(n))
				if n*dy > 0 {
					b.WriteString(" ")
				}
				b.WriteString(strconv.Itoa(n * dy))
			}
			x += n
		}
		first = last + 1
	}
	return b.String()
}

// spanWords is a span as a phrase: "24 hours", "7 days".
func spanWords(span string) string {
	if span == daySpan {
		return "24 hours"
	}
	return span
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
