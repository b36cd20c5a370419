package alerts_test

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/alerts"
)

func TestSendClassifies(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok/secret-token":
			w.WriteHeader(http.StatusAccepted)
			_, _ = w.Write([]byte(`{"status":"success"}`))
		case "/slow":
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
		case "/down":
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
		default:
			http.Error(w, "invalid event", http.StatusBadRequest)
		}
	}))
	t.Cleanup(srv.Close)
	tests := []struct {
		path      string
		ok        bool
		permanent bool
		delay     time.Duration
	}{
		{"/ok/secret-token", true, false, 0},
		{"/slow", false, false, 7 * time.Second},
		{"/down", false, false, 0},
		{"/bad/secret-token?key=s3cret", false, true, 0},
	}
	for _, tt := range tests {
		body, err := alerts.Send(t.Context(), srv.Client(), alerts.Request{URL: srv.URL + tt.path, Body: []byte(`{}`),
			Header: http.Header{"Content-Type": {"application/json"}}})
		if (err == nil) != tt.ok || alerts.IsPermanent(err) != tt.permanent || alerts.RetryDelay(err) != tt.delay {
			t.Errorf("%s: err %v permanent %v delay %v", tt.path, err, alerts.IsPermanent(err), alerts.RetryDelay(err))
		}
		if tt.ok && string(body) != `{"status":"success"}` {
			t.Errorf("%s: body %q", tt.path, body)
		}
		if err != nil && (strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "s3cret")) {
			t.Errorf("%s: the URL's secret is in the error: %v", tt.path, err)
		}
	}
	// A connection refused is retryable, and the URL stays out of the error.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	_, err := alerts.Send(t.Context(), nil, alerts.Request{URL: "http://" + addr + "/hook/secret-token"})
	if err == nil || alerts.IsPermanent(err) || strings.Contains(err.Error(), "secret-token") {
		t.Fatalf("refused: %v", err)
	}
}

func TestPermanentAndRetryAfter(t *testing.T) {
	base := errors.New("boom")
	if alerts.Permanent(nil) != nil || alerts.RetryAfter(nil, time.Second) != nil {
		t.Fatal("nil errors must stay nil")
	}
	p := alerts.Permanent(base)
	if !alerts.IsPermanent(p) || !errors.Is(p, base) || alerts.IsPermanent(base) {
		t.Fatal("Permanent")
	}
	r := alerts.RetryAfter(base, time.Minute)
	if alerts.RetryDelay(r) != time.Minute || !errors.Is(r, base) || alerts.IsPermanent(r) {
		t.Fatal("RetryAfter")
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://hooks.slack.com/services/T0/B0/xyz": "https://hooks.slack.com/<redacted>",
		"https://events.pagerduty.com":               "https://events.pagerduty.com",
		"https://u:p@example.com":                    "https://example.com/<redacted>",
		"::bad":                                      "<url redacted>",
	} {
		if got := alerts.RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
