package alertmanager_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/alerts"
	"github.com/vantageprobe/vantage/alerts/alertmanager"
	"github.com/vantageprobe/vantage/alerts/alertstest"
	"github.com/vantageprobe/vantage/config"
)

const (
	password = "am-pa55word"
	bearer   = "am-bearer-t0ken"
	hostile  = `<b>x</b> & <script>alert(1)</script>`
)

type postable struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     string            `json:"startsAt"`
	EndsAt       string            `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
}

// decode checks a POST /api/v2/alerts request and returns its alerts.
func decode(t *testing.T, r alertstest.Request, path string) []postable {
	t.Helper()
	if r.Method != http.MethodPost || r.URL.Path != path || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("request %s %s (%s)", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
	}
	var out []postable
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatalf("body is not a JSON array of alerts: %v\n%s", err, r.Body)
	}
	for _, a := range out {
		if a.Labels["alertname"] == "" {
			t.Errorf("alert without alertname: %v", a.Labels)
		}
		for _, ts := range []string{a.StartsAt, a.EndsAt} {
			if _, err := time.Parse(time.RFC3339Nano, ts); ts != "" && err != nil {
				t.Errorf("time %q: %v", ts, err)
			}
		}
	}
	return out
}

var start = time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)

func notification(status alerts.Status) alerts.Notification {
	n := alerts.Notification{
		Key: "n-" + string(status), GroupKey: "g", Receiver: "am", Status: status, Rule: "api-down",
		Severity: alerts.SeverityPage, ExternalURL: "https://vantage.example.org", Time: start,
		Alerts: []alerts.Alert{{
			Status: status, Rule: "api-down", Severity: alerts.SeverityPage, Check: "api",
			Regions: []string{"eu", "us"}, State: "down", Summary: "api is down", Error: hostile,
			Target: "https://api.example.org/", URL: "https://vantage.example.org/checks/api",
			Labels:      map[string]string{"alertname": "api-down", "check": "api", "team.name": "sre", "9lives": "x", "__meta": "y"},
			Annotations: map[string]string{"runbook_url": "https://wiki.example.org/api"},
			StartsAt:    start,
		}},
	}
	if status == alerts.StatusResolved {
		n.Alerts[0].EndsAt = start.Add(7 * time.Minute)
	}
	return n
}

func newNotifier(t *testing.T, c alertmanager.Config, logs io.Writer) *alertmanager.Notifier {
	t.Helper()
	n, err := alertmanager.New(c, alertmanager.Options{Logger: alertstest.Logger(logs)})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return n
}

// TestPostableAlerts checks the request: path under a prefix, basic auth,
// labels that identify (sanitised, defaults filled, configured ones
// added), annotations that describe, and endsAt only once resolved.
func TestPostableAlerts(t *testing.T) {
	am := alertstest.NewServer(t)
	n := newNotifier(t, alertmanager.Config{
		URLs:      []string{am.URL + "/am/"},
		BasicAuth: &alertmanager.BasicAuth{Username: "vantage", Password: password},
		Labels:    map[string]string{"source": "vantage", "check": "ignored"},
	}, nil)
	if !n.SendResolved() {
		t.Error("send_resolved must default to true")
	}
	for _, s := range []alerts.Status{alerts.StatusFiring, alerts.StatusResolved} {
		if err := n.Notify(t.Context(), notification(s)); err != nil {
			t.Fatal(err)
		}
	}
	reqs := am.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	wantAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte("vantage:"+password))
	for _, r := range reqs {
		if r.Header.Get("Authorization") != wantAuth {
			t.Errorf("Authorization %q", r.Header.Get("Authorization"))
		}
	}
	fired, res := decode(t, reqs[0], "/am/api/v2/alerts"), decode(t, reqs[1], "/am/api/v2/alerts")
	if len(fired) != 1 || len(res) != 1 {
		t.Fatalf("alerts %v / %v", fired, res)
	}
	f := fired[0]
	want := map[string]string{"alertname": "api-down", "check": "api", "severity": "page", "team_name": "sre", "_9lives": "x", "_meta": "y", "source": "vantage"}
	if len(f.Labels) != len(want) {
		t.Errorf("labels %v, want %v", f.Labels, want)
	}
	for k, v := range want {
		if f.Labels[k] != v {
			t.Errorf("label %s=%q, want %q", k, f.Labels[k], v)
		}
	}
	if f.Annotations["summary"] != "api is down" || f.Annotations["description"] != hostile || f.Annotations["regions"] != "eu, us" ||
		f.Annotations["runbook_url"] != "https://wiki.example.org/api" {
		t.Errorf("annotations %v", f.Annotations)
	}
	if f.StartsAt != "2026-01-01T10:00:00Z" || f.EndsAt != "" || f.GeneratorURL != "https://vantage.example.org/checks/api" {
		t.Errorf("firing alert %+v", f)
	}
	r := res[0]
	if r.EndsAt != "2026-01-01T10:07:00Z" || r.StartsAt != f.StartsAt {
		t.Errorf("resolved alert %+v", r)
	}
	for k, v := range f.Labels {
		if r.Labels[k] != v {
			t.Errorf("resolved label %s=%q, firing %q: Alertmanager would not match them", k, r.Labels[k], v)
		}
	}
}

// TestResolveTimeout gives a firing alert an endsAt that far ahead.
func TestResolveTimeout(t *testing.T) {
	am := alertstest.NewServer(t)
	n := newNotifier(t, alertmanager.Config{URLs: []string{am.URL}, BearerToken: bearer, ResolveTimeout: time.Hour}, nil)
	before := time.Now()
	if err := n.Notify(t.Context(), notification(alerts.StatusFiring)); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	r := am.Requests()[0]
	if r.Header.Get("Authorization") != "Bearer "+bearer {
		t.Errorf("Authorization %q", r.Header.Get("Authorization"))
	}
	ends, err := time.Parse(time.RFC3339Nano, decode(t, r, "/api/v2/alerts")[0].EndsAt)
	if err != nil || ends.Before(before.Add(time.Hour).Truncate(time.Second)) || ends.After(after.Add(time.Hour)) {
		t.Errorf("endsAt %v (%v), want an hour after sending", ends, err)
	}
}

// TestHA: one Alertmanager taking the alerts is enough (the other is
// logged); when none does, the error is permanent only if every answer is.
func TestHA(t *testing.T) {
	tests := []struct {
		name      string
		a, b      alertstest.Answer
		ok        bool
		permanent bool
		delay     time.Duration
		failures  int // reported in the log or the error
	}{
		{"both", alertstest.Answer{Status: 200}, alertstest.Answer{Status: 200}, true, false, 0, 0},
		{"one down", alertstest.Answer{Status: 200}, alertstest.Answer{Reset: true}, true, false, 0, 1},
		{"one rejects", alertstest.Answer{Status: 400, Body: "bad alert " + bearer}, alertstest.Answer{Status: 200}, true, false, 0, 1},
		{"rejected and down", alertstest.Answer{Status: 400, Body: "bad alert"}, alertstest.Answer{Status: 503, Header: map[string]string{"Retry-After": "9"}}, false, false, 9 * time.Second, 2},
		{"both reject", alertstest.Answer{Status: 400, Body: "bad alert"}, alertstest.Answer{Status: 422, Body: bearer}, false, true, 0, 2},
		{"both 429", alertstest.Answer{Status: 429}, alertstest.Answer{Status: 500}, false, false, 0, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := alertstest.NewServer(t, tt.a), alertstest.NewServer(t, tt.b)
			var logs bytes.Buffer
			n := newNotifier(t, alertmanager.Config{URLs: []string{a.URL, b.URL}, BearerToken: bearer}, &logs)
			err := n.Notify(t.Context(), notification(alerts.StatusFiring))
			alertstest.CheckOutcome(t, err, tt.ok, tt.permanent, tt.delay)
			if len(a.Requests()) != 1 || len(b.Requests()) != 1 {
				t.Errorf("requests %d and %d, want one each", len(a.Requests()), len(b.Requests()))
			}
			out := logs.String()
			if err != nil {
				out += err.Error()
			}
			alertstest.NoSecrets(t, out, bearer)
			if got := strings.Count(out, "alertmanager: send to"); got != tt.failures {
				t.Errorf("%d failures reported, want %d: %s", got, tt.failures, out)
			}
			if warned := strings.Contains(out, "level=WARN"); warned != (tt.ok && tt.failures > 0) {
				t.Errorf("a failure beside a success must be logged as a warning, and only then: %s", out)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		c    alertmanager.Config
		want []string
	}{
		{"ok", alertmanager.Config{URLs: []string{"http://am-0:9093", "http://am-1:9093/prefix"}, BearerToken: bearer, Labels: map[string]string{"source": "vantage"}}, nil},
		{"empty", alertmanager.Config{}, []string{"urls: at least one"}},
		{"everything wrong", alertmanager.Config{
			URLs:           []string{"http://u:p@am:9093", "am:9093", "http://am-1:9093", "http://am-1:9093"},
			BasicAuth:      &alertmanager.BasicAuth{},
			BearerToken:    bearer,
			Labels:         map[string]string{"__name": "x", "ok": "", "team-name": "sre"},
			ResolveTimeout: -1, Timeout: -1,
		}, []string{
			"urls[0]: must not carry credentials", "urls[1]: ", "urls[3]: http://am-1:9093 is listed twice",
			"basic_auth.username: ", "basic_auth.password: ", "bearer_token: set either",
			`labels: "__name" is not`, "labels.ok: must not be empty", `labels: "team-name" is not`,
			"resolve_timeout: ", "timeout: ",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.Validate()
			alertstest.CheckProblems(t, err, tt.want...)
		})
	}
}

func TestDecode(t *testing.T) {
	src := "urls: [http://am-0:9093, http://am-1:9093]\nbasic_auth:\n  username: vantage\n  password: ${AM_PASSWORD}\nlabels: {source: vantage}\nresolve_timeout: 1h\n"
	env := func(k string) (string, bool) { return password, k == "AM_PASSWORD" }
	var c alertmanager.Config
	if _, probs := config.Decode([]byte(src), &c, config.DecodeOptions{LookupEnv: env}); len(probs) > 0 {
		t.Fatalf("decode: %v", probs)
	}
	if len(c.URLs) != 2 || c.BasicAuth.Password.Reveal() != password || c.Labels["source"] != "vantage" || c.ResolveTimeout != time.Hour {
		t.Errorf("decoded %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}
