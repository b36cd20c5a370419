package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/alerts/webhook"
)

// hookReceiver is a webhook endpoint on loopback that keeps what it gets.
type hookReceiver struct {
	mu  sync.Mutex
	got []webhook.Payload
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var p webhook.Payload
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.got = append(h.got, p)
	h.mu.Unlock()
}

func (h *hookReceiver) payloads() []webhook.Payload {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]webhook.Payload(nil), h.got...)
}

// TestAlertingEndToEnd: a check down in 2 of 3 regions sends one firing
// notification per route and one resolved when it is back; a one-region
// blip sends nothing; a silence made through the admin API mutes the next
// outage.
func TestAlertingEndToEnd(t *testing.T) {
	ok, _ := targets(t)
	hook := &hookReceiver{}
	recv := httptest.NewServer(hook)
	t.Cleanup(recv.Close)
	top := fmt.Sprintf(`regions: [{name: eu-west, token: %q}, {name: us-east, token: us-east-token-0123456789}]
notifiers:
  - name: hook
    webhook: {url: %q}
alerts:
  - name: api-down
    checks: [api]
    consecutive_failures: 2
    resolve_after: 1
    group_wait: 10ms
    group_interval: 10ms
    notify: [hook]
`, euToken, recv.URL+"/hook")
	e := startWith(t, top, fmt.Sprintf("  - {name: api, interval: 1s, regions: [local, eu-west, us-east], http: {url: %q}}\n", ok))
	push := func(region, token string, okResult bool) {
		t.Helper()
		rec := agentRecord("api", region, time.Now())
		rec.OK = okResult
		if !okResult {
			rec.Error, rec.ErrorClass = "connection refused", "connect"
		}
		resp, body := agentRequest(t, http.MethodPost, e.base+"/api/v1/agent/results", token, batch(t, rec), nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("ingest: %d %s", resp.StatusCode, body)
		}
	}
	const usToken = "us-east-token-0123456789"
	// pushFor keeps the regions' results fresh for d.
	pushFor := func(d time.Duration, eu, us bool) {
		t.Helper()
		for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(250 * time.Millisecond) {
			push("eu-west", euToken, eu)
			push("us-east", usToken, us)
		}
	}
	pushFor(4*time.Second, false, true) // one region fails: degraded, never down
	if got := hook.payloads(); len(got) != 0 {
		t.Fatalf("a one-region blip notified: %+v", got)
	}
	pushFor(4*time.Second, false, false) // two of three: down
	waitFor(t, "the firing notification", func() bool { return len(hook.payloads()) >= 1 })
	fire := hook.payloads()[0]
	if fire.Status != "firing" || len(fire.Alerts) != 1 || fire.Alerts[0].Labels["check"] != "api" ||
		!strings.Contains(fire.Alerts[0].Annotations["summary"], "api is down in 2 of 3 regions") {
		t.Fatalf("firing payload %+v", fire)
	}
	var list struct {
		Alerts []struct{ Rule, Check, State string }
	}
	e.get(t, "/api/v1/alerts", http.StatusOK, &list)
	if len(list.Alerts) != 1 || list.Alerts[0].State != "firing" {
		t.Fatalf("GET /api/v1/alerts: %+v", list)
	}
	pushFor(3*time.Second, true, true)
	waitFor(t, "the resolved notification", func() bool { return len(hook.payloads()) >= 2 })
	if res := hook.payloads()[1]; res.Status != "resolved" || res.Alerts[0].EndsAt.IsZero() {
		t.Fatalf("resolved payload %+v", res)
	}

	// A silence through the admin API mutes the next outage.
	admin := httptest.NewServer(e.srv.AdminHandler())
	t.Cleanup(admin.Close)
	body, _ := json.Marshal(map[string]any{"matchers": []string{"check=api"}, "ends_at": time.Now().Add(time.Hour), "comment": "deploy"})
	resp, err := http.Post(admin.URL+"/api/v1/silences", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	created, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || !strings.Contains(string(created), `"id"`) {
		t.Fatalf("POST /api/v1/silences: %d %s", resp.StatusCode, created)
	}
	pushFor(5*time.Second, false, false)
	if got := hook.payloads(); len(got) != 2 {
		t.Fatalf("a silenced outage notified: %+v", got[2:])
	}
	var sil struct{ Silences []struct{ ID string } }
	e.get(t, "/api/v1/silences", http.StatusOK, &sil)
	if len(sil.Silences) != 1 {
		t.Fatalf("GET /api/v1/silences: %+v", sil)
	}
	// Bad silences are refused with the field named.
	resp, err = http.Post(admin.URL+"/api/v1/silences", "application/json", strings.NewReader(`{"matchers":["check=api"]}`))
	if err != nil {
		t.Fatal(err)
	}
	bad, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(bad), "ends_at") {
		t.Fatalf("a silence without ends_at: %d %s", resp.StatusCode, bad)
	}
}

// TestSLOEndpointsAndMetrics: a check failing every probe shows its budget
// overspent in GET /api/v1/slo and /metrics, with a burn rate of 1/B.
func TestSLOEndpointsAndMetrics(t *testing.T) {
	ok, bad := targets(t)
	e := start(t, fmt.Sprintf("  - {name: good, http: {url: %q}, slo: {objective: 99.9}}\n  - {name: broken, http: {url: %q}, slo: {objective: 99.9, window: 7d}}\n  - {name: plain, http: {url: %q}}\n", ok, bad, ok))
	type slo struct {
		Check     string
		Objective string
		Window    string
		Good      int64
		Total     int64
		Ratio     float64            `json:"sli_ratio"`
		Budget    float64            `json:"error_budget_remaining_ratio"`
		Minutes   float64            `json:"error_budget_minutes"`
		Burn      map[string]float64 `json:"burn_rates"`
		Alerts    []struct {
			Severity string
			Firing   bool
		} `json:"burn_alerts"`
	}
	var out struct{ SLOs []slo }
	waitFor(t, "both SLOs with events", func() bool {
		e.get(t, "/api/v1/slo", http.StatusOK, &out)
		return len(out.SLOs) == 2 && out.SLOs[0].Total >= 2 && out.SLOs[1].Total >= 2
	})
	broken, good := out.SLOs[0], out.SLOs[1]
	if broken.Check != "broken" || broken.Good != 0 || broken.Ratio != 0 || broken.Budget != -999 || broken.Window != "7d" ||
		broken.Burn["5m"] != 1000 || broken.Minutes < 10.07 || broken.Minutes > 10.09 {
		t.Fatalf("broken: %+v", broken)
	}
	if good.Check != "good" || good.Ratio != 1 || good.Budget != 1 || good.Objective != "99.9%" || good.Minutes != 43.2 {
		t.Fatalf("good: %+v", good)
	}
	firing := 0
	for _, a := range broken.Alerts {
		if a.Firing {
			firing++
		}
	}
	if firing == 0 {
		t.Fatalf("a check failing every probe fires no burn window: %+v", broken.Alerts)
	}
	fams, body := scrape(t, e)
	if v, found := value(fams, "vantage_slo_error_budget_remaining_ratio", map[string]string{"check": "broken"}); !found || v != -999 {
		t.Fatalf("budget metric %v %v", v, found)
	}
	if v, found := value(fams, "vantage_slo_objective_ratio", map[string]string{"check": "good"}); !found || v != 0.999 {
		t.Fatalf("objective metric %v %v", v, found)
	}
	if _, found := value(fams, "vantage_slo_burn_rate", map[string]string{"check": "good", "window": "1h"}); !found {
		t.Fatal("no burn rate metric")
	}
	lint(t, body)
}
