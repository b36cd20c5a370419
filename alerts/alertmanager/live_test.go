package alertmanager_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/alerts"
	"github.com/vantageprobe/vantage/alerts/alertmanager"
)

// alertmanagerBinary is the Alertmanager `make deps` installs (Debian's
// prometheus-alertmanager); VANTAGE_ALERTMANAGER names another.
func alertmanagerBinary() string {
	if p := os.Getenv("VANTAGE_ALERTMANAGER"); p != "" {
		return p
	}
	return "/usr/bin/prometheus-alertmanager"
}

// amConfig routes everything to one webhook, quickly: a new group after
// 100ms, a change (the resolve) after 500ms.
const amConfig = `route:
  receiver: hook
  group_by: [alertname, check]
  group_wait: 100ms
  group_interval: 500ms
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: %s
        send_resolved: true
`

// webhookMessage is what Alertmanager's webhook receiver posts.
type webhookMessage struct {
	Status string `json:"status"`
	Alerts []struct {
		Status      string            `json:"status"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
		EndsAt      time.Time         `json:"endsAt"`
	} `json:"alerts"`
}

// hookRecorder is the webhook Alertmanager notifies.
type hookRecorder struct {
	mu   sync.Mutex
	msgs []webhookMessage
}

func (h *hookRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var m webhookMessage
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.msgs = append(h.msgs, m)
	h.mu.Unlock()
}

// find returns the first message with status whose alerts include one for
// check.
func (h *hookRecorder) find(status, check string) (webhookMessage, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, m := range h.msgs {
		for _, a := range m.Alerts {
			if m.Status == status && a.Status == status && a.Labels["check"] == check {
				return m, true
			}
		}
	}
	return webhookMessage{}, false
}

// startAlertmanager runs the real Alertmanager on loopback, without
// clustering, until the test ends, and returns its URL.
func startAlertmanager(t *testing.T, webhook string) string {
	t.Helper()
	bin := alertmanagerBinary()
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing (make deps installs it): %v", bin, err)
		}
		t.Skipf("%s is missing (make deps installs it)", bin)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, amConfig, webhook), 0o600); err != nil {
		t.Fatal(err)
	}
	for attempt := 0; ; attempt++ {
		addr := freeAddr(t)
		var out bytes.Buffer
		cmd := exec.Command(bin, "--config.file="+cfg, "--storage.path="+filepath.Join(dir, "data"),
			"--web.listen-address="+addr, "--cluster.listen-address=", "--log.level=debug")
		cmd.Stdout, cmd.Stderr = &syncWriter{w: &out}, &syncWriter{w: &out}
		if err := cmd.Start(); err != nil {
			t.Fatalf("start %s: %v", bin, err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			<-exited
			if t.Failed() {
				t.Logf("alertmanager output:\n%s", out.String())
			}
		})
		base := "http://" + addr
		if waitReady(t, base, exited) {
			return base
		}
		if attempt == 2 {
			t.Fatalf("alertmanager did not become ready on %s", addr)
		}
	}
}

// waitReady polls /-/ready until it answers 200 (true), the process exits
// or 15s pass (false).
func waitReady(t *testing.T, base string, exited <-chan error) bool {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			t.Logf("alertmanager exited: %v", err)
			return false
		default:
		}
		if resp, err := get(t, base+"/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// get fetches url within the test, each try bounded to 2s.
func get(t *testing.T, url string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	return (&http.Client{Timeout: 2 * time.Second}).Do(req)
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// gettableAlert is an alert as GET /api/v2/alerts lists it.
type gettableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Status       struct {
		State string `json:"state"`
	} `json:"status"`
}

func listAlerts(t *testing.T, base string) []gettableAlert {
	t.Helper()
	resp, err := get(t, base+"/api/v2/alerts")
	if err != nil {
		t.Fatalf("list alerts: %v", err)
	}
	defer resp.Body.Close()
	var out []gettableAlert
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("list alerts: %v", err)
	}
	return out
}

// eventually polls cond every 50ms until it holds or 15s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRealAlertmanager sends a firing notification through the notifier
// to the real Alertmanager, sees it listed with its labels and routed to
// Alertmanager's webhook receiver, then resolves it the same way. The
// second URL of the HA pair is down, which must not matter.
func TestRealAlertmanager(t *testing.T) {
	hook := &hookRecorder{}
	hookSrv := httptest.NewServer(hook)
	t.Cleanup(hookSrv.Close)
	base := startAlertmanager(t, hookSrv.URL+"/hook")

	var logs bytes.Buffer
	n := newNotifier(t, alertmanager.Config{
		URLs:   []string{base, "http://" + freeAddr(t)},
		Labels: map[string]string{"source": "vantage"},
	}, &syncWriter{w: &logs})
	start := time.Now().Add(-time.Minute).Truncate(time.Second).UTC()
	notif := alerts.Notification{
		Key: "n-1", GroupKey: "g", Receiver: "am", Status: alerts.StatusFiring, Rule: "api-down",
		Severity: alerts.SeverityPage, Time: start,
		Alerts: []alerts.Alert{{
			Status: alerts.StatusFiring, Rule: "api-down", Severity: alerts.SeverityPage, Check: "api",
			Regions: []string{"eu"}, State: "down", Summary: "api is down in eu", Error: hostile,
			URL: "http://vantage.example.org/checks/api", StartsAt: start,
		}},
	}
	if err := n.Notify(t.Context(), notif); err != nil {
		t.Fatalf("firing: %v", err)
	}
	if !strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("the HA member that is down was not logged: %q", logs.String())
	}

	var listed gettableAlert
	eventually(t, "Alertmanager to list the alert", func() bool {
		for _, a := range listAlerts(t, base) {
			if a.Labels["check"] == "api" {
				listed = a
				return true
			}
		}
		return false
	})
	want := map[string]string{"alertname": "api-down", "check": "api", "severity": "page", "source": "vantage"}
	for k, v := range want {
		if listed.Labels[k] != v {
			t.Errorf("listed label %s=%q, want %q (all: %v)", k, listed.Labels[k], v, listed.Labels)
		}
	}
	if listed.Annotations["summary"] != "api is down in eu" || listed.Annotations["description"] != hostile ||
		listed.GeneratorURL != notif.Alerts[0].URL || !listed.StartsAt.Equal(start) || listed.Status.State != "active" {
		t.Errorf("listed %+v", listed)
	}
	eventually(t, "the webhook to get the firing alert", func() bool { _, ok := hook.find("firing", "api"); return ok })
	fired, _ := hook.find("firing", "api")
	if fired.Alerts[0].Labels["alertname"] != "api-down" || fired.Alerts[0].Annotations["description"] != hostile {
		t.Errorf("webhook got %+v", fired.Alerts[0])
	}

	res := notif
	res.Key, res.Status = "n-2", alerts.StatusResolved
	res.Alerts = []alerts.Alert{notif.Alerts[0]}
	res.Alerts[0].Status, res.Alerts[0].EndsAt = alerts.StatusResolved, time.Now().UTC()
	if err := n.Notify(t.Context(), res); err != nil {
		t.Fatalf("resolved: %v", err)
	}
	eventually(t, "the webhook to get the resolve", func() bool { _, ok := hook.find("resolved", "api"); return ok })
	eventually(t, "Alertmanager to stop listing the alert", func() bool {
		for _, a := range listAlerts(t, base) {
			if a.Labels["check"] == "api" {
				return false
			}
		}
		return true
	})
}
