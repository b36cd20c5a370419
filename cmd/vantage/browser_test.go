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
)

// TestCheckBrowser runs `vantage check --type browser` against loopback
// pages in real Chromium.
func TestCheckBrowser(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><title>ok</title><h1>Welcome</h1><p>A page for the browser check.</p>`)
	})
	mux.HandleFunc("/broken", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><title>broken</title><h1>Oops</h1><script>throw new Error("checkout exploded")</script>`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	shot := filepath.Join(t.TempDir(), "page.png")

	code, out, errOut := vantage(t, "check", "--type", "browser", "--json", "--screenshot", shot, srv.URL+"/ok")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	var r struct {
		OK      bool
		Type    string
		Browser *struct {
			Requests   int
			Screenshot bool
			LCP        float64 `json:"lcp_seconds"`
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || !r.OK || r.Type != "browser" || r.Browser == nil || r.Browser.Requests < 1 || !r.Browser.Screenshot || r.Browser.LCP <= 0 {
		t.Fatalf("%v %+v\n%s", err, r, out)
	}
	png, err := os.ReadFile(shot)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("screenshot file: %v (%d bytes)", err, len(png))
	}

	code, out, _ = vantage(t, "check", "--type", "browser", srv.URL+"/broken")
	if code != 1 || !strings.Contains(out, "checkout exploded") || !strings.Contains(out, "[js_error]") {
		t.Fatalf("a page that throws: exit %d\n%s", code, out)
	}
	if code, _, errOut := vantage(t, "check", "--type", "browser", "tcp://127.0.0.1:1"); code != 2 || !strings.Contains(errOut, "needs an http:// or https:// URL") {
		t.Fatalf("browser on tcp://: exit %d %s", code, errOut)
	}
	if code, _, errOut := vantage(t, "check", "--screenshot", shot, srv.URL+"/ok"); code != 2 || !strings.Contains(errOut, "--screenshot needs --type browser") {
		t.Fatalf("--screenshot without browser: exit %d %s", code, errOut)
	}
}
