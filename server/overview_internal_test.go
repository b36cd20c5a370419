package server

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/config"
	"github.com/vantageprobe/vantage/probes"
	"github.com/vantageprobe/vantage/results"
)

func TestOverviewRow(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	check := config.Check{Name: "api", Interval: 30 * time.Second, Regions: []string{"eu", "us"}, Quorum: 2,
		HTTP: &probes.HTTPSpec{URL: "http://api.internal/"}}
	hidden := check
	hidden.HideTarget = true
	eu := results.Record{Region: "eu", Started: now.Add(-20 * time.Second), Duration: 12345 * time.Microsecond, OK: true}
	us := results.Record{Region: "us", Started: now.Add(-5 * time.Second), Duration: 2 * time.Second,
		ErrorClass: "connect", Error: "dial tcp api.internal:80: connection refused"}
	warned := results.Record{Region: "eu", Started: now, Duration: time.Millisecond, OK: true, Degraded: true,
		Warning: "certificate of api.internal expires in 5 days"}
	fine := results.Record{Region: "eu", Started: now, Duration: 3 * time.Millisecond, OK: true}
	staleUS := us
	staleUS.Started = now.Add(-5 * time.Minute)
	gone := us // from a region the check has left, and newer than the rest
	gone.Region, gone.Started = "ap", now.Add(time.Second)
	mute := results.Record{Region: "us", Started: now.Add(-time.Second), Duration: time.Second} // failed, no text
	tests := []struct {
		name   string
		check  config.Check
		latest []results.Record
		want   overviewRow
	}{
		{"no result", check, nil, overviewRow{State: StateUnknown}},
		{"the newest region's result", check, []results.Record{eu, us},
			overviewRow{State: StateDegraded, Last: true, Started: "11:59:55 UTC", Duration: "2000.0 ms", Detail: "connect: dial tcp api.internal:80: connection refused"}},
		{"milliseconds to a tenth", check, []results.Record{eu},
			overviewRow{State: StateUp, Last: true, Started: "11:59:40 UTC", Duration: "12.3 ms"}},
		{"a warning", check, []results.Record{warned},
			overviewRow{State: StateDegraded, Last: true, Started: "12:00:00 UTC", Duration: "1.0 ms", Detail: "certificate of api.internal expires in 5 days"}},
		{"hide_target hides the error, keeps its class", hidden, []results.Record{us},
			overviewRow{State: StateDegraded, Last: true, Started: "11:59:55 UTC", Duration: "2000.0 ms", Detail: "connect: details hidden (hide_target)"}},
		{"hide_target hides the warning", hidden, []results.Record{warned},
			overviewRow{State: StateDegraded, Last: true, Started: "12:00:00 UTC", Duration: "1.0 ms", Detail: "details hidden (hide_target)"}},
		{"the newest is fine, another region is not: it says why", check, []results.Record{us, fine},
			overviewRow{State: StateDegraded, Last: true, Started: "12:00:00 UTC", Duration: "3.0 ms", Detail: "us: connect: dial tcp api.internal:80: connection refused"}},
		{"a stale failure does not explain", check, []results.Record{staleUS, fine},
			overviewRow{State: StateUp, Last: true, Started: "12:00:00 UTC", Duration: "3.0 ms"}},
		{"a region the check no longer uses neither explains nor is the newest", check, []results.Record{gone, fine},
			overviewRow{State: StateUp, Last: true, Started: "12:00:00 UTC", Duration: "3.0 ms"}},
		{"a failure without a text does not explain", check, []results.Record{mute, fine},
			overviewRow{State: StateDegraded, Last: true, Started: "12:00:00 UTC", Duration: "3.0 ms"}},
		{"hidden in the region's detail too", hidden, []results.Record{us, fine},
			overviewRow{State: StateDegraded, Last: true, Started: "12:00:00 UTC", Duration: "3.0 ms", Detail: "us: connect: details hidden (hide_target)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.want.Name, tt.want.Href, tt.want.Type = "api", "/api/v1/checks/api", "http"
			if got := overviewRowOf(tt.check, tt.latest, now); got != tt.want {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestOverviewPageEscapes: the page is HTML-escaped, texts and links alike.
func TestOverviewPageEscapes(t *testing.T) {
	d := overviewData{Now: "now", Up: 1, Rows: []overviewRow{{
		Name: "a<b", Href: "/api/v1/checks/a%3Cb", Type: "http", State: StateDown, Last: true,
		Started: "12:00:00 UTC", Duration: "1.0 ms", Detail: `status: got 500, body "<script>alert(1)</script>"`,
	}, {Name: "fresh", Href: "/api/v1/checks/fresh", Type: "tcp", State: StateUnknown}}}
	var b bytes.Buffer
	if err := overviewPage(d).Render(t.Context(), &b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{
		"<title>Vantage — 2 checks</title>",
		"1 up, 0 degraded, 0 down, 0 unknown — as of now.",
		`<a href="/api/v1/checks/a%3Cb">a&lt;b</a>`,
		`<td class="state down">down</td>`,
		`&lt;script&gt;alert(1)&lt;/script&gt;`,
		"<td>no result yet</td>",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, "<script>") {
		t.Errorf("unescaped text in the page:\n%s", page)
	}
}
