package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/probes/probestest"
)

// vantage runs the command line in-process and returns exit code and output.
func vantage(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(t.Context(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func httpTarget(t *testing.T) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "healthy") })
	mux.HandleFunc("/missing", http.NotFound)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestCheckHTTP(t *testing.T) {
	base := httpTarget(t)
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"up", []string{"check", base + "/ok"}, 0, []string{"UP  http  " + base + "/ok  200  HTTP/1.1", "connect", "processing", "total", "trace id"}},
		{"flags after target", []string{"check", base + "/ok", "--expect-body", "healthy", "--timeout", "2s"}, 0, []string{"UP"}},
		{"down", []string{"check", base + "/missing"}, 1, []string{"DOWN", "unexpected status: got 404, want 200-399 [status]"}},
		{"expected 404", []string{"check", "--expect-status", "404", base + "/missing"}, 0, []string{"UP"}},
		{"body mismatch", []string{"check", "--expect-body", "^nope", base + "/ok"}, 1, []string{"[body]"}},
		{"refused", []string{"check", "http://" + probestest.RefusedAddr(t) + "/"}, 1, []string{"[conn_refused]"}},
		{"count", []string{"check", "--count", "3", "--interval", "1ms", base + "/ok"}, 0, []string{"3 probes, 3 passed, 0 failed", "median"}},
		{"nagios ok", []string{"check", "--format", "nagios", base + "/ok"}, 0, []string{"VANTAGE OK - http " + base + "/ok: 200", "| time=", " connect=", " processing="}},
		{"nagios critical", []string{"check", "--format", "nagios", base + "/missing"}, 2, []string{"VANTAGE CRITICAL - ", "got 404"}},
		{"nagios unknown", []string{"check", "--format", "nagios", "gopher://x"}, 3, []string{"VANTAGE UNKNOWN - "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := vantage(t, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Fatalf("stdout lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestCheckUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{}, 2, "Usage:"},
		{[]string{"bogus"}, 2, `unknown command "bogus"`},
		{[]string{"check"}, 2, "missing TARGET"},
		{[]string{"check", "a", "b"}, 2, "one TARGET at a time"},
		{[]string{"check", "--nope", "http://x/"}, 2, "flag provided but not defined: -nope"},
		{[]string{"check", "--format", "xml", "http://x/"}, 2, `--format "xml"`},
		{[]string{"check", "--count", "0", "http://x/"}, 2, "--count must be at least 1"},
		{[]string{"check", "example.com"}, 2, "missing scheme"},
		{[]string{"check", "--help"}, 0, "dns://SERVER[:PORT]/NAME?type=TYPE"},
		{[]string{"validate", "--help"}, 0, "Usage: vantage validate -c FILE"},
		{[]string{"--help"}, 0, ""},
	}
	for _, tt := range tests {
		code, out, errOut := vantage(t, tt.args...)
		if code != tt.code || !strings.Contains(out+errOut, tt.want) {
			t.Errorf("vantage %q: exit %d, output %q; want exit %d with %q", tt.args, code, out+errOut, tt.code, tt.want)
		}
	}
}

func TestCheckJSON(t *testing.T) {
	base := httpTarget(t)
	code, out, _ := vantage(t, "check", "--json", "--count", "2", "--interval", "1ms", base+"/ok")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("want one JSON object per probe, got %d lines:\n%s", len(lines), out)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"check", "type", "target", "started", "ok", "degraded", "error", "duration_seconds", "phases", "trace_id", "http"} {
		if _, ok := m[k]; !ok {
			t.Errorf("key %q missing in %s", k, lines[0])
		}
	}
	for _, k := range []string{"tls", "dns"} {
		if _, ok := m[k]; ok {
			t.Errorf("key %q present for an http:// check", k)
		}
	}
	phases := m["phases"].(map[string]any)
	for _, k := range []string{"resolve", "connect", "tls", "processing", "transfer"} {
		if _, ok := phases[k].(float64); !ok {
			t.Errorf("phase %q missing or not seconds: %v", k, phases)
		}
	}
	h := m["http"].(map[string]any)
	if h["status_code"] != 200.0 || h["body_bytes"] != 7.0 || h["version"] != "HTTP/1.1" || h["redirects"] != 0.0 {
		t.Errorf("http block %v", h)
	}
	if d := m["duration_seconds"].(float64); d <= 0 || d > 5 {
		t.Errorf("duration_seconds %v", d)
	}
	if _, err := time.Parse(time.RFC3339, m["started"].(string)); err != nil || !strings.HasSuffix(m["started"].(string), "Z") {
		t.Errorf("started %v is not RFC 3339 UTC", m["started"])
	}
}

func TestCheckTLSAndTCP(t *testing.T) {
	ca := probestest.NewCA(t)
	good := probestest.StartTLS(t, ca.Issue(t, probestest.CertOptions{}), probestest.TLSOptions{}, nil)
	soon := probestest.StartTLS(t, ca.Issue(t, probestest.CertOptions{NotAfter: time.Now().Add(5*24*time.Hour + time.Hour)}), probestest.TLSOptions{}, nil)
	caFile := ca.WriteFile(t)

	code, out, _ := vantage(t, "check", "--json", "--ca-file", caFile, "tls://"+good)
	var r struct {
		OK  bool
		TLS struct {
			DaysLeft int    `json:"days_left"`
			Version  string `json:"version"`
			NotAfter string `json:"not_after"`
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != 0 || !r.OK || r.TLS.DaysLeft < 89 || r.TLS.Version != "TLS 1.3" {
		t.Fatalf("exit %d, %v, %+v\n%s", code, err, r, out)
	}
	if code, out, _ := vantage(t, "check", "tls://"+good); code != 1 || !strings.Contains(out, "[cert_invalid]") {
		t.Fatalf("untrusted CA: exit %d\n%s", code, out)
	}
	if code, out, _ := vantage(t, "check", "--format", "nagios", "--ca-file", caFile, "tls://"+soon); code != 1 || !strings.HasPrefix(out, "VANTAGE WARNING - ") || !strings.Contains(out, "cert_days_left=5") {
		t.Fatalf("expiring cert: exit %d\n%s", code, out)
	}
	if code, out, _ := vantage(t, "check", "--ca-file", caFile, "tls://"+soon); code != 0 || !strings.HasPrefix(out, "DEGRADED") {
		t.Fatalf("degraded counts as passed: exit %d\n%s", code, out)
	}
	echo := probestest.Echo(t, "")
	if code, out, _ := vantage(t, "check", "--data", "PING\n", "--expect-body", "^PING", "tcp://"+echo); code != 0 || !strings.HasPrefix(out, "UP  tcp") {
		t.Fatalf("tcp dialogue: exit %d\n%s", code, out)
	}
	if code, _, _ := vantage(t, "check", "tcp://"+probestest.RefusedAddr(t)); code != 1 {
		t.Fatalf("tcp refused: exit %d", code)
	}
}

func TestCheckDNS(t *testing.T) {
	srv := probestest.StartDNS(t, probestest.DNSOptions{Zone: "$ORIGIN example.test.\n@ 300 IN SOA ns hostmaster 1 7200 900 1209600 300\nwww 300 IN A 192.0.2.7\n"})
	code, out, _ := vantage(t, "check", "dns://"+srv.Addr+"/www.example.test?type=A")
	if code != 0 || !strings.Contains(out, "NOERROR") || !strings.Contains(out, "www.example.test.\t300\tIN\tA\t192.0.2.7") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	code, out, _ = vantage(t, "check", "--json", "dns://"+srv.Addr+"/nope.example.test")
	var r struct {
		OK  bool
		DNS struct {
			Rcode   string
			Answers []string
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != 1 || r.OK || r.DNS.Rcode != "NXDOMAIN" || r.DNS.Answers == nil {
		t.Fatalf("exit %d, %v, %+v\n%s", code, err, r, out)
	}
}

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(good, "checks:\n  - name: a\n    tcp: {address: \"127.0.0.1:1\"}\n  - name: b\n    http: {url: \"http://127.0.0.1/\"}\n")
	write(bad, "checks:\n  - name: a\n    tcp: {adress: \"x:1\"}\n  - name: a\n    http: {url: \"http://x/\", expect: {status: [999]}}\n")
	code, out, _ := vantage(t, "validate", "-c", good)
	if code != 0 || !strings.Contains(out, "ok: 2 checks (http 1, tcp 1, dns 0, tls 0)") ||
		!strings.Contains(out, "public listener 127.0.0.1:8080: health, /metrics\n") ||
		!strings.Contains(out, "admin listener  127.0.0.1:8081: JSON API, overview") {
		t.Fatalf("valid: exit %d %q", code, out)
	}
	code, _, errOut := vantage(t, "validate", "-c", bad)
	want := bad + ":3:10: checks[0].tcp.address: required (host:port)\n" +
		bad + ":3:11: checks[0].tcp: unknown key \"adress\" (did you mean \"address\"?)\n" +
		bad + ":4:11: checks[1].name: \"a\" is already the name of checks[0]\n" +
		bad + ":5:48: checks[1].http.expect.status[0]: 999 is not an HTTP status (100-599)\n"
	if code != 2 || !strings.HasPrefix(errOut, want) {
		t.Fatalf("broken: exit %d\n%s\nwant prefix:\n%s", code, errOut, want)
	}
	if code, _, errOut := vantage(t, "validate", "-c", filepath.Join(dir, "missing.yaml")); code != 2 || !strings.Contains(errOut, "no such file") {
		t.Fatalf("missing file: exit %d %q", code, errOut)
	}
}
