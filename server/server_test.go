package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/config"
	"github.com/vantageprobe/vantage/results"
	"github.com/vantageprobe/vantage/results/sqlite"
	"github.com/vantageprobe/vantage/server"
)

type env struct {
	dir, cfgPath, base string
	srv                *server.Server
	cancel             context.CancelFunc
	done               chan error
}

func writeConfig(t testing.TB, path, checks string) {
	t.Helper()
	writeConfigWith(t, path, "", checks)
}

// writeConfigWith writes a config of top-level keys top and checks, with
// server.public_api on (the tests read the JSON API from the public
// listener) and no admin listener (tests serve AdminHandler themselves)
// unless top sets them.
func writeConfigWith(t testing.TB, path, top, checks string) {
	t.Helper()
	var server []string
	if !strings.Contains(top, "public_api") {
		server = append(server, "public_api: true")
	}
	if !strings.Contains(top, "admin_listen") {
		server = append(server, "admin_listen: \"off\"")
	}
	if len(server) > 0 {
		if strings.HasPrefix(top, "server: {") {
			top = "server: {" + strings.Join(server, ", ") + ", " + strings.TrimPrefix(top, "server: {")
		} else {
			top = "server: {" + strings.Join(server, ", ") + "}\n" + top
		}
	}
	if !strings.Contains(top, "storage:") {
		top += "storage: {path: results.db}\n"
	}
	src := top + "defaults: {interval: 1s, timeout: 500ms}\nchecks:\n" + checks
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
}

func start(t testing.TB, checks string) *env {
	t.Helper()
	return startWith(t, "", checks)
}

// startWith runs a server on a config of top-level keys top and checks.
func startWith(t testing.TB, top, checks string) *env {
	t.Helper()
	e := &env{dir: t.TempDir()}
	e.cfgPath = filepath.Join(e.dir, "vantage.yaml")
	writeConfigWith(t, e.cfgPath, top, checks)
	cfg, err := config.Load(e.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.base = "http://" + ln.Addr().String()
	e.srv, err = server.New(t.Context(), server.Options{Config: cfg, ConfigPath: e.cfgPath, Listener: ln, UptimeRefresh: 200 * time.Millisecond, SLORefresh: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel, e.done = cancel, make(chan error, 1)
	go func() { e.done <- e.srv.Run(ctx) }()
	t.Cleanup(func() { e.stop(t) })
	return e
}

func (e *env) stop(t testing.TB) {
	t.Helper()
	if e.cancel == nil {
		return
	}
	e.cancel()
	e.cancel = nil
	if err := <-e.done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

func (e *env) get(t *testing.T, path string, wantCode int, out any) {
	t.Helper()
	resp, err := http.Get(e.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantCode {
		t.Fatalf("GET %s: %d, want %d: %s", path, resp.StatusCode, wantCode, body)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("GET %s: %v: %s", path, err, body)
		}
	}
}

type checkOut struct {
	Name       string
	Type       string
	Target     string
	State      string
	LastResult *struct {
		OK         bool
		ErrorClass string `json:"error_class"`
		Region     string
	} `json:"last_result"`
	Uptime  map[string]*float64
	Latency *struct{ P50, P95, P99 float64 } `json:"latency_seconds"`
}

// getBody is a GET of the public listener, for metric.
func (e *env) getBody(path string) (int, string) {
	resp, err := http.Get(e.base + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func targets(t *testing.T) (ok, bad string) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bad" {
			http.Error(w, "no", http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/ok", srv.URL + "/bad"
}

func TestServeEndToEnd(t *testing.T) {
	ok, bad := targets(t)
	e := start(t, fmt.Sprintf("  - {name: good, http: {url: %q}}\n  - {name: broken, http: {url: %q}}\n  - {name: secret, hide_target: true, http: {url: %q}}\n", ok, bad, bad))

	var list struct{ Checks []checkOut }
	waitFor(t, "every check has a result", func() bool {
		e.get(t, "/api/v1/checks", 200, &list)
		for _, c := range list.Checks {
			if c.LastResult == nil {
				return false
			}
		}
		return len(list.Checks) == 3
	})
	states := map[string]string{}
	for _, c := range list.Checks {
		states[c.Name] = c.State
	}
	if states["good"] != "up" || states["broken"] != "down" || list.Checks[1].LastResult.ErrorClass != "status" {
		t.Fatalf("states %v", states)
	}
	if list.Checks[2].Target != "" || list.Checks[0].Target != ok || list.Checks[2].LastResult.ErrorClass != "status" {
		t.Fatalf("hide_target not honoured: %+v", list.Checks)
	}
	host := strings.TrimPrefix(strings.TrimSuffix(bad, "/bad"), "http://")
	for _, path := range []string{"/api/v1/checks/secret", "/api/v1/checks/secret/results"} {
		var raw json.RawMessage
		e.get(t, path, 200, &raw)
		if strings.Contains(string(raw), host) {
			t.Fatalf("%s shows the hidden target %s: %s", path, host, raw)
		}
	}

	var one checkOut
	e.get(t, "/api/v1/checks/good", 200, &one)
	if one.Uptime["24h"] == nil || *one.Uptime["24h"] != 1 || one.Latency == nil || one.Latency.P99 <= 0 {
		t.Fatalf("uptime/latency of good: %+v %+v", one.Uptime, one.Latency)
	}
	e.get(t, "/api/v1/checks/broken", 200, &one)
	if *one.Uptime["24h"] != 0 {
		t.Fatalf("broken uptime %v", *one.Uptime["24h"])
	}
	var res struct{ Results []map[string]any }
	e.get(t, "/api/v1/checks/good/results?limit=1", 200, &res)
	if len(res.Results) != 1 || res.Results[0]["check"] != "good" || len(res.Results[0]["id"].(string)) != 32 {
		t.Fatalf("results %v", res)
	}
	var apiErr struct{ Error string }
	e.get(t, "/api/v1/checks/nope", 404, &apiErr)
	e.get(t, "/api/v1/checks/good/results?limit=x", 400, &apiErr)
	if !strings.Contains(apiErr.Error, "limit") {
		t.Fatalf("error %q", apiErr.Error)
	}
	e.get(t, "/healthz", 200, nil)
	e.get(t, "/readyz", 200, nil)
	code, page := e.getBody("/")
	for _, want := range []string{
		"1 up, 0 degraded, 2 down, 0 unknown",
		`<a href="/api/v1/checks/good">good</a></td><td>http</td><td class="state up">up</td>`,
		`<td class="state down">down</td>`,
		"status: details hidden (hide_target)",
	} {
		if code != 200 || !strings.Contains(page, want) {
			t.Fatalf("GET /: %d, lacks %q:\n%s", code, want, page)
		}
	}

	png := []byte("\x89PNG\r\n\x1a\nscreenshot")
	rec := results.Record{ID: results.NewID(), Check: "good", Region: "local", Kind: "browser", Started: time.Now().UTC(), OK: false, Screenshot: png}
	if err := e.srv.Store().Write(t.Context(), rec); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Store().Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(e.base + "/api/v1/results/" + rec.ID + "/screenshot")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || string(body) != string(png) {
		t.Fatalf("screenshot: %d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	e.get(t, "/api/v1/results/nope/screenshot", 404, &apiErr)
}

func TestReloadAndDurableShutdown(t *testing.T) {
	ok, _ := targets(t)
	e := start(t, fmt.Sprintf("  - {name: a, http: {url: %q}}\n  - {name: b, tcp: {address: %q}}\n", ok, strings.TrimPrefix(ok, "http://")[:strings.Index(strings.TrimPrefix(ok, "http://"), "/")]))
	var list struct{ Checks []checkOut }
	waitFor(t, "first results", func() bool {
		e.get(t, "/api/v1/checks", 200, &list)
		return list.Checks[0].LastResult != nil && list.Checks[1].LastResult != nil
	})

	// An invalid file is rejected and the running config stays.
	if err := os.WriteFile(e.cfgPath, []byte("checks:\n  - {name: a, htp: {}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Reload(t.Context()); err == nil || !strings.Contains(err.Error(), `unknown key "htp"`) {
		t.Fatalf("reload of a broken file: %v", err)
	}
	e.get(t, "/api/v1/checks", 200, &list)
	if len(list.Checks) != 2 {
		t.Fatalf("running config lost: %d checks", len(list.Checks))
	}

	// Add c, remove b.
	writeConfig(t, e.cfgPath, fmt.Sprintf("  - {name: a, http: {url: %q}}\n  - {name: c, http: {url: %q}}\n", ok, ok))
	if err := e.srv.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "c probed after reload", func() bool {
		e.get(t, "/api/v1/checks", 200, &list)
		return len(list.Checks) == 2 && list.Checks[1].Name == "c" && list.Checks[1].LastResult != nil
	})
	e.get(t, "/api/v1/checks/b", 404, nil)

	// Stop, reopen the database: every result the scheduler produced is there.
	e.stop(t)
	st, err := sqlite.Open(t.Context(), sqlite.Options{Path: filepath.Join(e.dir, "results.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var stored int
	for _, name := range []string{"a", "b", "c"} {
		recs, err := st.Results(t.Context(), results.Query{Check: name, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		stored += len(recs)
	}
	if stored == 0 || int64(stored) != e.srv.Runs() {
		t.Fatalf("stored %d results, scheduler produced %d", stored, e.srv.Runs())
	}
}

// metric reads an unlabelled sample from /metrics; -1 when it is missing.
func metric(t *testing.T, get func(string) (int, string), name string) float64 {
	t.Helper()
	code, body := get("/metrics")
	if code != 200 {
		return -1
	}
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

// TestOverviewHidesTarget: a hide_target check's row shows no error text
// that names its target, while the same error of a check without
// hide_target does (so the test would see a leak).
func TestOverviewHidesTarget(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close() // connections are refused, and the error names the address
	e := start(t, fmt.Sprintf("  - {name: open, tcp: {address: %q}}\n  - {name: secret, hide_target: true, tcp: {address: %q}}\n", dead, dead))
	rows := map[string]string{}
	waitFor(t, "both checks have a result", func() bool {
		_, page := e.getBody("/")
		for _, row := range strings.Split(page, "<tr>") {
			for _, name := range []string{"open", "secret"} {
				if strings.Contains(row, ">"+name+"</a>") && !strings.Contains(row, "no result yet") {
					rows[name] = row
				}
			}
		}
		return len(rows) == 2
	})
	if !strings.Contains(rows["open"], dead) {
		t.Fatalf("the open check's row does not name %s, so a leak would go unseen: %s", dead, rows["open"])
	}
	if strings.Contains(rows["secret"], dead) || !strings.Contains(rows["secret"], "details hidden (hide_target)") {
		t.Fatalf("the hide_target row: %s", rows["secret"])
	}
}
