package statuspage_test

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/results"
	"github.com/vantageprobe/vantage/statuspage"
)

// dayRows reads the component page's daily table: date → uptime, downtime.
func dayRows(t *testing.T, body string) map[string][2]string {
	t.Helper()
	re := regexp.MustCompile(`<time datetime="(\d{4}-\d\d-\d\d)">[^<]*</time></th><td>([^<]*)</td><td>([^<]*)</td>`)
	rows := map[string][2]string{}
	for _, m := range re.FindAllStringSubmatch(body, -1) {
		rows[m[1]] = [2]string{m[2], m[3]}
	}
	if len(rows) != 90 {
		t.Fatalf("%d rows in the daily table", len(rows))
	}
	return rows
}

// TestBarsInTimeZone: the component page's days are calendar days in
// time_zone. Probes every minute from 20 October 2026, failing 10 minutes
// from 23:30 UTC on the 23rd, 75 minutes from 12:00 UTC on the 25th (in
// Berlin a 25-hour day) and 5 minutes either side of Kolkata's midnight
// on the 22nd.
func TestBarsInTimeZone(t *testing.T) {
	now := time.Date(2026, 10, 26, 12, 0, 0, 0, time.UTC)
	utc := func(d, h, m int) time.Time { return time.Date(2026, 10, d, h, m, 0, 0, time.UTC) }
	m := newMemRollups()
	probeSeries(m, "api", "eu", utc(20, 0, 0), now.Add(time.Minute), 80*time.Millisecond, func(t time.Time) bool {
		return between(utc(23, 23, 30), utc(23, 23, 40))(t) || between(utc(25, 12, 0), utc(25, 13, 15))(t) ||
			between(utc(22, 18, 20), utc(22, 18, 25))(t) || between(utc(22, 18, 40), utc(22, 18, 45))(t)
	})
	tests := []struct {
		zone string
		want map[string][2]string
	}{
		{"UTC", map[string][2]string{
			"2026-10-22": {"99.30%", "10 min"},
			"2026-10-23": {"99.30%", "10 min"}, // 23:30 UTC is the 23rd
			"2026-10-24": {"100.00%", "none"},
			"2026-10-25": {"94.79%", "1 h 15 min"}, // of 1440 minutes
			"2026-10-19": {"No data", "–"},
		}},
		{"Europe/Berlin", map[string][2]string{
			"2026-10-22": {"99.30%", "10 min"},
			"2026-10-23": {"100.00%", "none"},
			"2026-10-24": {"99.30%", "10 min"},     // 01:30 on the 24th
			"2026-10-25": {"95.00%", "1 h 15 min"}, // of 1500 minutes: the clocks went back
			"2026-10-26": {"100.00%", "none"},
		}},
		{"Asia/Kolkata", map[string][2]string{
			"2026-10-22": {"99.65%", "5 min"}, // 23:50–23:55
			"2026-10-23": {"99.65%", "5 min"}, // 00:10–00:15, and 05:00 on the 24th is 23:30 UTC
			"2026-10-24": {"99.30%", "10 min"},
			"2026-10-25": {"94.79%", "1 h 15 min"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.zone, func(t *testing.T) {
			cfg := statuspage.Config{TimeZone: tt.zone, Groups: []statuspage.Group{{Name: "API", Checks: []string{"api"}}}}
			f := newFixture(t, cfg, &fakeSource{RollupReader: m, states: map[string]statuspage.CheckState{"api": up("eu")}}, statuspage.Options{})
			f.clock.set(now)
			_, body := get(t, f.srv, "/components/api")
			rows := dayRows(t, body)
			for date, want := range tt.want {
				if got := rows[date]; got != want {
					t.Errorf("%s: %v, want %v", date, got, want)
				}
			}
			if !strings.Contains(body, "Daily uptime, last 90 days ("+tt.zone+")") {
				t.Error("the table does not name its time zone")
			}
			_, index := get(t, f.srv, "/")
			if !strings.Contains(index, "Bars: the last 90 days in "+tt.zone) {
				t.Error("the index does not name the bars' time zone")
			}
		})
	}
}

// TestComponentWeekChart: a component's page draws the last 24 hours and
// the last 7 days (168 hourly points), each with a text alternative;
// with show.regions off both are one line pair of all regions, named by
// none; with show.response_times off there is no chart.
func TestComponentWeekChart(t *testing.T) {
	off := false
	tests := []struct {
		name    string
		show    statuspage.Show
		want    []string
		notWant []string
	}{
		{"regions", statuspage.Show{}, []string{`viewBox="0 0 23 24"`, `viewBox="0 0 167 24"`, "7 days · top 200 ms",
			`aria-label="Response time, last 7 days, hourly: eu p50 `, "; us p50 ", `<path class="l1 p95" d="M0 `}, nil},
		{"regions hidden", statuspage.Show{Regions: &off}, []string{`viewBox="0 0 167 24"`,
			`aria-label="Response time, last 7 days, hourly: p50 `}, []string{"eu p50", `class="l1`}},
		{"response times hidden", statuspage.Show{ResponseTimes: &off}, nil, []string{"<svg viewBox", "7 days", "p50"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.Show = tt.show
			f := newFixture(t, cfg, fixtureSource(fixtureNow), statuspage.Options{})
			resp, body := get(t, f.srv, "/components/api-eu")
			if resp.StatusCode != 200 {
				t.Fatalf("%d", resp.StatusCode)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("%q missing", w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(body, w) {
					t.Errorf("%q shown", w)
				}
			}
		})
	}
}

// TestWeekChartUnavailable: when the 7 days cannot be read, the page
// still answers, saying so in place of the chart, and reads them again
// for the next rendering.
func TestWeekChartUnavailable(t *testing.T) {
	src := fixtureSource(fixtureNow)
	gate := &gatedRollups{RollupReader: src.RollupReader, fail: true}
	src.RollupReader = gate
	f := newFixture(t, fixtureConfig(), src, statuspage.Options{})
	resp, body := get(t, f.srv, "/components/api-eu")
	if resp.StatusCode != 200 || !strings.Contains(body, "Response time, last 7 days: not available") || !strings.Contains(body, `viewBox="0 0 23 24"`) {
		t.Fatalf("%d\n%s", resp.StatusCode, body)
	}
	gate.set(false, nil)
	f.page.Invalidate()
	if _, body := get(t, f.srv, "/components/api-eu"); !strings.Contains(body, `viewBox="0 0 167 24"`) {
		t.Error("the 7 days were not read again")
	}
}

// TestWeekReadBlocksNothingElse: while a component's page reads its 7
// days, the index and other routes of the same snapshot are served.
func TestWeekReadBlocksNothingElse(t *testing.T) {
	src := fixtureSource(fixtureNow)
	release := make(chan struct{})
	gate := &gatedRollups{RollupReader: src.RollupReader}
	src.RollupReader = gate
	f := newFixture(t, fixtureConfig(), src, statuspage.Options{})
	get(t, f.srv, "/") // built
	gate.set(false, release)
	var wg sync.WaitGroup
	var body string
	wg.Go(func() { _, body = get(t, f.srv, "/components/api-eu") })
	for _, path := range []string{"/", "/history", "/api/v2/summary.json", "/components/web"} {
		if path == "/components/web" {
			gate.set(false, nil) // web's own read goes through
		}
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		done := make(chan struct{})
		go func() { defer close(done); get(t, f.srv, path) }()
		select {
		case <-done:
		case <-ctx.Done():
			t.Errorf("GET %s waited for the other component's 7 days", path)
		}
		cancel()
	}
	close(release)
	wg.Wait()
	if !strings.Contains(body, `viewBox="0 0 167 24"`) {
		t.Error("the component page has no 7-day chart")
	}
}

// gatedRollups holds or fails reads of more than a day of minute rollups
// (the 7-day chart's first read).
type gatedRollups struct {
	results.RollupReader
	mu   sync.Mutex
	fail bool
	hold chan struct{}
}

func (g *gatedRollups) set(fail bool, hold chan struct{}) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.fail, g.hold = fail, hold
}

func (g *gatedRollups) Rollups(ctx context.Context, q results.RollupQuery) ([]results.Rollup, error) {
	if (q.Res == results.Minute || q.Res == results.Hour) && q.Until.Sub(q.Since) > 48*time.Hour {
		g.mu.Lock()
		fail, hold := g.fail, g.hold
		g.mu.Unlock()
		if fail {
			return nil, errSourceDown
		}
		if hold != nil {
			<-hold
		}
	}
	return g.RollupReader.Rollups(ctx, q)
}
