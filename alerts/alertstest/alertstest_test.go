package alertstest_test

import (
	"errors"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/alerts"
	"github.com/vantageprobe/vantage/alerts/alertstest"
)

func TestServerPlaysAnswersInOrder(t *testing.T) {
	srv := alertstest.NewServer(t,
		alertstest.Answer{Status: http.StatusTooManyRequests, Header: map[string]string{"Retry-After": "3", "X-Empty": ""}},
		alertstest.Answer{Body: "ok"},
	)
	want := []struct {
		status int
		header string
		body   string
	}{{429, "3", ""}, {200, "", "ok"}, {200, "", "ok"}} // the last answer repeats
	for i, w := range want {
		form := url.Values{"To": {"+14155550100"}, "Body": {"hello"}}
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/v2/alerts?x=1", strings.NewReader(form.Encode()))
		req.SetBasicAuth("AC1", "t0ken")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 16)
		n, _ := resp.Body.Read(b)
		resp.Body.Close()
		if resp.StatusCode != w.status || resp.Header.Get("Retry-After") != w.header || string(b[:n]) != w.body {
			t.Errorf("answer %d: %d %q %q", i, resp.StatusCode, resp.Header.Get("Retry-After"), b[:n])
		}
		if _, sent := resp.Header["X-Empty"]; sent {
			t.Errorf("answer %d: an empty header was sent", i)
		}
	}
	reqs := srv.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests recorded", len(reqs))
	}
	r := srv.Last(t)
	user, pass, ok := r.BasicAuth()
	if r.Method != http.MethodPost || r.URL.Path != "/v2/alerts" || r.URL.RawQuery != "x=1" || !ok || user != "AC1" || pass != "t0ken" ||
		r.Form().Get("To") != "+14155550100" || r.Form().Get("Body") != "hello" {
		t.Errorf("recorded %+v", r)
	}
}

func TestServerReset(t *testing.T) {
	srv := alertstest.NewServer(t, alertstest.Answer{Reset: true})
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
	if resp, err := srv.Client().Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("answered %d, want a reset connection", resp.StatusCode)
	}
	if len(srv.Requests()) != 1 {
		t.Error("the request was not recorded")
	}
}

func TestLogger(t *testing.T) {
	if alertstest.Logger(nil) != nil {
		t.Error("Logger(nil) is not nil")
	}
	var b strings.Builder
	alertstest.Logger(&b).Debug("notification sent", "notifier", "ops")
	if !strings.Contains(b.String(), "level=DEBUG") || !strings.Contains(b.String(), "notifier=ops") {
		t.Errorf("logged %q", b.String())
	}
}

func TestPrinted(t *testing.T) {
	type config struct {
		Name  string        `json:"name"`
		Token alerts.Secret `json:"token"`
	}
	s := alertstest.Printed(config{Name: "ops", Token: "s3cret"})
	if strings.Contains(s, "s3cret") || strings.Count(s, "ops") < 5 {
		t.Errorf("Printed = %s", s)
	}
}

// fakeT records failures; Fatalf ends the goroutine, as testing.T's does.
type fakeT struct {
	testing.TB
	failed bool
}

func (f *fakeT) Helper()               {}
func (f *fakeT) Errorf(string, ...any) { f.failed = true }
func (f *fakeT) Fatalf(string, ...any) { f.failed = true; runtime.Goexit() }
func (f *fakeT) Fatal(...any)          { f.failed = true; runtime.Goexit() }

// fails reports whether check fails the test it is given.
func fails(check func(t testing.TB)) bool {
	f := &fakeT{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		check(f)
	}()
	<-done
	return f.failed
}

func TestChecks(t *testing.T) {
	retry := alerts.RetryAfter(errors.New("throttled"), 5*time.Second)
	permanent := alerts.Permanent(errors.New("rejected"))
	tests := []struct {
		name  string
		check func(t testing.TB)
		fails bool
	}{
		{"outcome ok", func(t testing.TB) { alertstest.CheckOutcome(t, nil, true, false, 0) }, false},
		{"outcome retry", func(t testing.TB) { alertstest.CheckOutcome(t, retry, false, false, 5*time.Second) }, false},
		{"outcome wrong delay", func(t testing.TB) { alertstest.CheckOutcome(t, retry, false, false, 0) }, true},
		{"outcome not permanent", func(t testing.TB) { alertstest.CheckOutcome(t, retry, false, true, 5*time.Second) }, true},
		{"outcome permanent", func(t testing.TB) { alertstest.CheckOutcome(t, permanent, false, true, 0) }, false},
		{"outcome unexpected error", func(t testing.TB) { alertstest.CheckOutcome(t, permanent, true, true, 0) }, true},
		{"no secrets", func(t testing.TB) { alertstest.NoSecrets(t, "send to https://x/<redacted>", "tok", "") }, false},
		{"a secret", func(t testing.TB) { alertstest.NoSecrets(t, "send to https://x/tok", "other", "tok") }, true},
		{"problems", func(t testing.TB) {
			alertstest.CheckProblems(t, errors.New("url: required\ntimeout: -1s is negative"), "url: ", "timeout: ")
		}, false},
		{"error text", func(t testing.TB) { alertstest.CheckErrorText(t, errors.New("url: required"), "url: required") }, false},
		{"no error", func(t testing.TB) { alertstest.CheckErrorText(t, nil, "") }, false},
		{"another error text", func(t testing.TB) { alertstest.CheckErrorText(t, errors.New("url: required"), "url: bad") }, true},
		{"an error wanted", func(t testing.TB) { alertstest.CheckErrorText(t, nil, "url: required") }, true},
		{"no problems", func(t testing.TB) { alertstest.CheckProblems(t, nil) }, false},
		{"a problem too many", func(t testing.TB) { alertstest.CheckProblems(t, errors.New("url: required")) }, true},
		{"another problem", func(t testing.TB) { alertstest.CheckProblems(t, errors.New("url: required"), "timeout: ") }, true},
		{"send_resolved", func(t testing.TB) { alertstest.CheckSendResolved(t, build(false)) }, false},
		{"send_resolved ignored", func(t testing.TB) { alertstest.CheckSendResolved(t, build(true)) }, true},
	}
	for _, tt := range tests {
		if got := fails(tt.check); got != tt.fails {
			t.Errorf("%s: failed %v, want %v", tt.name, got, tt.fails)
		}
	}
}

// notifier is a Notifier that only answers SendResolved.
type notifier struct {
	alerts.Notifier
	resolved bool
}

func (n notifier) SendResolved() bool { return n.resolved }

// build makes notifiers that honour send_resolved, or always want
// resolved notifications when broken.
func build(broken bool) func(*bool) (notifier, error) {
	return func(v *bool) (notifier, error) {
		return notifier{resolved: broken || v == nil || *v}, nil
	}
}
