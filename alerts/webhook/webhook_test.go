package webhook_test

import (
	"bytes"
	"cmp"
	"crypto/hmac"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/alerts"
	"github.com/vantageprobe/vantage/alerts/alertstest"
	"github.com/vantageprobe/vantage/alerts/webhook"
)

const hostile = "<@here> <!channel> ](http://evil) *bold* & </script>"

var start = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func notification() alerts.Notification {
	return alerts.Notification{
		Key: "n-42", GroupKey: `{}:{rule="api-down"}`, Receiver: "ops-webhook",
		Status: alerts.StatusFiring, Rule: "api-down", Severity: alerts.SeverityPage, Reason: "new",
		GroupLabels: map[string]string{"rule": "api-down"}, ExternalURL: "https://vantage.example.org",
		Time: start.Add(time.Minute),
		Alerts: []alerts.Alert{
			{Fingerprint: "f1", Status: alerts.StatusFiring, Rule: "api-down", Check: "api", State: "down",
				Summary: "api is down: " + hostile, Error: hostile, URL: "https://vantage.example.org/checks/api",
				Labels:      map[string]string{"alertname": "api-down", "check": "api", "severity": "page"},
				Annotations: map[string]string{"summary": hostile},
				StartsAt:    start},
			{Fingerprint: "f2", Status: alerts.StatusResolved, Rule: "api-down", Check: "web", State: "up",
				Labels:      map[string]string{"alertname": "api-down", "check": "web", "severity": "page"},
				Annotations: map[string]string{"summary": "web is up"},
				StartsAt:    start.Add(-time.Hour), EndsAt: start.Add(-time.Minute)},
			{Fingerprint: "f3", Status: alerts.StatusFiring, Rule: "api-down", Check: "db", State: "down",
				Labels:   map[string]string{"alertname": "api-down", "check": "db", "severity": "page"},
				StartsAt: start},
		},
	}
}

// start127 starts a webhook receiver on loopback that gives answer a,
// with a body ("answer") unless a has one.
func start127(t *testing.T, a alertstest.Answer) *alertstest.Server {
	t.Helper()
	a.Body = cmp.Or(a.Body, "answer")
	return alertstest.NewServer(t, a)
}

func TestNotifyRequest(t *testing.T) {
	srv := start127(t, alertstest.Answer{Status: http.StatusOK})
	now := time.Unix(1795000000, 0)
	n, err := webhook.New(webhook.Config{
		URL:        webhook.Secret(srv.URL + "/hook/url-token?k=url-key"),
		Headers:    map[string]webhook.Secret{"Authorization": "Bearer header-token"},
		HMACSecret: "hmac-key",
		MaxAlerts:  2,
	}, webhook.Options{HTTPClient: srv.Client(), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Notify(t.Context(), notification()); err != nil {
		t.Fatal(err)
	}
	req := srv.Last(t)
	body := req.Body
	if req.Method != http.MethodPost || req.URL.Path != "/hook/url-token" || req.URL.Query().Get("k") != "url-key" {
		t.Errorf("request %s %s", req.Method, req.URL)
	}
	for k, want := range map[string]string{
		"Content-Type": "application/json", "User-Agent": "vantage", "Idempotency-Key": "n-42",
		"Authorization": "Bearer header-token", "X-Vantage-Timestamp": "1795000000",
	} {
		if got := req.Header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	// The signature verifies as a receiver checks it, and only with the key.
	sig := req.Header.Get("X-Vantage-Signature")
	want := webhook.Sign([]byte("hmac-key"), "1795000000", body)
	if !strings.HasPrefix(sig, "sha256=") || len(sig) != len("sha256=")+64 || !hmac.Equal([]byte(sig), []byte(want)) {
		t.Errorf("signature %q, want %q", sig, want)
	}
	if sig == webhook.Sign([]byte("other"), "1795000000", body) || sig == webhook.Sign([]byte("hmac-key"), "1795000001", body) {
		t.Error("signature does not depend on key and timestamp")
	}
	checkPayload(t, body)
}

// checkPayload checks the Alertmanager v4 fields and their JSON types.
func checkPayload(t *testing.T, body []byte) {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, body)
	}
	for k, want := range map[string]any{
		"version": "4", "groupKey": `{}:{rule="api-down"}`, "truncatedAlerts": float64(1), "status": "firing",
		"receiver": "ops-webhook", "externalURL": "https://vantage.example.org", "notification_reason": "new",
	} {
		if p[k] != want {
			t.Errorf("%s = %#v, want %#v", k, p[k], want)
		}
	}
	for k, want := range map[string]string{
		"groupLabels":       `{"rule":"api-down"}`,
		"commonLabels":      `{"alertname":"api-down","severity":"page"}`,
		"commonAnnotations": `{}`,
	} {
		if got, _ := json.Marshal(p[k]); string(got) != want {
			t.Errorf("%s = %s, want %s", k, got, want)
		}
	}
	list, ok := p["alerts"].([]any)
	if !ok || len(list) != 2 {
		t.Fatalf("alerts = %#v, want 2 (max_alerts)", p["alerts"])
	}
	firing, resolved := list[0].(map[string]any), list[1].(map[string]any)
	for k, want := range map[string]any{
		"status": "firing", "startsAt": "2026-11-25T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
		"generatorURL": "https://vantage.example.org/checks/api", "fingerprint": "f1",
	} {
		if firing[k] != want {
			t.Errorf("alerts[0].%s = %#v, want %#v", k, firing[k], want)
		}
	}
	if firing["annotations"].(map[string]any)["summary"] != hostile {
		t.Errorf("the summary did not survive JSON: %#v", firing["annotations"])
	}
	if resolved["status"] != "resolved" || resolved["endsAt"] != "2026-11-25T09:59:00Z" || resolved["startsAt"] != "2026-11-25T09:00:00Z" {
		t.Errorf("resolved alert %#v", resolved)
	}
	if _, ok := resolved["labels"].(map[string]any); !ok {
		t.Errorf("labels is not an object: %#v", resolved["labels"])
	}
	if bytes.Contains(body, []byte("</script>")) {
		t.Error("raw </script> in the body; JSON should escape it")
	}
}

func TestNotifyEmptyMapsAndNoSignature(t *testing.T) {
	srv := start127(t, alertstest.Answer{Status: http.StatusNoContent})
	n, err := webhook.New(webhook.Config{URL: webhook.Secret(srv.URL)}, webhook.Options{})
	if err != nil {
		t.Fatal(err)
	}
	notif := alerts.Notification{Status: alerts.StatusResolved, Alerts: []alerts.Alert{{Status: alerts.StatusResolved}}}
	if err := n.Notify(t.Context(), notif); err != nil {
		t.Fatal(err)
	}
	req := srv.Last(t)
	body := req.Body
	for _, h := range []string{"X-Vantage-Signature", "X-Vantage-Timestamp", "Idempotency-Key"} {
		if v, ok := req.Header[h]; ok {
			t.Errorf("%s sent without a reason: %q", h, v)
		}
	}
	for _, frag := range []string{`"groupLabels":{}`, `"commonLabels":{}`, `"labels":{}`, `"annotations":{}`, `"truncatedAlerts":0`} {
		if !bytes.Contains(body, []byte(frag)) {
			t.Errorf("body lacks %s: %s", frag, body)
		}
	}
}

func TestNotifyClassifies(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		retryAfter string
		permanent  bool
		delay      time.Duration
	}{
		{"server error retries", http.StatusInternalServerError, "", false, 0},
		{"rate limit retries after", http.StatusTooManyRequests, "7", false, 7 * time.Second},
		{"bad request is permanent", http.StatusBadRequest, "", true, 0},
		{"gone is permanent", http.StatusGone, "", true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := start127(t, alertstest.Answer{Status: tt.status, Header: map[string]string{"Retry-After": tt.retryAfter}})
			var logs bytes.Buffer
			n, err := webhook.New(webhook.Config{
				URL:        webhook.Secret(srv.URL + "/hook/url-token"),
				Headers:    map[string]webhook.Secret{"X-Token": "header-token"},
				HMACSecret: "hmac-key",
			}, webhook.Options{Logger: alertstest.Logger(&logs)})
			if err != nil {
				t.Fatal(err)
			}
			err = n.Notify(t.Context(), notification())
			alertstest.CheckOutcome(t, err, false, tt.permanent, tt.delay)
			noSecrets(t, err.Error()+logs.String())
		})
	}
}

func TestNotifyUnreachableIsRetryable(t *testing.T) {
	srv := start127(t, alertstest.Answer{Status: http.StatusOK})
	url := srv.URL + "/hook/url-token"
	srv.Close()
	n, err := webhook.New(webhook.Config{URL: webhook.Secret(url), Timeout: time.Second}, webhook.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = n.Notify(t.Context(), notification())
	if err == nil || alerts.IsPermanent(err) {
		t.Fatalf("err %v", err)
	}
	noSecrets(t, err.Error())
}

// noSecrets fails t if s shows any of the secrets of this file's configs.
func noSecrets(t *testing.T, s string) {
	t.Helper()
	alertstest.NoSecrets(t, s, "url-token", "url-key", "header-token", "hmac-key")
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		c    webhook.Config
		want []string // error fragments; none: valid
	}{
		{"minimal", webhook.Config{URL: "https://example.org/hook"}, nil},
		{"everything", webhook.Config{URL: "http://127.0.0.1:9/x", Headers: map[string]webhook.Secret{"Authorization": "Bearer x"},
			MaxAlerts: 5, Timeout: time.Second, HMACSecret: "k"}, nil},
		{"missing url", webhook.Config{}, []string{"url: required"}},
		{"relative url", webhook.Config{URL: "/hook/url-token"}, []string{"url: not an absolute http or https URL"}},
		{"bad scheme", webhook.Config{URL: "ftp://example.org/url-token"}, []string{"url: not an absolute"}},
		{"unparsable", webhook.Config{URL: "http://exa mple.org/url-token%zz"}, []string{"url: not a valid URL"}},
		{"every problem", webhook.Config{URL: "", MaxAlerts: -1, Timeout: -time.Second,
			Headers: map[string]webhook.Secret{"Bad Name": "x", "content-type": "text/plain", "X-Ok": "header-token\r\nX-Injected: 1"}},
			[]string{"url: required", "max_alerts: -1 is negative", "timeout: -1s is negative",
				`headers: "Bad Name" is not a valid header name`, `headers: "content-type" is set by the notifier`,
				"headers.X-Ok: the value has a control character"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.Validate()
			if (err == nil) != (len(tt.want) == 0) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if err == nil {
				return
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Errorf("%d problems, want %d: %v", len(lines), len(tt.want), err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err %q lacks %q", err, w)
				}
			}
			noSecrets(t, err.Error())
			if _, nerr := webhook.New(tt.c, webhook.Options{}); nerr == nil {
				t.Error("New accepted an invalid config")
			}
		})
	}
}

func TestConfigNeverPrintsSecrets(t *testing.T) {
	c := webhook.Config{URL: "https://example.org/hook/url-token", HMACSecret: "hmac-key",
		Headers: map[string]webhook.Secret{"Authorization": "header-token"}}
	noSecrets(t, alertstest.Printed(c))
}

func TestSendResolved(t *testing.T) {
	alertstest.CheckSendResolved(t, func(v *bool) (*webhook.Notifier, error) {
		return webhook.New(webhook.Config{URL: "https://example.org", SendResolved: v}, webhook.Options{})
	})
}
