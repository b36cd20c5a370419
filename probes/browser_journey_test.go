package probes_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/probes"
)

var pngMagic = []byte("\x89PNG\r\n\x1a\n")

func formSteps(email, want string) []probes.BrowserStep {
	return []probes.BrowserStep{
		{Type: &probes.TypeText{Selector: "#name", Text: "Ada"}},
		{Type: &probes.TypeText{Selector: "#email", Text: probes.Secret(email)}},
		{Click: "#submit"},
		{WaitVisible: "#msg"},
		{AssertText: &probes.AssertText{Selector: "#msg", Matches: probes.MustPattern(want)}},
		{Eval: `document.getElementById("name").value === "Ada"`},
	}
}

func TestBrowserJourney(t *testing.T) {
	b := newBrowser(t, probes.BrowserOptions{})
	srv := startPages(t)
	tests := []struct {
		name string
		test func(t *testing.T, b *probes.Browser, srv *httptest.Server)
	}{
		{"form passes", journeyFormOK},
		{"form fails at a named step", journeyFormFails},
		{"eval false", journeyEvalFalse},
		{"navigate step", journeyNavigateStep},
		{"wait_visible times out", journeyWaitTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.test(t, b, srv)
		})
	}
}

func journeyFormOK(t *testing.T, b *probes.Browser, srv *httptest.Server) {
	r := browse(t, b, probes.BrowserSpec{URL: srv.URL + "/form", Steps: formSteps("ada@example.com", "^Thanks, Ada$")})
	wantOutcome(t, r, true, nil)
	steps := r.Browser.Steps
	// #msg appears 50 ms after the click: the click and the wait for it
	// share those 50 ms (a slow click round trip leaves the wait less).
	if len(steps) != 6 || steps[0].Name != "type #name" || steps[2].Name != "click #submit" ||
		steps[2].Duration+steps[3].Duration < 45*time.Millisecond {
		t.Errorf("steps %+v: want 6 named, the click and the wait for #msg ≥ 45ms together (it appears 50ms after the click)", steps)
	}
	if len(r.Browser.Screenshot) != 0 {
		t.Errorf("a passing run has a screenshot with screenshot: on_failure")
	}
}

func journeyFormFails(t *testing.T, b *probes.Browser, srv *httptest.Server) {
	r := browse(t, b, probes.BrowserSpec{URL: srv.URL + "/form", Steps: formSteps("not-an-email", "Thanks")})
	wantOutcome(t, r, false, probes.ErrBrowserStep)
	want := `step 5 (assert_text #msg): text "Sorry, Ada" does not match "Thanks"`
	if r.Err.Error() != want {
		t.Errorf("err %q, want %q", r.Err, want)
	}
	if !bytes.HasPrefix(r.Browser.Screenshot, pngMagic) || len(r.Browser.Steps) != 5 || r.Browser.Steps[4].Err == "" {
		t.Errorf("screenshot %.8q, steps %+v", r.Browser.Screenshot, r.Browser.Steps)
	}
	if s := fmt.Sprintf("%v %+v", r.Browser.Steps, r); strings.Contains(s, "not-an-email") {
		t.Errorf("the typed text leaks into the result: %s", s)
	}
	if got := probes.ErrorClass(r.Err); got != "step" {
		t.Errorf("class %q, want step", got)
	}
	rep, _ := json.Marshal(probes.NewReport("journey", r))
	if !bytes.Contains(rep, []byte(`"screenshot":true`)) || bytes.Contains(rep, []byte("iVBOR")) || bytes.Contains(rep, []byte("not-an-email")) {
		t.Errorf("report (want the screenshot flagged, not embedded, and no typed text): %s", rep)
	}
}

func journeyEvalFalse(t *testing.T, b *probes.Browser, srv *httptest.Server) {
	r := browse(t, b, probes.BrowserSpec{URL: srv.URL + "/other", Screenshot: probes.ScreenshotNever,
		Steps: []probes.BrowserStep{{Eval: `document.title === "nope"`}}})
	wantOutcome(t, r, false, probes.ErrBrowserStep)
	if !strings.Contains(r.Err.Error(), "evaluated to false, want true") || len(r.Browser.Screenshot) != 0 {
		t.Errorf("err %v, screenshot %d bytes with screenshot: never", r.Err, len(r.Browser.Screenshot))
	}
}

func journeyNavigateStep(t *testing.T, b *probes.Browser, srv *httptest.Server) {
	r := browse(t, b, probes.BrowserSpec{URL: srv.URL + "/simple", Screenshot: probes.ScreenshotAlways, Steps: []probes.BrowserStep{
		{Navigate: srv.URL + "/other"},
		{AssertText: &probes.AssertText{Selector: "#other", Matches: probes.MustPattern("Other page")}},
	}})
	wantOutcome(t, r, true, nil)
	if r.Browser.FinalURL != srv.URL+"/other" || !bytes.HasPrefix(r.Browser.Screenshot, pngMagic) {
		t.Errorf("final URL %q, screenshot %.8q (screenshot: always)", r.Browser.FinalURL, r.Browser.Screenshot)
	}
	if r.Browser.FCP <= 0 || r.Phases.Processing < 15*time.Millisecond {
		t.Errorf("fcp %s processing %s: want those of the first page", r.Browser.FCP, r.Phases.Processing)
	}
}

func journeyWaitTimeout(t *testing.T, b *probes.Browser, srv *httptest.Server) {
	p := newBrowserProber(t, b, probes.BrowserSpec{URL: srv.URL + "/other", Steps: []probes.BrowserStep{{WaitVisible: "#never"}}})
	r, took := probeTimed(t, p, 1500*time.Millisecond)
	wantOutcome(t, r, false, probes.ErrBrowserStep)
	if !strings.Contains(r.Err.Error(), `step 1 (wait_visible #never): "#never" not visible before the deadline`) {
		t.Errorf("err %v", r.Err)
	}
	if took > 1800*time.Millisecond {
		t.Errorf("took %s with a 1.5s deadline", took)
	}
}

// TestBrowserIsolation: every run has its own incognito context, so a
// cookie and localStorage set by one run are gone in the next.
func TestBrowserIsolation(t *testing.T) {
	b := newBrowser(t, probes.BrowserOptions{})
	var sawCookie atomic.Bool
	srv := startHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" { // the favicon request of a run carries that run's cookie
			http.NotFound(w, r)
			return
		}
		if r.Header.Get("Cookie") != "" {
			sawCookie.Store(true)
		}
		http.SetCookie(w, &http.Cookie{Name: "server", Value: "1", MaxAge: 3600, HttpOnly: true})
		html(`<p id="seen"></p><script>
document.getElementById("seen").textContent = "[" + document.cookie + "|" + (localStorage.getItem("k") || "") + "]";
document.cookie = "page=1; max-age=3600"; localStorage.setItem("k", "v");
</script>`)(w, r)
	}))
	spec := probes.BrowserSpec{URL: srv.URL + "/", Steps: []probes.BrowserStep{
		{AssertText: &probes.AssertText{Selector: "#seen", Matches: probes.MustPattern(`^\[\|\]$`)}},
		{Eval: `document.cookie.includes("page=1") && localStorage.getItem("k") === "v"`},
	}}
	for i := range 2 {
		r := browse(t, b, spec)
		wantOutcome(t, r, true, nil)
		if sawCookie.Load() {
			t.Fatalf("run %d: the server got a cookie from an earlier run", i+1)
		}
	}
}

func TestBrowserNavigationErrors(t *testing.T) {
	b := newBrowser(t, probes.BrowserOptions{MaxConcurrency: 3}) // no subtest waits for a slot
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String() + "/"
	ln.Close()
	tlsSrv := httptest.NewUnstartedServer(html("<p>self-signed</p>"))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // Chromium's rejections of the certificate
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	pages := startPages(t)
	tests := []struct {
		name    string
		url     string
		timeout time.Duration
		want    error
	}{
		{"refused", refused, 10 * time.Second, probes.ErrConnRefused},
		{"untrusted certificate", tlsSrv.URL + "/", 10 * time.Second, probes.ErrCertInvalid},
		{"no response before the deadline", pages.URL + "/hang", 2 * time.Second, probes.ErrTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, took := probeTimed(t, newBrowserProber(t, b, probes.BrowserSpec{URL: tt.url}), tt.timeout)
			wantOutcome(t, r, false, tt.want)
			if !strings.Contains(r.Err.Error(), tt.url) || took > tt.timeout+300*time.Millisecond {
				t.Errorf("err %v (want the URL named), took %s", r.Err, took)
			}
		})
	}
}

func TestBrowserValidate(t *testing.T) {
	ok := "http://127.0.0.1/"
	tests := []struct {
		name string
		spec probes.BrowserSpec
		want []string // substrings of the error, none = valid
	}{
		{"minimal", probes.BrowserSpec{URL: ok}, nil},
		{"no url", probes.BrowserSpec{}, []string{"url: required"}},
		{"file url", probes.BrowserSpec{URL: "file:///etc/passwd"}, []string{"url: ", "scheme must be http or https"}},
		{"viewport", probes.BrowserSpec{URL: ok, Viewport: probes.Viewport{Width: 5000}},
			[]string{"viewport.width: must be 1-4096 pixels, got 5000", "viewport.height: must be 1-4096 pixels, got 0"}},
		{"empty step", probes.BrowserSpec{URL: ok, Steps: []probes.BrowserStep{{Click: "#a"}, {}}},
			[]string{"steps[1]: set exactly one of click, wait_visible, assert_text, type, navigate, eval, wait"}},
		{"two kinds", probes.BrowserSpec{URL: ok, Steps: []probes.BrowserStep{{Click: "#a", Navigate: ok}}},
			[]string{"steps[0]: set exactly one of", "got click and navigate"}},
		{"navigate file", probes.BrowserSpec{URL: ok, Steps: []probes.BrowserStep{{Wait: time.Second}, {Navigate: "javascript:alert(1)"}}},
			[]string{"steps[1].navigate: ", "scheme must be http or https"}},
		{"assert_text parts", probes.BrowserSpec{URL: ok, Steps: []probes.BrowserStep{{AssertText: &probes.AssertText{}}}},
			[]string{"steps[0].assert_text.selector: required", "steps[0].assert_text.matches: required"}},
		{"type selector", probes.BrowserSpec{URL: ok, Steps: []probes.BrowserStep{{Type: &probes.TypeText{Text: "x"}}}},
			[]string{"steps[0].type.selector: required"}},
		{"negative wait", probes.BrowserSpec{URL: ok, Steps: []probes.BrowserStep{{Wait: -time.Second}}}, []string{"steps[0].wait: must be positive"}},
		{"limits", probes.BrowserSpec{URL: ok, Screenshot: "sometimes", Expect: probes.BrowserExpect{MaxLCP: -1, MaxCLS: -0.1}},
			[]string{"screenshot: ", "expect.max_lcp: must not be negative", "expect.max_cls: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.spec.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate: nil, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
	var m probes.ScreenshotMode
	if err := m.UnmarshalText([]byte("always")); err != nil || m != probes.ScreenshotAlways {
		t.Errorf("UnmarshalText(always) = %q, %v", m, err)
	}
	if err := m.UnmarshalText([]byte("sometimes")); err == nil {
		t.Error("UnmarshalText(sometimes): no error")
	}
}

func TestBrowserNoChromium(t *testing.T) {
	_, err := probes.NewBrowser(probes.BrowserOptions{ExecPath: "/nonexistent/chromium"})
	if !errors.Is(err, probes.ErrNoBrowser) || !strings.Contains(err.Error(), "install Chromium (apt-get install chromium) or set browser.exec_path") {
		t.Fatalf("NewBrowser: %v, want ErrNoBrowser naming the fix", err)
	}
	_, err = probes.NewBrowserProber(probes.BrowserSpec{URL: "http://127.0.0.1/"}, nil)
	if !errors.Is(err, probes.ErrNoBrowser) {
		t.Fatalf("NewBrowserProber(nil browser): %v, want ErrNoBrowser", err)
	}
	_, err = probes.NewBrowserProber(probes.BrowserSpec{URL: "ftp://x/"}, nil)
	if err == nil || errors.Is(err, probes.ErrNoBrowser) {
		t.Fatalf("NewBrowserProber(invalid spec): %v, want the validation error", err)
	}
}
