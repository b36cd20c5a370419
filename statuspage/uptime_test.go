package statuspage

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestEstimateDay: per-region failing shares become major and partial
// minutes, with reference C.7's worked example.
func TestEstimateDay(t *testing.T) {
	c := func(total, failed int64) counts { return counts{total: total, failed: failed} }
	tests := []struct {
		name           string
		regions        []counts
		quorum         int
		major, partial float64
		uptime         float64
	}{
		// C.7: major 60 min + partial 100 min → down 90 min → 93.75 %.
		{"C.7 worked example", []counts{c(1440, 160), c(1440, 60), c(1440, 60)}, 2, 60, 100, 0.9375},
		{"one region is exact", []counts{c(1440, 30)}, 0, 30, 0, 1 - 30.0/1440},
		{"one of three down all day: partial", []counts{c(1440, 1440), c(1440, 0), c(1440, 0)}, 0, 0, 1440, 0.7},
		{"all down all day", []counts{c(10, 10), c(10, 10)}, 0, 1440, 0, 0},
		{"quorum 1: any region down is major", []counts{c(100, 50), c(100, 0)}, 1, 720, 0, 0.5},
		{"regions without data do not count", []counts{c(0, 0), c(100, 0)}, 0, 0, 0, 1},
		{"quorum above the regions with data", []counts{c(100, 10), c(0, 0)}, 2, 144, 0, 0.9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := estimateDay(tt.regions, tt.quorum, 1440)
			if math.Abs(d.major-tt.major) > 1e-9 || math.Abs(d.partial-tt.partial) > 1e-9 {
				t.Errorf("major %.3f partial %.3f, want %.3f %.3f", d.major, d.partial, tt.major, tt.partial)
			}
			if r, _, _ := uptimeRatio([]dayUptime{d}); math.Abs(r-tt.uptime) > 1e-9 {
				t.Errorf("uptime %.6f, want %.6f", r, tt.uptime)
			}
		})
	}
	if d := estimateDay(nil, 0, 1440); d.measured != 0 || barClass(d) != barNoData {
		t.Errorf("no regions: %+v %s", d, barClass(d))
	}
}

// TestBarClass: colour steps by weighted downtime minutes, maintenance
// excused, degraded marked but not down.
func TestBarClass(t *testing.T) {
	tests := []struct {
		d    dayUptime
		want string
	}{
		{dayUptime{}, barNoData},
		{dayUptime{measured: 1440}, barOK},
		{dayUptime{measured: 1440, degraded: 30}, barDegraded},
		{dayUptime{measured: 1440, major: 5}, barMinor},
		{dayUptime{measured: 1440, partial: 16}, barMinor}, // 4.8 min
		{dayUptime{measured: 1440, major: 5.5}, barPartial},
		{dayUptime{measured: 1440, major: 60}, barPartial},
		{dayUptime{measured: 1440, partial: 201}, barMajor}, // 60.3 min
		{dayUptime{measured: 1440, major: 61}, barMajor},
		{dayUptime{measured: 1440, major: 61, maintenance: 61}, barOK},
		{dayUptime{measured: 1440, major: 10, partial: 100, maintenance: 40}, barPartial}, // 0 + 0.3·70 = 21
	}
	for _, tt := range tests {
		if got := barClass(tt.d); got != tt.want {
			t.Errorf("barClass(%+v) = %s (down %.2f), want %s", tt.d, got, tt.d.down(), tt.want)
		}
	}
}

// TestPercent: two decimals, truncated; never 100.00% after downtime.
func TestPercent(t *testing.T) {
	tests := []struct {
		ratio   float64
		down    bool
		trim    bool
		want    string
		comment string
	}{
		{1, false, false, "100.00%", "no downtime"},
		{1, false, true, "100%", "badge"},
		{1 - 1.0/(90*1440), true, false, "99.99%", "one minute in 90 days"},
		{0.99999999, true, true, "99.99%", "rounding would say 100"},
		{0.9375, true, false, "93.75%", ""},
		{0.99, true, false, "99.00%", "float 0.99·10000 = 9899.999…"},
		{0.99, true, true, "99%", ""},
		{0.999, true, true, "99.9%", ""},
		{0.12345, true, false, "12.34%", "truncated, not rounded"},
		{0, true, false, "0.00%", ""},
	}
	for _, tt := range tests {
		if got := percent(tt.ratio, tt.down, tt.trim); got != tt.want {
			t.Errorf("percent(%v, %v, %v) = %s, want %s (%s)", tt.ratio, tt.down, tt.trim, got, tt.want, tt.comment)
		}
	}
}

// TestNinetyDayUptime excludes days without data and never rounds up.
func TestNinetyDayUptime(t *testing.T) {
	days := make([]dayUptime, 90)
	for i := 60; i < 90; i++ {
		days[i] = dayUptime{measured: 1440}
	}
	if r, down, ok := uptimeRatio(days); !ok || down || r != 1 {
		t.Fatalf("30 clean days of 90: %v %v %v", r, down, ok)
	}
	days[70].major = 1 // one minute down in 30 measured days
	r, down, ok := uptimeRatio(days)
	if want := 1 - 1.0/(30*1440); !ok || !down || math.Abs(r-want) > 1e-12 {
		t.Fatalf("ratio %v, want %v (days without data excluded)", r, want)
	}
	if got := percent(r, down, false); got != "99.99%" {
		t.Errorf("shown %s", got)
	}
	if _, _, ok := uptimeRatio(make([]dayUptime, 90)); ok {
		t.Error("no data reported as a ratio")
	}
}

// TestBuildBars: a green stroke from the first day with data to today,
// titled for the days without a mark; over it a stroke per run of days
// without data, then the marked days by colour (worst last), one path per
// distinct description titled with its dates (the year only when it is not
// today's), its uptime, downtime and incidents by name; several paths of
// a colour share a <g>.
func TestBuildBars(t *testing.T) {
	start := time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)
	days := make([]dayInfo, 90)
	for i := range days {
		days[i] = dayInfo{start: start.AddDate(0, 0, i)}
		if i >= 10 {
			days[i].uptime = dayUptime{measured: 1440}
		}
	}
	for _, i := range []int{30, 31, 49, 50, 52, 60} { // 31 Dec, 1 Jan, 19, 20, 22 Jan, 30 Jan
		days[i].uptime.major = 11
	}
	days[51].uptime.major = 3
	days[60].incidents = []linkView{{Text: "Slow <b>logins</b>"}}
	days[61].incidents = []linkView{{Text: "a"}, {Text: "b"}}
	days[62].uptime.maintenance = 30
	days[70].uptime = dayUptime{} // a gap
	days[71].uptime = dayUptime{}
	bars := buildBars(days)
	var got []string
	for _, b := range bars {
		for _, p := range b.Paths {
			got = append(got, b.Class+" "+p.D+" "+p.Title)
		}
	}
	want := []string{
		"ok M10 0h80 Other days: 100% uptime, no incidents",
		"nd M0 0h10 1–10 Dec 2025: no data",
		"nd M70 0h2 9–10 Feb 2026: no data",
		"ok M61 0h1 31 Jan: 100% uptime; incidents: a, b",
		"ok M62 0h1 1 Feb: 100% uptime, maintenance",
		"mi M51 0h1 21 Jan: 99.79% uptime, 3 min down",
		"pa M30 0h2M49 0h2M52 0h1 31 Dec 2025, 1, 19, 20, 22 Jan: 99.23% uptime, 11 min down",
		"pa M60 0h1 30 Jan: 99.23% uptime, 11 min down; incidents: Slow <b>logins</b>",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("bars\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var classes []string
	for _, b := range bars {
		classes = append(classes, fmt.Sprintf("%s×%d", b.Class, len(b.Paths)))
	}
	if got := strings.Join(classes, " "); got != "ok×1 nd×2 ok×2 mi×1 pa×2" {
		t.Errorf("groups %s", got)
	}
	// The background ends at the right edge of the viewBox (less the gap
	// after the last day).
	if barsViewBox != "0 -15 "+strconv.FormatFloat(historyDays-1.0/3, 'f', 3, 64)+" 30" {
		t.Errorf("viewBox %q, want %d days", barsViewBox, historyDays)
	}
	start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// A clean history is one stroke without "not marked".
	for i := range days {
		days[i] = dayInfo{start: start.AddDate(0, 0, i), uptime: dayUptime{measured: 1440}}
	}
	if b := buildBars(days); len(b) != 1 || b[0].Paths[0] != (barPath{D: "M0 0h90"}) {
		t.Errorf("clean: %+v", b)
	}
	if b := buildBars(make([]dayInfo, 90)); len(b) != 1 || b[0].Class != barNoData {
		t.Errorf("no data: %+v", b)
	}
}

// TestLinePath: flat runs collapse, gaps break the line, a lone hour is a dot.
func TestLinePath(t *testing.T) {
	ms := time.Millisecond
	var v [chartHours]time.Duration
	for i := range v {
		v[i] = 50 * ms
	}
	if got := linePath(v[:], 100*ms); got != "M0 12h23" {
		t.Errorf("flat: %s", got)
	}
	v[5], v[6], v[7] = 0, 100*ms, 0
	v[10], v[11] = 60*ms, 70*ms
	if got, want := linePath(v[:], 100*ms), "M0 12h4M6 2h0M8 12h1l2-4 1 4h11"; got != want {
		t.Errorf("gaps: %s, want %s", got, want)
	}
	if niceCeil(130*ms) != 200*ms || niceCeil(480*ms) != 500*ms || niceCeil(1001*ms) != 2000*ms || niceCeil(90*ms) != 100*ms {
		t.Error("niceCeil")
	}
}

// TestSegments: only absolute http(s) URLs become links.
func TestSegments(t *testing.T) {
	got := segments(`See https://example.com/a?b=1. Not javascript:alert(1) nor "http://" or HTTP://X.example/y), ok`)
	var links []string
	for _, s := range got {
		if s.URL != "" {
			links = append(links, s.URL)
		}
	}
	if strings.Join(links, " ") != "https://example.com/a?b=1 http://X.example/y" {
		t.Errorf("links %q from %+v", links, got)
	}
	var text strings.Builder
	for _, s := range got {
		text.WriteString(s.Text)
	}
	if !strings.Contains(text.String(), "javascript:alert(1)") {
		t.Error("text was lost")
	}
}
