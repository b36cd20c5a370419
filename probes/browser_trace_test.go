package probes_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/vantageprobe/vantage/probes"
)

// TestBrowserTraceparent: every document request to the check's origin
// carries the run's traceparent (and B3 when asked), with the probe's span
// as parent; a document of another origin (an iframe) gets neither.
func TestBrowserTraceparent(t *testing.T) {
	b := newBrowser(t, probes.BrowserOptions{})
	var mu sync.Mutex
	seen := map[string][2]string{} // origin+path → traceparent, b3
	record := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seen[name+r.URL.Path] = [2]string{r.Header.Get("Traceparent"), r.Header.Get("B3")}
			mu.Unlock()
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<!doctype html><title>x</title><p>other</p>")
		}
	}
	other := httptest.NewServer(record("other"))
	t.Cleanup(other.Close)
	first := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			record("first")(httptest.NewRecorder(), r)
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprintf(w, `<!doctype html><title>t</title><p>page</p><iframe src="%s/frame"></iframe>`, other.URL)
			return
		}
		record("first")(w, r)
	}))
	t.Cleanup(first.Close)
	for _, b3 := range []bool{false, true} {
		clear(seen)
		r := browse(t, b, probes.BrowserSpec{URL: first.URL + "/", B3: b3, Steps: []probes.BrowserStep{{Navigate: first.URL + "/next"}}})
		wantOutcome(t, r, true, nil)
		span := probes.ProbeSpanID(r.TraceID)
		if span == "" {
			t.Fatalf("trace id %q", r.TraceID)
		}
		wantTP, wantB3 := "00-"+r.TraceID+"-"+span+"-01", ""
		if b3 {
			wantB3 = r.TraceID + "-" + span + "-1"
		}
		mu.Lock()
		for _, path := range []string{"first/", "first/next"} {
			if got := seen[path]; got != [2]string{wantTP, wantB3} {
				t.Errorf("b3=%v %s got headers %q, want %q and %q", b3, path, got, wantTP, wantB3)
			}
		}
		if got, ok := seen["other/frame"]; !ok || got != [2]string{} {
			t.Errorf("b3=%v: the other origin's frame got %q (loaded %v): want no trace headers", b3, got, ok)
		}
		mu.Unlock()
	}
	off := false
	clear(seen)
	r := browse(t, b, probes.BrowserSpec{URL: first.URL + "/", Traceparent: &off})
	mu.Lock()
	defer mu.Unlock()
	if r.TraceID != "" || seen["first/"] != [2]string{} {
		t.Fatalf("traceparent: false still sent %q (trace id %q)", seen["first/"], r.TraceID)
	}
}
