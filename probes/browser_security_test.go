package probes_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/vantageprobe/vantage/probes"
)

// leaks records what pages posted to /leak: a page that could read a local
// file would send it there.
type leaks struct {
	mu   sync.Mutex
	body []string
}

func (l *leaks) all() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.body, "\n")
}

// addSecurityPages adds pages that try to reach file:///etc/passwd.
func addSecurityPages(t testing.TB, mux *http.ServeMux) *leaks {
	l := &leaks{}
	mux.HandleFunc("/leak", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		l.mu.Lock()
		l.body = append(l.body, string(b))
		l.mu.Unlock()
	})
	mux.HandleFunc("/redirect-file", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
	})
	mux.HandleFunc("/script-file", html(`<p>x</p><script>
fetch("file:///etc/passwd").then((r) => r.text()).then((t) => navigator.sendBeacon("/leak", t)).catch(() => {});
location = "file:///etc/passwd";
</script>`))
	mux.HandleFunc("/iframe-file", html(`<p>x</p><iframe id="f" src="file:///etc/passwd"></iframe>`))
	mux.HandleFunc("/iframe-data", html(`<p>x</p><iframe src="data:text/html,<p>inline</p>"></iframe>`))
	mux.HandleFunc("/redirect-chrome", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "chrome://version", http.StatusFound)
	})
	return l
}

// noPasswd is true when neither the page nor any frame it can read shows
// the contents of /etc/passwd.
const noPasswd = `[document, ...Array.from(frames, (f) => { try { return f.document } catch (e) { return null } })]
  .every((d) => !d || !d.documentElement || !d.documentElement.outerHTML.includes("root:"))`

func TestBrowserBlocksNonWebURLs(t *testing.T) {
	b := newBrowser(t, probes.BrowserOptions{})
	mux := http.NewServeMux()
	l := addSecurityPages(t, mux)
	srv := startHTTP(t, mux)
	tests := []struct {
		path    string
		blocked string
	}{
		{"/redirect-file", "file:///etc/passwd"},
		{"/script-file", "file:///etc/passwd"},
		{"/iframe-file", "file:///etc/passwd"},
		{"/iframe-data", "data:text/html,<p>inline</p>"},
		{"/redirect-chrome", "chrome://version"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			r := browse(t, b, probes.BrowserSpec{URL: srv.URL + tt.path, Steps: []probes.BrowserStep{{Eval: noPasswd}}})
			wantOutcome(t, r, false, probes.ErrBlockedURL)
			if !strings.Contains(r.Err.Error(), tt.blocked) {
				t.Errorf("err %q does not name %s", r.Err, tt.blocked)
			}
			d := r.Browser
			for _, s := range d.Steps {
				if s.Err != "" {
					t.Errorf("step %s: %s", s.Name, s.Err)
				}
			}
			all := fmt.Sprint(r.Err, d.FinalURL, d.JSErrors, d.FailedRequests)
			if strings.Contains(all, "root:") || strings.HasPrefix(d.FinalURL, "file:") {
				t.Errorf("the result shows the local file: %s", all)
			}
		})
	}
	t.Run("nothing leaked", func(t *testing.T) {
		t.Parallel()
		r := browse(t, b, probes.BrowserSpec{URL: srv.URL + "/script-file", Steps: []probes.BrowserStep{{Eval: `new Promise((r) => setTimeout(() => r(true), 100))`}}})
		wantOutcome(t, r, false, probes.ErrBlockedURL)
		if got := l.all(); strings.Contains(got, "root:") {
			t.Fatalf("a page read /etc/passwd: %.100q", got)
		}
	})
}
