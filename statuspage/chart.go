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
// again at each subpath). One green stroke lies under every day from the
// first with data to today, titled for the days without a mark of their
// own ("Other days: 100% uptime, no incidents"); over it one stroke per run
// of days without data, and the marked days (downtime, degraded,
// maintenance or an incident): one path per distinct description, a
// subpath per run of its days, titled with its dates and the description
// ("16, 21 Sep, 4 Oct: 99.93% uptime, 1 min downtime"; the year only when
// it is not today's). So a hovered day shows its date, uptime, downtime
// and incidents by name, and days that read alike share their title. A
// marked day costs about 8 bytes plus about 70 per distinct description,
// which keeps 200 components × 90 days within 300 KB even with one day in
// six marked. The same text, one row per day, is the table of
// /components/{check}.

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
	down := u.down()
	s := percent(1-down/u.measured, down > 0, down <= 0) + " uptime"
	if down > 0 {
		s += ", " + minutesText(down) + " down"
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

// plainTitle is the title of the green stroke: what the days without a
// mark of their own were.
const plainTitle = "Other days: 100% uptime, no incidents"

// barOrder is the order of the marks: the worse colours drawn last.
var barOrder = []string{barOK, barNoData, barDegraded, barMinor, barPartial, barMajor}

// buildBars returns the strokes of days (oldest first): the green
// background, the runs without data, then one path per description of
// marked days, ordered by colour (worst last) and first day.
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
	add := func(class, d, title string) {
		if n := len(out); n > 0 && out[n-1].Class == class {
			out[n-1].Paths = append(out[n-1].Paths, barPath{D: d, Title: title})
			return
		}
		out = append(out, barView{Class: class, Paths: []barPath{{D: d, Title: title}}})
	}
	if first >= 0 {
		title := ""
		if marked {
			title = plainTitle
		}
		add(barOK, stroke(first, last), title)
	}
	for i := 0; i < len(days); i++ {
		if days[i].plain() && barClass(days[i].uptime) == barNoData {
			j := i
			for j+1 < len(days) && days[j+1].plain() && barClass(days[j+1].uptime) == barNoData {
				j++
			}
			add(barNoData, stroke(i, j), rangeText(days[i].start, days[j].start)+": no data")
			i = j
		}
	}
	if !marked {
		return out
	}
	// The marked days' descriptions, grouped by colour then text in order
	// of first appearance.
	type group struct {
		class, text string
		days        []int
	}
	var groups []*group
	index := map[[2]string]*group{}
	texts := make([]string, len(days))
	for i, d := range days {
		if d.plain() {
			continue
		}
		texts[i] = dayText(d)
		k := [2]string{barClass(d.uptime), texts[i]}
		g := index[k]
		if g == nil {
			g = &group{class: k[0], text: k[1]}
			index[k] = g
			groups = append(groups, g)
		}
		g.days = append(g.days, i)
	}
	year := days[len(days)-1].start.Year()
	for _, c := range barOrder {
		for _, g := range groups {
			if g.class != c {
				continue
			}
			var d strings.Builder
			dates := make([]time.Time, len(g.days))
			for n, i := range g.days {
				dates[n] = days[i].start
				if n == 0 || g.days[n-1] != i-1 { // a new run
					j := n
					for j+1 < len(g.days) && g.days[j+1] == g.days[j]+1 {
						j++
					}
					d.WriteString(stroke(i, g.days[j]))
				}
			}
			add(c, d.String(), datesText(dates, year)+": "+g.text)
		}
	}
	return out
}

// datesText lists days (ascending) as short as it reads: "29 Aug, 16, 21
// Sep", the year after a month only when it is not year.
func datesText(dates []time.Time, year int) string {
	var b strings.Builder
	var month time.Time // of the dates not yet followed by their month
	for _, t := range dates {
		m := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
		switch {
		case b.Len() == 0:
		case m.Equal(month):
			b.WriteString(", ")
		default:
			b.WriteString(monthText(month, m, year) + ", ")
		}
		month = m
		b.WriteString(strconv.Itoa(t.Day()))
	}
	b.WriteString(monthText(month, time.Time{}, year))
	return b.String()
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
				b.WriteString("l" + strconv.Itoa(n))
				if n*dy > 0 {
					b.WriteString(" ")
				}
				b.WriteString(strconv.Itoa(n * dy))
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
