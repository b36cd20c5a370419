package probes_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/probes"
)

// needChromium skips when Chromium is not installed, except in CI, where a
// missing browser fails the test.
func needChromium(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("chromium"); err != nil {
		if os.Getenv("CI") == "" {
			t.Skip("chromium is not installed")
		}
		t.Fatalf("chromium is not installed (CI is set): %v", err)
	}
}

// newBrowser starts a Browser for the test and checks that Close leaves no
// Chromium process and no profile directory behind.
func newBrowser(t testing.TB, o probes.BrowserOptions) *probes.Browser {
	t.Helper()
	needChromium(t)
	b, err := probes.NewBrowser(o)
	if err != nil {
		t.Fatalf("NewBrowser: %v", err)
	}
	t.Cleanup(func() {
		dir := probes.BrowserProfileDir(b)
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if dir == "" {
			return
		}
		if left := probes.ProcessesUsing(dir); len(left) > 0 {
			t.Errorf("after Close, chromium processes are left: %v", left)
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("after Close, profile dir %s: %v", dir, err)
		}
	})
	return b
}

func newBrowserProber(t testing.TB, b *probes.Browser, spec probes.BrowserSpec) *probes.BrowserProber {
	t.Helper()
	p, err := probes.NewBrowserProber(spec, b)
	if err != nil {
		t.Fatalf("NewBrowserProber: %v", err)
	}
	return p
}

// browse runs one browser check with a 20 s deadline.
func browse(t testing.TB, b *probes.Browser, spec probes.BrowserSpec) probes.Result {
	t.Helper()
	r := probeOnce(t, newBrowserProber(t, b, spec), 20*time.Second)
	if r.Browser == nil {
		t.Fatalf("no browser detail (err %v)", r.Err)
	}
	return r
}

// pngImage is a w×h PNG of random 4×4 blocks: Chromium ignores images of
// low entropy (under 0.05 bits per pixel) as LCP candidates.
func pngImage(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	rnd := rand.New(rand.NewPCG(1, 2))
	for y := 0; y < h; y += 4 {
		for x := 0; x < w; x += 4 {
			c := color.Gray{uint8(rnd.IntN(256))}
			for i := range 16 {
				img.SetGray(x+i%4, y+i/4, c)
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// wait blocks for d or until the request is gone.
func wait(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

func html(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<!doctype html><html><head><title>t</title></head><body>"+body+"</body></html>")
	}
}

// startPages serves the test pages on loopback.
func startPages(t testing.TB) *httptest.Server {
	t.Helper()
	img := pngImage(t, 600, 300)
	mux := http.NewServeMux()
	mux.HandleFunc("/simple", func(w http.ResponseWriter, r *http.Request) {
		if !wait(r, 20*time.Millisecond) { // server think time: processing
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<!doctype html><html><head><title>simple</title></head><body><h1>Hello</h1>")
		w.(http.Flusher).Flush()
		if !wait(r, 15*time.Millisecond) { // the rest of the body: transfer
			return
		}
		fmt.Fprint(w, "<p>a simple page with some text</p></body></html>")
	})
	mux.HandleFunc("/img.png", func(w http.ResponseWriter, r *http.Request) {
		if d, err := time.ParseDuration(r.URL.Query().Get("delay")); err == nil && !wait(r, d) {
			return
		}
		w.Header().Set("Content-Type", "image/png")
		w.Write(img)
	})
	mux.HandleFunc("/lcp", html(`<p>small</p><img src="/img.png?delay=300ms" width="600" height="300">`))
	// Once the text has painted, a block is inserted above it; the image
	// holds the load event back until the shift is surely done.
	mux.HandleFunc("/cls", html(`<p style="font-size:40px">text that moves down</p><img src="/img.png?delay=400ms" width="60" height="30">
<script>new PerformanceObserver(() => {
  const d = document.createElement("div"); d.style.height = "300px"; document.body.prepend(d);
}).observe({type: "paint", buffered: true});</script>`))
	mux.HandleFunc("/throw", html(`<p>x</p><script>throw new Error("boom-123")</script>`))
	mux.HandleFunc("/console", html(`<p>x</p><script>console.error("bad thing", 42)</script>`))
	mux.HandleFunc("/broken-img", html(`<p>x</p><img src="/missing.png" width="10" height="10">`))
	mux.HandleFunc("/form", html(formPage))
	mux.HandleFunc("/other", html(`<h1 id="other">Other page</h1>`))
	mux.HandleFunc("/alert", html(`<script>alert("hi"); confirm("sure?")</script><p id="after">after the dialogs</p>`))
	mux.HandleFunc("/status500", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, "<p>oops</p>")
	})
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	addSecurityPages(t, mux)
	return startHTTP(t, mux)
}

const formPage = `<form id="f"><input id="name"><input id="email">
<button id="submit" type="submit">Send</button></form><p id="msg" style="display:none"></p>
<script>
document.getElementById("f").addEventListener("submit", (e) => {
  e.preventDefault();
  const name = document.getElementById("name").value;
  const email = document.getElementById("email").value;
  setTimeout(() => {
    const m = document.getElementById("msg");
    m.textContent = email.includes("@") ? "Thanks, " + name : "Sorry, " + name;
    m.style.display = "block";
  }, 50);
});
</script>`

func TestBrowserPages(t *testing.T) {
	b := newBrowser(t, probes.BrowserOptions{})
	srv := startPages(t)
	tests := []struct {
		name string
		test func(t *testing.T, b *probes.Browser, srv *httptest.Server)
	}{
		{"simple", pageSimple},
		{"late LCP image", pageLateLCP},
		{"layout shift", pageLayoutShift},
		{"uncaught exception", pageUncaughtException},
		{"console.error", pageConsoleError},
		{"failed sub-resource", pageFailedSubresource},
		{"dialogs do not stall the page", pageDialogs},
		{"document status 500", pageStatus500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.test(t, b, srv)
		})
	}
}

func pageSimple(t *testing.T, b *probes.Browser, srv *httptest.Server) {
	r := browse(t, b, probes.BrowserSpec{URL: srv.URL + "/simple"})
	wantOutcome(t, r, true, nil)
	d := r.Browser
	if r.Kind != probes.KindBrowser || r.Target != srv.URL+"/simple" || d.FinalURL != srv.URL+"/simple" {
		t.Errorf("kind %q target %q final %q", r.Kind, r.Target, d.FinalURL)
	}
	if r.Phases.Processing < 15*time.Millisecond || r.Phases.Transfer < 10*time.Millisecond {
		t.Errorf("phases %+v: want processing ≥ 15ms (server think time), transfer ≥ 10ms", r.Phases)
	}
	if d.TTFB < r.Phases.Processing || d.DOMContentLoaded < d.TTFB || d.Load < d.DOMContentLoaded {
		t.Errorf("ttfb %s dcl %s load %s: want ordered and > 0", d.TTFB, d.DOMContentLoaded, d.Load)
	}
	if d.FCP <= 0 || d.LCP < d.FCP {
		t.Errorf("fcp %s lcp %s: want 0 < fcp ≤ lcp", d.FCP, d.LCP)
	}
	if d.Requests < 1 || d.Bytes < 100 || len(d.JSErrors) != 0 || len(d.Screenshot) != 0 {
		t.Errorf("requests %d bytes %d js errors %q screenshot %d bytes", d.Requests, d.Bytes, d.JSErrors, len(d.Screenshot))
	}
	if r.Duration < d.Load {
		t.Errorf("duration %s < load %s", r.Duration, d.Load)
	}
	rep, _ := json.Marshal(probes.NewReport("c", r))
	if !bytes.Contains(rep, []byte(`"browser":{"final_url"`)) || !bytes.Contains(rep, []byte(`"screenshot":false`)) {
		t.Errorf("report: %s", rep)
	}
}

func pageLateLCP(t *testing.T, b *probes.Browser, srv *httptest.Server) {
	r := browse(t, b, probes.BrowserSpec{URL: srv.URL + "/lcp"})
	wantOutcome(t, r, true, nil)
	if d := r.Browser; d.LCP < 300*time.Millisecond || d.FCP <= 0 || d.FCP > d.LCP {
		t.Errorf("fcp %s lcp %s: want the image, served after 300ms, as LCP", d.FCP, d.LCP)
	}
	r = browse(t, b, probes.BrowserSpec{URL: srv.URL + "/lcp", Expect: probes.BrowserExpect{MaxLCP: 200 * time.Millisecond}})
	wantOutcome(t, r, false, probes.ErrSlowVitals)
	if !strings.Contains(r.Err.Error(), "max_lcp 200ms") || len(r.Browser.Screenshot) == 0 {
		t.Errorf("err %v, screenshot %d bytes", r.Err, len(r.Browser.Screenshot))
	}
}

func pageLayoutShift(t *testing.T, b *probes.Browser, srv *httptest.Server) {
	r := browse(t, b, probes.BrowserSpec{URL: srv.URL + "/cls"})
	wantOutcome(t, r, true, nil)
	if r.Browser.CLS <= 0 {
		t.Errorf("CLS %v, want > 0", r.Browser.CLS)
	}
	r = browse(t, b, probes.BrowserSpec{URL: srv.URL + "/cls", Expect: probes.BrowserExpect{MaxCLS: 0.0001}})
	wantOutcome(t, r, false, probes.ErrSlowVitals)
}

func pageUncaughtException(t *testing.T, b *probes.Browser, srv *httptest.Server) {
	r := browse(t, b, probes.BrowserSpec{URL: srv.URL + "/throw"})
	wantOutcome(t, r, false, probes.ErrJSError)
	if len(r.Browser.JSErrors) != 1 || !strings.Contains(r.Browser.JSErrors[0], "Error: boom-123") {
		t.Errorf("JSErrors %q", r.Browser.JSErrors)
	}
	r = browse(t, b, probes.BrowserSpec{URL: srv.URL + "/throw", Expect: probes.BrowserExpect{NoJSErrors: boolp(false)}})
	wantOutcome(t, r, true, nil)
	if len(r.Browser.JSErrors) != 1 {
		t.Errorf("JSErrors %q, want the error recorded", r.Browser.JSErrors)
	}
}

func pageConsoleError(t *testing.T, b *probes.Browser, srv *httptest.Server) {
	r := browse(t, b, probes.BrowserSpec{URL: srv.URL + "/console"})
	wantOutcome(t, r, false, probes.ErrJSError)
	if len(r.Browser.JSErrors) != 1 || r.Browser.JSErrors[0] != "console.error: bad thing 42" {
		t.Errorf("JSErrors %q", r.Browser.JSErrors)
	}
}

func pageFailedSubresource(t *testing.T, b *probes.Browser, srv *httptest.Server) {
	r := browse(t, b, probes.BrowserSpec{URL: srv.URL + "/broken-img"})
	wantOutcome(t, r, true, nil)
	want := "GET " + srv.URL + "/missing.png: HTTP 404"
	if len(r.Browser.FailedRequests) != 1 || r.Browser.FailedRequests[0] != want {
		t.Errorf("FailedRequests %q, want [%q]", r.Browser.FailedRequests, want)
	}
	r = browse(t, b, probes.BrowserSpec{URL: srv.URL + "/broken-img", Expect: probes.BrowserExpect{NoFailedRequests: boolp(true)}})
	wantOutcome(t, r, false, probes.ErrFailedRequest)
}

func pageDialogs(t *testing.T, b *probes.Browser, srv *httptest.Server) {
	r := browse(t, b, probes.BrowserSpec{URL: srv.URL + "/alert", Steps: []probes.BrowserStep{{WaitVisible: "#after"}}})
	wantOutcome(t, r, true, nil)
}

func pageStatus500(t *testing.T, b *probes.Browser, srv *httptest.Server) {
	r := browse(t, b, probes.BrowserSpec{URL: srv.URL + "/status500"})
	wantOutcome(t, r, false, probes.ErrUnexpectedStatus)
}
