package server_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestBrowserChecks: a failing browser check stores its screenshot and the
// API serves it; with no Chromium at browser.exec_path, browser checks
// report nothing (probe could not run) and the other checks keep working.
func TestBrowserChecks(t *testing.T) {
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><title>x</title><h1 id="msg">Sorry</h1>`)
	}))
	t.Cleanup(page.Close)
	e := start(t, fmt.Sprintf(`  - name: journey
    interval: 3s
    timeout: 2500ms
    browser: {url: %q, steps: [{assert_text: {selector: "#msg", matches: "Thanks"}}]}
`, page.URL))
	var one struct {
		State      string
		LastResult *struct {
			ID         string
			ErrorClass string `json:"error_class"`
			Error      string
			Browser    *struct{ Screenshot bool }
		} `json:"last_result"`
	}
	waitFor(t, "a browser result", func() bool { // the first run also starts Chromium
		e.get(t, "/api/v1/checks/journey", 200, &one)
		return one.LastResult != nil
	})
	lr := one.LastResult
	if one.State != "down" || lr.ErrorClass != "step" || lr.Browser == nil || !lr.Browser.Screenshot {
		t.Fatalf("browser result: %s %+v %+v", one.State, lr, lr.Browser)
	}
	resp, err := http.Get(e.base + "/api/v1/results/" + lr.ID + "/screenshot")
	if err != nil {
		t.Fatal(err)
	}
	png, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("screenshot: %d, %d bytes", resp.StatusCode, len(png))
	}
}

func TestMissingChromiumKeepsOtherChecks(t *testing.T) {
	ok, _ := targets(t)
	e := startWith(t, "browser: {exec_path: /nonexistent/chromium}\n", fmt.Sprintf("  - {name: page, browser: {url: %q}}\n  - {name: api, http: {url: %q}}\n", ok, ok))
	var list struct{ Checks []checkOut }
	waitFor(t, "the http check", func() bool {
		e.get(t, "/api/v1/checks", 200, &list)
		return list.Checks[1].LastResult != nil
	})
	if list.Checks[1].State != "up" || list.Checks[0].LastResult != nil || list.Checks[0].State != "unknown" {
		t.Fatalf("checks %+v", list.Checks)
	}
	e.get(t, "/readyz", 200, nil)
}
