package statuspage_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/statuspage"
)

// fixtureNow is the fixture's clock: a Sunday afternoon.
var fixtureNow = time.Date(2026, 3, 15, 12, 30, 0, 0, time.UTC)

// The private check: its name, target, error text and latency must never
// appear on a public endpoint.
const (
	privateCheck   = "internal-db"
	privateTarget  = "10.0.0.5"
	privateLatency = 4321 * time.Millisecond
	publicErrText  = "dial tcp 192.0.2.7:443: connection refused"
)

func fixtureConfig() statuspage.Config {
	return statuspage.Config{
		Title: "Example Status", Description: "Live status of Example's services",
		URL: "https://status.example.com", TimeZone: "Europe/Berlin",
		Groups: []statuspage.Group{
			{Name: "API", Checks: []string{"api", "api-eu"}},
			{Name: "Website", Checks: []string{"web", "checkout"}},
		},
	}
}

// history probes check × region once every 10 minutes from 60 days ago
// and once a minute over the last two days, with latency lat; fail says
// which minutes fail.
func history(m *memRollups, check, region string, now time.Time, lat time.Duration, fail func(time.Time) bool) {
	start := now.Truncate(24*time.Hour).AddDate(0, 0, -60)
	recent := now.Add(-48 * time.Hour).Truncate(time.Minute)
	for t := start; t.Before(recent); t = t.Add(10 * time.Minute) {
		probeSeries(m, check, region, t, t.Add(time.Minute), lat, fail)
	}
	probeSeries(m, check, region, recent, now.Truncate(time.Minute).Add(time.Minute), lat, fail)
}

func between(from, to time.Time) func(time.Time) bool {
	return func(t time.Time) bool { return !t.Before(from) && t.Before(to) }
}

// fixtureSource is a page's worth of data: four public checks in two
// groups (one with a region down, one in maintenance), one private check,
// open, resolved and private incidents, and maintenance of every kind.
func fixtureSource(now time.Time) *fakeSource {
	m := newMemRollups()
	outage := between(time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC), time.Date(2026, 3, 10, 10, 30, 0, 0, time.UTC))
	history(m, "api", "eu", now, 120*time.Millisecond, outage)
	history(m, "api", "us", now, 180*time.Millisecond, outage)
	history(m, "api-eu", "eu", now, 90*time.Millisecond, nil)
	history(m, "api-eu", "us", now, 150*time.Millisecond,
		between(time.Date(2026, 3, 13, 8, 0, 0, 0, time.UTC), time.Date(2026, 3, 13, 9, 0, 0, 0, time.UTC)))
	history(m, "web", "eu", now, 60*time.Millisecond, nil)
	history(m, "checkout", "eu", now, 300*time.Millisecond, nil)
	history(m, privateCheck, "eu", now, privateLatency, func(time.Time) bool { return true })

	apiEU := statuspage.CheckState{State: statuspage.StateDegraded, Regions: []statuspage.RegionState{
		{Region: "eu", State: statuspage.StateUp},
		{Region: "us", State: statuspage.StateDown, Error: publicErrText},
	}}
	db := withState(statuspage.StateDown, "eu")
	db.Regions[0].Error = "dial tcp " + privateTarget + ":5432: connection refused"
	return &fakeSource{
		RollupReader: m,
		states: map[string]statuspage.CheckState{
			"api": up("eu", "us"), "api-eu": apiEU, "web": up("eu"),
			"checkout": withState(statuspage.StateDegraded, "eu"), privateCheck: db,
		},
		events: statuspage.Events{
			Incidents: []statuspage.Incident{
				{Title: "Elevated API errors", Status: statuspage.Identified, Impact: statuspage.ImpactMajor, Checks: []string{"api"},
					Updates: []statuspage.Update{
						{At: now.Add(-2 * time.Hour), Status: statuspage.Investigating, Body: "We are looking into it."},
						{At: now.Add(-time.Hour), Status: statuspage.Identified, Body: "A bad deploy; rolling back. Details: https://example.com/postmortem."},
					}},
				{ID: "dns-1", Title: "DNS resolution failures", Status: statuspage.Resolved, Impact: statuspage.ImpactMinor, Checks: []string{"web"},
					Updates: []statuspage.Update{
						{At: time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC), Status: statuspage.Investigating, Body: "Names do not resolve."},
						{At: time.Date(2026, 3, 10, 10, 40, 0, 0, time.UTC), Status: statuspage.Resolved, Body: "Fixed."},
					}},
				{ID: "secret-1", Title: "Replica lag on " + privateCheck, Status: statuspage.Investigating, Impact: statuspage.ImpactCritical,
					Checks:  []string{privateCheck},
					Updates: []statuspage.Update{{At: now.Add(-time.Hour), Status: statuspage.Investigating, Body: "Replica " + privateTarget + " lags."}}},
			},
			Maintenance: []statuspage.Maintenance{
				{Name: "Checkout upgrade", Description: "New payment provider.", Checks: []string{"checkout"},
					Start: now.Add(-30 * time.Minute), End: now.Add(time.Hour)},
				{Name: "Database migration", Checks: []string{"api"},
					Start: time.Date(2026, 3, 17, 2, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 17, 4, 0, 0, 0, time.UTC)},
				{Name: "Web server patching", Checks: []string{"web"},
					Start: time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 1, 7, 0, 0, 0, time.UTC)},
				{Name: privateCheck + " patching", Checks: []string{privateCheck},
					Start: now.Add(-time.Hour), End: now.Add(time.Hour)},
			},
		},
	}
}

// fixture is a page on the fixture source, served on loopback.
type fixture struct {
	page  *statuspage.Page
	src   *fakeSource
	clock *clock
	srv   *httptest.Server
}

func newFixture(t testing.TB, cfg statuspage.Config, src *fakeSource, o statuspage.Options) *fixture {
	t.Helper()
	f := &fixture{src: src, clock: newClock(fixtureNow)}
	o.Now = f.clock.Now
	p, err := statuspage.New(cfg, src, o)
	if err != nil {
		t.Fatal(err)
	}
	f.page = p
	f.srv = httptest.NewServer(p.Handler())
	t.Cleanup(f.srv.Close)
	return f
}
