package server_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/vantageprobe/vantage/probes/probestest"
)

// blackboxModules is a modules file in blackbox_exporter's syntax.
const blackboxModules = `modules:
  http_2xx:
    prober: http
    timeout: 5s
    http:
      preferred_ip_protocol: ip4
  http_body:
    prober: http
    http:
      preferred_ip_protocol: ip4
      fail_if_body_not_matches_regexp: ["^ok$"]
  tcp_connect:
    prober: tcp
    tcp:
      preferred_ip_protocol: ip4
`

// startProbe runs a server whose /probe is configured by endpoint (YAML
// under probe_endpoint:, modules_file added).
func startProbe(t *testing.T, endpoint string) *env {
	t.Helper()
	dir := t.TempDir()
	mods := filepath.Join(dir, "blackbox.yml")
	if err := os.WriteFile(mods, []byte(blackboxModules), 0o600); err != nil {
		t.Fatal(err)
	}
	top := fmt.Sprintf("probe_endpoint:\n  modules_file: %q\n%s", mods, endpoint)
	return startWith(t, top, "")
}

// probeGet asks /probe and returns the status, the parsed metrics (on 200)
// and the body.
func probeGet(t *testing.T, e *env, query string, header http.Header) (int, map[string]*dto.MetricFamily, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, e.base+"/probe?"+query, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		return resp.StatusCode, nil, string(body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("parse /probe: %v\n%s", err, body)
	}
	return resp.StatusCode, fams, string(body)
}

func gaugeOf(fams map[string]*dto.MetricFamily, name string) (float64, bool) {
	f, ok := fams[name]
	if !ok || len(f.Metric) == 0 {
		return 0, false
	}
	return f.Metric[0].GetGauge().GetValue(), true
}

func q(module, target string, extra ...string) string {
	v := url.Values{"module": {module}, "target": {target}}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return v.Encode()
}

func TestProbeEndpointOffByDefault(t *testing.T) {
	ok, _ := targets(t)
	e := start(t, "")
	if code, _, body := probeGet(t, e, q("http_2xx", ok), nil); code != http.StatusNotFound {
		t.Fatalf("/probe without probe_endpoint: %d %s", code, body)
	}
	e2 := startProbe(t, "  enabled: false\n")
	if code, _, _ := probeGet(t, e2, q("http_2xx", ok), nil); code != http.StatusNotFound {
		t.Fatalf("/probe with enabled: false answered %d", code)
	}
}

func TestProbeEndpoint(t *testing.T) {
	ok, bad := targets(t)
	tcpTarget := strings.TrimPrefix(ok[:strings.LastIndex(ok, "/")], "http://")
	e := startProbe(t, "  enabled: true\n  allow_targets: [127.0.0.1/32]\n  deny_targets: []\n")
	tests := []struct {
		name, query string
		code        int
		want        map[string]float64
	}{
		{"http ok", q("http_2xx", ok), 200, map[string]float64{"probe_success": 1, "probe_http_status_code": 200, "probe_http_ssl": 0}},
		{"http 500", q("http_2xx", bad), 200, map[string]float64{"probe_success": 0, "probe_http_status_code": 500}},
		{"body regexp", q("http_body", ok), 200, map[string]float64{"probe_success": 1, "probe_failed_due_to_regex": 0}},
		{"target without scheme", q("http_2xx", strings.TrimPrefix(ok, "http://")), 200, map[string]float64{"probe_success": 1}},
		{"tcp", q("tcp_connect", tcpTarget), 200, map[string]float64{"probe_success": 1, "probe_ip_protocol": 4}},
		{"default module is http_2xx", url.Values{"target": {ok}}.Encode(), 200, map[string]float64{"probe_success": 1}},
		{"target that cannot be probed", q("tcp_connect", "no-port"), 200, map[string]float64{"probe_success": 0}},
		{"unknown module", q("icmp", ok), 400, nil},
		{"no target", "module=http_2xx", 400, nil},
		{"debug needs authentication", q("http_2xx", ok, "debug", "true"), 403, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, fams, body := probeGet(t, e, tt.query, nil)
			if code != tt.code {
				t.Fatalf("status %d, want %d: %s", code, tt.code, body)
			}
			for name, want := range tt.want {
				if got, found := gaugeOf(fams, name); !found || got != want {
					t.Errorf("%s = %v (found %v), want %v\n%s", name, got, found, want, body)
				}
			}
			if code == 200 {
				lint(t, []byte(body))
				for name, f := range fams {
					for _, m := range f.Metric {
						for _, l := range m.Label {
							if l.GetName() == "check" || l.GetName() == "region" {
								t.Errorf("%s has a %s label: /probe answers in blackbox_exporter's shape", name, l.GetName())
							}
						}
					}
				}
			}
		})
	}
}

// TestProbeEndpointDeniesByDefault: without deny_targets, loopback (the
// server's own listeners) is refused, and link-local always is.
func TestProbeEndpointDeniesByDefault(t *testing.T) {
	ok, _ := targets(t)
	e := startProbe(t, "  enabled: true\n")
	code, fams, body := probeGet(t, e, q("http_2xx", ok), nil)
	if v, _ := gaugeOf(fams, "probe_success"); code != 200 || v != 0 {
		t.Fatalf("loopback target with the default deny list: %d success=%v\n%s", code, v, body)
	}
	// The server itself is on loopback: /probe cannot be turned on it.
	if _, fams, _ := probeGet(t, e, q("http_2xx", e.base+"/metrics"), nil); fams["probe_http_status_code"] != nil {
		if v, _ := gaugeOf(fams, "probe_http_status_code"); v != 0 {
			t.Fatalf("/probe reached the server's own /metrics (status %v)", v)
		}
	}
}

// TestProbeEndpointSSRF: with only 127.0.0.1 allowed, a listener on
// 127.0.0.3 is never reached: directly, as IPv4-mapped IPv6, as a decimal
// or hex number, through a redirect from an allowed target, or over TCP.
func TestProbeEndpointSSRF(t *testing.T) {
	port, reached := probestest.Tripwire(t, "127.0.0.3")
	redirect := startHTTPHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://127.0.0.3:"+port+"/", http.StatusFound)
	}))
	e := startProbe(t, "  enabled: true\n  allow_targets: [127.0.0.1/32]\n  deny_targets: []\n")
	wantNeverReached(t, e, reached,
		q("http_2xx", "http://127.0.0.3:"+port+"/"),
		q("http_2xx", "http://[::ffff:127.0.0.3]:"+port+"/"),
		q("http_2xx", "http://2130706435:"+port+"/"),
		q("http_2xx", "http://0x7f000003:"+port+"/"),
		q("http_2xx", redirect+"/"),
		q("tcp_connect", "127.0.0.3:"+port),
		q("tcp_connect", "[::ffff:127.0.0.3]:"+port),
	)
}

// wantNeverReached runs each /probe query, wants it answered with
// probe_success 0, and the tripwire never reached.
func wantNeverReached(t *testing.T, e *env, reached func() int64, queries ...string) {
	t.Helper()
	for _, query := range queries {
		code, fams, body := probeGet(t, e, query, nil)
		if v, found := gaugeOf(fams, "probe_success"); code != 200 || !found || v != 0 {
			t.Errorf("%s: %d success=%v found=%v\n%s", query, code, v, found, body)
		}
	}
	if n := reached(); n != 0 {
		t.Fatalf("the forbidden listener was reached %d times", n)
	}
}

// TestProbeEndpointDenyList: with 127.0.0.2/32 denied and everything else
// allowed, a listener there is never reached, however the address is
// written or reached; 127.0.0.1 still is.
func TestProbeEndpointDenyList(t *testing.T) {
	port, reached := probestest.Tripwire(t, "127.0.0.2")
	ok, _ := targets(t)
	redirect := startHTTPHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://127.0.0.2:"+port+"/", http.StatusFound)
	}))
	e := startProbe(t, "  enabled: true\n  deny_targets: [127.0.0.2/32]\n")
	wantNeverReached(t, e, reached,
		q("http_2xx", "http://127.0.0.2:"+port+"/"),
		q("http_2xx", "http://[::ffff:127.0.0.2]:"+port+"/"),
		q("http_2xx", "http://2130706434:"+port+"/"),
		q("http_2xx", redirect+"/"),
		q("tcp_connect", "127.0.0.2:"+port),
		q("tcp_connect", "[::ffff:7f00:2]:"+port),
	)
	if code, fams, body := probeGet(t, e, q("http_2xx", ok), nil); code != 200 {
		t.Fatalf("allowed target: %d\n%s", code, body)
	} else if v, _ := gaugeOf(fams, "probe_success"); v != 1 {
		t.Fatalf("allowed target not probed: success=%v\n%s", v, body)
	}
}

func startHTTPHandler(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

func TestProbeEndpointAuth(t *testing.T) {
	ok, _ := targets(t)
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "probe.token")
	if err := os.WriteFile(tokenFile, []byte("tok-0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := startProbe(t, fmt.Sprintf("  enabled: true\n  deny_targets: []\n  auth:\n    bearer_token_file: %q\n    basic_auth: {username: prom, password: pw-secret}\n", tokenFile))
	bearer := http.Header{"Authorization": {"Bearer tok-0123456789abcdef"}}
	tests := []struct {
		name   string
		header http.Header
		query  string
		code   int
	}{
		{"none", nil, q("http_2xx", ok), 401},
		{"wrong bearer", http.Header{"Authorization": {"Bearer nope"}}, q("http_2xx", ok), 401},
		{"bearer", bearer, q("http_2xx", ok), 200},
		{"basic", http.Header{"Authorization": {"Basic cHJvbTpwdy1zZWNyZXQ="}}, q("http_2xx", ok), 200}, // prom:pw-secret
		{"wrong basic", http.Header{"Authorization": {"Basic cHJvbTpwdw=="}}, q("http_2xx", ok), 401},
		{"debug with auth", bearer, q("http_2xx", ok, "debug", "true"), 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, body := probeGet(t, e, tt.query, tt.header)
			if code != tt.code {
				t.Fatalf("status %d, want %d: %s", code, tt.code, body)
			}
			if strings.Contains(body, "pw-secret") || strings.Contains(body, "tok-0123") {
				t.Fatalf("a credential is in the answer:\n%s", body)
			}
			if strings.Contains(tt.query, "debug") && (!strings.Contains(body, "Probe result") || !strings.Contains(body, "probe_success 1")) {
				t.Fatalf("debug output:\n%s", body)
			}
		})
	}
}

// TestProbeEndpointTimeouts: the scraper's X-Prometheus-Scrape-Timeout-Seconds
// bounds the probe (less half a second), and max_concurrent probes run at
// once: another request waits for a slot until its timeout, then gets 503.
func TestProbeEndpointTimeouts(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 10)
	slow := startHTTPHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release) })
	e := startProbe(t, "  enabled: true\n  deny_targets: []\n  max_concurrent: 1\n")
	start := time.Now()
	_, fams, body := probeGet(t, e, q("http_2xx", slow+"/"), http.Header{"X-Prometheus-Scrape-Timeout-Seconds": {"1.5"}})
	took := time.Since(start)
	if v, found := gaugeOf(fams, "probe_success"); !found || v != 0 || took < 900*time.Millisecond || took > 1400*time.Millisecond {
		t.Fatalf("scrape timeout 1.5s: success=%v found=%v after %s (want ~1s)\n%s", v, found, took, body)
	}
	<-entered
	if code, _, body := probeGet(t, e, q("http_2xx", slow+"/"), http.Header{"X-Prometheus-Scrape-Timeout-Seconds": {"bogus"}}); code != 400 {
		t.Fatalf("bad scrape timeout header: %d %s", code, body)
	}
	first := make(chan int, 1)
	go func() {
		code, _, _ := probeGet(t, e, q("http_2xx", slow+"/"), http.Header{"X-Prometheus-Scrape-Timeout-Seconds": {"10"}})
		first <- code
	}()
	<-entered // the first probe holds the only slot
	code, _, body := probeGet(t, e, q("http_2xx", slow+"/"), http.Header{"X-Prometheus-Scrape-Timeout-Seconds": {"1"}})
	if code != http.StatusServiceUnavailable {
		t.Fatalf("second concurrent probe: %d, want 503: %s", code, body)
	}
	release <- struct{}{}
	if code := <-first; code != 200 {
		t.Fatalf("first probe: %d", code)
	}
}
