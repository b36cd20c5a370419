package alerts_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/alerts"
)

// recorder is a Notifier that keeps what it is sent; fail, when set,
// decides each attempt's error.
type recorder struct {
	mu       sync.Mutex
	got      []alerts.Notification
	attempts int
	fail     func(attempt int) error
	resolved bool
}

func (r *recorder) Notify(_ context.Context, n alerts.Notification) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts++
	if r.fail != nil {
		if err := r.fail(r.attempts); err != nil {
			return err
		}
	}
	r.got = append(r.got, n)
	return nil
}

func (r *recorder) SendResolved() bool { return r.resolved }

func (r *recorder) sent() []alerts.Notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fixture is an engine on a real SQLite store with recording notifiers.
type fixture struct {
	t     *testing.T
	path  string
	clock *clock
	notif map[string]*recorder
	opts  alerts.Options
	eng   *alerts.Engine
	store *alerts.Store
}

func newFixture(t *testing.T, rules []alerts.Rule, mod ...func(*alerts.Options)) *fixture {
	t.Helper()
	f := &fixture{t: t, path: filepath.Join(t.TempDir(), "alerts.db"),
		clock: &clock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)},
		notif: map[string]*recorder{"oncall": {resolved: true}, "hook": {resolved: true}, "mail": {resolved: false}}}
	notifiers := map[string]alerts.Notifier{}
	for k, v := range f.notif {
		notifiers[k] = v
	}
	f.opts = alerts.Options{Rules: rules, Notifiers: notifiers, Now: f.clock.now}
	for _, m := range mod {
		m(&f.opts)
	}
	f.open()
	return f
}

// open (re)starts the engine on the fixture's store file.
func (f *fixture) open() {
	f.t.Helper()
	if f.store != nil {
		f.store.Close()
	}
	st, err := alerts.OpenStore(f.t.Context(), f.path)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { st.Close() })
	f.store = st
	o := f.opts
	o.Store = st
	if f.eng, err = alerts.New(f.t.Context(), o); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) observe(check, state string, failing ...string) {
	f.t.Helper()
	err := f.eng.Observe(f.t.Context(), alerts.Observation{Check: check, State: state, Failing: failing, Regions: 3,
		Error: "connection refused", At: f.clock.now()})
	if err != nil {
		f.t.Fatal(err)
	}
}

// tick advances the clock and runs the timers, then delivers the outbox
// synchronously.
func (f *fixture) tick(d time.Duration) {
	f.t.Helper()
	f.clock.add(d)
	if err := f.eng.Tick(f.t.Context()); err != nil {
		f.t.Fatal(err)
	}
	for name, n := range f.opts.Notifiers {
		for alerts.DeliverNext(f.t.Context(), f.eng, name, n) == 0 {
		}
	}
}

func (f *fixture) want(receiver string, n int) []alerts.Notification {
	f.t.Helper()
	got := f.notif[receiver].sent()
	if len(got) != n {
		f.t.Fatalf("%s got %d notifications, want %d: %+v", receiver, len(got), n, got)
	}
	return got
}

var downRule = alerts.Rule{Name: "api-down", Checks: []string{"api", "web", "db"}, ConsecutiveFailures: 2, Notify: []string{"oncall", "hook"}}

func TestConsecutiveFailuresFireAndResolve(t *testing.T) {
	f := newFixture(t, []alerts.Rule{downRule})
	f.observe("api", "down", "eu", "us")
	f.tick(time.Minute)
	f.want("oncall", 0) // pending: one failure of two
	if a := f.eng.Alerts(); len(a) != 1 || a[0].State != "pending" {
		t.Fatalf("alerts %+v", a)
	}
	f.observe("api", "down", "eu", "us")
	f.tick(10 * time.Second)
	f.want("oncall", 0) // firing, but group_wait (30s) holds the first message
	f.tick(25 * time.Second)
	got := f.want("oncall", 1)[0]
	f.want("hook", 1)
	if got.Status != alerts.StatusFiring || got.Reason != "new" || len(got.Alerts) != 1 || got.Alerts[0].Check != "api" ||
		got.Alerts[0].Summary != "api is down in 2 of 3 regions (eu, us): connection refused" || got.GroupKey != "api-down/page" {
		t.Fatalf("notification %+v", got)
	}
	f.observe("api", "up")
	f.tick(time.Minute)
	f.want("oncall", 1) // one success of two
	f.observe("api", "up")
	f.tick(time.Second) // resolved, but group_interval (5m) since the last message holds it
	f.want("oncall", 1)
	f.tick(5 * time.Minute)
	res := f.want("oncall", 2)[1]
	if res.Status != alerts.StatusResolved || res.Reason != "resolved" || res.Alerts[0].EndsAt.IsZero() || res.GroupKey != got.GroupKey {
		t.Fatalf("resolved notification %+v", res)
	}
	f.tick(time.Hour)
	f.want("oncall", 2)
	if a := f.eng.Alerts(); len(a) != 0 {
		t.Fatalf("alerts left %+v", a)
	}
}

// TestNoAlertForBlips: a minority of regions failing (degraded), unknown
// state, or one failure between successes never notifies.
func TestNoAlertForBlips(t *testing.T) {
	f := newFixture(t, []alerts.Rule{downRule})
	for _, st := range []string{"degraded", "down", "up", "unknown", "down", "unknown", "up", "degraded"} {
		f.observe("api", st, "eu")
		f.tick(time.Minute)
	}
	f.want("oncall", 0)
}

// TestGroupedOutage: three checks going down within group_wait make one
// notification per receiver that lists all three.
func TestGroupedOutage(t *testing.T) {
	f := newFixture(t, []alerts.Rule{downRule})
	for range 2 {
		for _, c := range []string{"api", "web", "db"} {
			f.observe(c, "down", "eu", "us")
			f.tick(2 * time.Second)
		}
	}
	f.tick(30 * time.Second)
	n := f.want("oncall", 1)[0]
	var checks []string
	for _, a := range n.Alerts {
		checks = append(checks, a.Check)
	}
	if !slices.Equal(checks, []string{"api", "web", "db"}) || alerts.Title(n) != "[FIRING] api-down: api, web, db" {
		t.Fatalf("grouped checks %v, title %q", checks, alerts.Title(n))
	}
}

// TestRestartKeepsState: after a restart a firing alert is neither
// forgotten nor notified again, and its resolution is still sent.
func TestRestartKeepsState(t *testing.T) {
	f := newFixture(t, []alerts.Rule{downRule})
	f.observe("api", "down", "eu", "us")
	f.observe("api", "down", "eu", "us")
	f.tick(31 * time.Second)
	f.want("oncall", 1)
	f.open() // restart
	f.tick(time.Minute)
	f.want("oncall", 1)
	if a := f.eng.Alerts(); len(a) != 1 || a[0].State != "firing" {
		t.Fatalf("after restart: %+v", a)
	}
	f.observe("api", "up")
	f.observe("api", "up")
	f.tick(6 * time.Minute)
	if n := f.want("oncall", 2)[1]; n.Status != alerts.StatusResolved {
		t.Fatalf("after restart: %+v", n)
	}
}

// TestRemindersAndSendResolved: a still-firing group is re-sent after
// repeat_interval; a receiver with send_resolved false gets no resolved
// message.
func TestRemindersAndSendResolved(t *testing.T) {
	r := downRule
	r.Notify = []string{"oncall", "mail"}
	f := newFixture(t, []alerts.Rule{r})
	f.observe("api", "down", "eu", "us")
	f.observe("api", "down", "eu", "us")
	f.tick(31 * time.Second)
	f.tick(3 * time.Hour)
	f.want("oncall", 1)
	f.tick(61 * time.Minute)
	if n := f.want("oncall", 2)[1]; n.Reason != "reminder" || n.Status != alerts.StatusFiring {
		t.Fatalf("reminder %+v", n)
	}
	f.want("mail", 2)
	f.observe("api", "up")
	f.observe("api", "up")
	f.tick(6 * time.Minute)
	f.want("oncall", 3)
	f.want("mail", 2)
	f.tick(5 * time.Hour)
	f.want("mail", 2) // no reminder of a resolved group
}

// TestSilencesAndMaintenance mute notifications, not alerts.
func TestSilencesAndMaintenance(t *testing.T) {
	start := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	weekly := alerts.Maintenance{Name: "db patching", Checks: []string{"db"},
		Weekly: &alerts.Weekly{Days: []alerts.Weekday{alerts.Weekday(time.Wednesday)}, At: alerts.TimeOfDay{H: 11, M: 30}, Duration: 2 * time.Hour, TimeZone: "UTC"}}
	if err := weekly.Validate(); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, []alerts.Rule{downRule}, func(o *alerts.Options) {
		o.Silences = []alerts.Silence{{Matchers: []alerts.Matcher{mustMatcher(t, "check=web")}, StartsAt: start, EndsAt: start.Add(time.Hour)}}
		o.Maintenance = []alerts.Maintenance{weekly}
	})
	api, err := f.eng.AddSilence(t.Context(), alerts.Silence{Matchers: []alerts.Matcher{mustMatcher(t, "region=~eu|us"), mustMatcher(t, "check=api")},
		EndsAt: start.Add(2 * time.Hour), Comment: "deploy"})
	if err != nil || api.ID == "" {
		t.Fatalf("AddSilence: %v %+v", err, api)
	}
	for range 2 {
		for _, c := range []string{"api", "web", "db"} {
			f.observe(c, "down", "eu", "us")
		}
	}
	f.tick(31 * time.Second)
	f.want("oncall", 0)
	for _, a := range f.eng.Alerts() {
		if a.State != "firing" || !a.Muted {
			t.Fatalf("alert %+v: want firing and muted", a)
		}
	}
	// api also fails in asia, which no silence covers: it is notified.
	f.observe("api", "down", "eu", "asia")
	f.tick(6 * time.Minute)
	if n := f.want("oncall", 1)[0]; len(n.Alerts) != 1 || n.Alerts[0].Check != "api" {
		t.Fatalf("%+v", n)
	}
	// The web silence ends at 13:00: web is notified then; db's
	// maintenance runs until 13:30.
	f.tick(55 * time.Minute)
	if n := f.want("oncall", 2)[1]; len(n.Alerts) != 2 || n.Alerts[1].Check != "web" {
		t.Fatalf("after the silence: %+v", n)
	}
	f.tick(31 * time.Minute)
	if n := f.want("oncall", 3)[2]; len(n.Alerts) != 3 {
		t.Fatalf("after maintenance: %+v", n)
	}
	if ok, err := f.eng.ExpireSilence(t.Context(), api.ID); !ok || err != nil {
		t.Fatalf("ExpireSilence: %v %v", ok, err)
	}
}

func mustMatcher(t *testing.T, s string) alerts.Matcher {
	t.Helper()
	m, err := alerts.ParseMatcher(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestFlapping: an alert that starts firing a fourth time within an hour
// is held until it settles.
func TestFlapping(t *testing.T) {
	r := downRule
	r.ConsecutiveFailures, r.ResolveAfter, r.GroupWait, r.GroupInterval = 1, 1, time.Second, time.Second
	f := newFixture(t, []alerts.Rule{r})
	for range 4 {
		f.observe("api", "down", "eu", "us")
		f.tick(2 * time.Second)
		f.observe("api", "up")
		f.tick(2 * time.Second)
	}
	f.want("oncall", 6) // three firing and three resolved; the fourth cycle is held
	f.observe("api", "down", "eu", "us")
	f.tick(2 * time.Second)
	f.want("oncall", 6)
	f.tick(time.Hour) // settled: the still-firing alert goes out
	if n := f.want("oncall", 7)[6]; n.Status != alerts.StatusFiring {
		t.Fatalf("%+v", n)
	}
}

// TestCertAndBurnConditions fire without waiting and resolve as soon as
// the condition clears.
func TestCertAndBurnConditions(t *testing.T) {
	rules := []alerts.Rule{
		{Name: "cert", All: true, CertExpiry: 14, Severity: alerts.SeverityTicket, Notify: []string{"hook"}},
		{Name: "budget", Checks: []string{"api"}, SLOBurn: true, NotifyBySeverity: map[alerts.Severity][]string{"page": {"oncall"}, "ticket": {"hook"}}},
	}
	f := newFixture(t, rules)
	obs := func(days int, burns ...alerts.Burn) {
		if err := f.eng.Observe(t.Context(), alerts.Observation{Check: "api", State: "up", CertDaysLeft: days, CertKnown: true,
			Burns: append([]alerts.Burn{}, burns...), At: f.clock.now()}); err != nil {
			t.Fatal(err)
		}
	}
	fast := alerts.Burn{Severity: alerts.SeverityPage, Firing: true, Long: time.Hour, Short: 5 * time.Minute, LongRate: 21.3, ShortRate: 35, Factor: 14.4, BudgetRemaining: 0.71, ShortBad: 3}
	obs(30)
	quiet := fast
	quiet.ShortBad = 1 // one failed probe in a quiet hour: the min_bad_events guard (2) holds it
	obs(30, quiet)
	f.tick(time.Minute)
	f.want("oncall", 0)
	obs(10, fast)
	f.tick(31 * time.Second)
	page := f.want("oncall", 1)[0]
	if page.Severity != alerts.SeverityPage || page.Alerts[0].Summary !=
		"api is burning its error budget 21.3× over 1h (35.0× over 5m), page threshold 14.4×; 71% of the budget left" {
		t.Fatalf("burn notification %+v", page)
	}
	hook := f.want("hook", 1)[0]
	if hook.Rule != "cert" || hook.Alerts[0].Summary != "api: the certificate expires in 10 days (alert below 14)" {
		t.Fatalf("cert notification %+v", hook)
	}
	obs(90)
	f.tick(6 * time.Minute)
	f.want("oncall", 2)
	f.want("hook", 2)
}

// TestOutboxRetries: a provider that fails for a while gets the
// notification once it recovers; a 4xx-like permanent failure is given up;
// a restart mid-retry still delivers.
func TestOutboxRetries(t *testing.T) {
	f := newFixture(t, []alerts.Rule{downRule})
	f.notif["oncall"].fail = func(n int) error {
		if n <= 3 {
			return errors.New("503 service unavailable")
		}
		return nil
	}
	f.notif["hook"].fail = func(int) error { return alerts.Permanent(errors.New("400 bad request")) }
	f.observe("api", "down", "eu", "us")
	f.observe("api", "down", "eu", "us")
	f.tick(31 * time.Second)
	f.want("oncall", 0)
	f.open() // restart while retrying
	for range 10 {
		f.tick(time.Minute)
	}
	f.want("oncall", 1)
	f.want("hook", 0)
	if f.notif["hook"].attempts != 1 {
		t.Fatalf("a permanent failure was retried %d times", f.notif["hook"].attempts)
	}
	depth, err := f.store.OutboxDepth(t.Context())
	if err != nil || depth["oncall"] != 0 || depth["hook"] != 0 {
		t.Fatalf("outbox depth %v %v", depth, err)
	}
}

// refresher is a recorder whose receiver needs firing alerts re-sent
// every minute (as Alertmanager does).
type refresher struct{ *recorder }

func (refresher) RefreshInterval() time.Duration { return time.Minute }

// TestRefresherGetsFrequentReminders: a receiver that forgets unrefreshed
// alerts gets the firing group every minute; the others keep the rule's
// repeat_interval.
func TestRefresherGetsFrequentReminders(t *testing.T) {
	am := &recorder{resolved: true}
	f := newFixture(t, []alerts.Rule{{Name: "r", Checks: []string{"api"}, ConsecutiveFailures: 1, Notify: []string{"am", "oncall"}}},
		func(o *alerts.Options) { o.Notifiers["am"] = refresher{am} })
	f.observe("api", "down", "eu", "us")
	for range 10 {
		f.tick(31 * time.Second)
	}
	if n := len(am.sent()); n < 4 || n > 6 {
		t.Fatalf("alertmanager receiver got %d notifications in 5 minutes, want one a minute", n)
	}
	f.want("oncall", 1)
}

// TestDefaultsAndCheckOverrides: alert_defaults replace the built-in
// thresholds; a check's own override tunes the rule for that check only.
func TestDefaultsAndCheckOverrides(t *testing.T) {
	r := alerts.Rule{Name: "down", All: true, Notify: []string{"oncall"}, GroupWait: time.Second}
	f := newFixture(t, []alerts.Rule{r}, func(o *alerts.Options) {
		o.Defaults = alerts.Defaults{ConsecutiveFailures: 2}
		o.Overrides = map[string]alerts.CheckOverrides{"db": {ConsecutiveFailures: 4}}
	})
	for i := 1; i <= 4; i++ {
		f.observe("api", "down", "eu", "us")
		f.observe("db", "down", "eu", "us")
		f.tick(2 * time.Second)
		firing := map[string]bool{}
		for _, a := range f.eng.Alerts() {
			firing[a.Check] = a.State == "firing"
		}
		if firing["api"] != (i >= 2) || firing["db"] != (i >= 4) {
			t.Fatalf("after %d failures: %v (api fires at 2 from the defaults, db at 4 from its override)", i, firing)
		}
	}
}

// TestAPIMaintenance: a window made through the API mutes its checks, also
// after a restart; deleting it lets the held notification out.
func TestAPIMaintenance(t *testing.T) {
	f := newFixture(t, []alerts.Rule{downRule})
	now := f.clock.now()
	m, err := f.eng.AddMaintenance(t.Context(), alerts.Maintenance{Name: "db upgrade", Checks: []string{"api"}, Start: now.Add(-time.Minute), End: now.Add(time.Hour)})
	if err != nil || m.ID == "" {
		t.Fatalf("AddMaintenance: %v %+v", err, m)
	}
	f.open() // restart: the window is in the store
	f.observe("api", "down", "eu", "us")
	f.observe("api", "down", "eu", "us")
	f.tick(time.Minute)
	f.want("oncall", 0)
	if len(f.eng.Maintenance()) != 1 {
		t.Fatalf("maintenance after restart: %+v", f.eng.Maintenance())
	}
	if err := f.eng.DeleteMaintenance(t.Context(), m.ID); err != nil {
		t.Fatal(err)
	}
	f.tick(time.Second)
	f.want("oncall", 1)
}
