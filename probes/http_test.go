package probes_test

import (
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/probes"
	"github.com/vantageprobe/vantage/probes/probestest"
)

func newHTTP(t testing.TB, spec probes.HTTPSpec) *probes.HTTPProber {
	t.Helper()
	p, err := probes.NewHTTP(spec)
	if err != nil {
		t.Fatalf("NewHTTP: %v", err)
	}
	return p
}

func mustPattern(s string) probes.Pattern { return probes.MustPattern(s) }

func status(s ...string) []probes.StatusRange {
	out := make([]probes.StatusRange, len(s))
	for i, v := range s {
		if err := out[i].UnmarshalText([]byte(v)); err != nil {
			panic(err)
		}
	}
	return out
}

func jsonPath(t testing.TB, path string, equals *string, matches string) probes.JSONAssertion {
	t.Helper()
	var a probes.JSONAssertion
	a.Equals = equals
	if err := a.Matches.UnmarshalText([]byte(matches)); err != nil {
		t.Fatal(err)
	}
	if matches == "" {
		a.Matches = probes.Pattern{}
	}
	a.Path = mustJSONPath(t, path)
	return a
}

func strp(s string) *string { return &s }

func testMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Version", "v1.2.3")
		fmt.Fprint(w, "all good")
	})
	mux.HandleFunc("/json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"status":"ok","checks":[{"name":"db","up":true},{"name":"cache","up":true}],"version":3}`)
	})
	mux.HandleFunc("/missing", http.NotFound)
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ok", http.StatusFound) })
	mux.HandleFunc("/chain/{n}", func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscan(r.PathValue("n"), &n)
		http.Redirect(w, r, fmt.Sprintf("/chain/%d", n+1), http.StatusFound)
	})
	mux.Handle("/a", probestest.RedirectLoop())
	mux.Handle("/b", probestest.RedirectLoop())
	mux.Handle("/huge", probestest.InfiniteBody(-1))
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s auth=%s", r.Method, b, r.Header.Get("Authorization"))
	})
	mux.HandleFunc("/traceparent", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, r.Header.Get("Traceparent")) })
	mux.HandleFunc("/b3", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, r.Header.Get("B3")) })
	return mux
}

func TestHTTPAssertions(t *testing.T) {
	srv := startHTTP(t, testMux())
	tests := []struct {
		name     string
		spec     probes.HTTPSpec
		ok       bool
		sentinel error
		msg      string // substring of the error
	}{
		{name: "200 passes", spec: probes.HTTPSpec{URL: "/ok"}, ok: true},
		{name: "404 fails default status", spec: probes.HTTPSpec{URL: "/missing"}, sentinel: probes.ErrUnexpectedStatus, msg: "got 404, want 200-399"},
		{name: "404 expected", spec: probes.HTTPSpec{URL: "/missing", Expect: probes.HTTPExpect{Status: status("404")}}, ok: true},
		{name: "status list", spec: probes.HTTPSpec{URL: "/ok", Expect: probes.HTTPExpect{Status: status("201", "3xx")}}, sentinel: probes.ErrUnexpectedStatus, msg: "want 201, 300-399"},
		{name: "body matches", spec: probes.HTTPSpec{URL: "/ok", Expect: probes.HTTPExpect{Body: mustPattern("^all go+d$")}}, ok: true},
		{name: "body mismatch", spec: probes.HTTPSpec{URL: "/ok", Expect: probes.HTTPExpect{Body: mustPattern("healthy")}}, sentinel: probes.ErrBodyMismatch, msg: `does not match "healthy"`},
		{name: "body_not hit", spec: probes.HTTPSpec{URL: "/ok", Expect: probes.HTTPExpect{BodyNot: mustPattern("good")}}, sentinel: probes.ErrBodyMismatch, msg: "body_not"},
		{name: "header matches", spec: probes.HTTPSpec{URL: "/ok", Expect: probes.HTTPExpect{Headers: map[string]probes.Pattern{"x-version": mustPattern(`^v1\.`)}}}, ok: true},
		{name: "header mismatch", spec: probes.HTTPSpec{URL: "/ok", Expect: probes.HTTPExpect{Headers: map[string]probes.Pattern{"X-Version": mustPattern(`^v2`)}}}, sentinel: probes.ErrHeaderMismatch, msg: "X-Version"},
		{name: "header missing", spec: probes.HTTPSpec{URL: "/ok", Expect: probes.HTTPExpect{Headers: map[string]probes.Pattern{"X-Nope": mustPattern(`.`)}}}, sentinel: probes.ErrHeaderMismatch, msg: "missing"},
		{name: "redirect followed", spec: probes.HTTPSpec{URL: "/redirect", Expect: probes.HTTPExpect{Status: status("200")}}, ok: true},
		{name: "redirect not followed", spec: probes.HTTPSpec{URL: "/redirect", FollowRedirects: boolp(false), Expect: probes.HTTPExpect{Status: status("200")}}, sentinel: probes.ErrUnexpectedStatus, msg: "got 302"},
		{name: "redirect loop", spec: probes.HTTPSpec{URL: "/a"}, sentinel: probes.ErrRedirect, msg: "redirect loop: " + srv.URL + "/a -> " + srv.URL + "/b -> " + srv.URL + "/a"},
		{name: "too many redirects", spec: probes.HTTPSpec{URL: "/chain/0"}, sentinel: probes.ErrRedirect, msg: "stopped after 10 redirects"},
		{name: "max_redirects 2", spec: probes.HTTPSpec{URL: "/chain/0", MaxRedirects: intp(2)}, sentinel: probes.ErrRedirect, msg: "stopped after 2 redirects"},
		{name: "max_redirects 0 fails on a redirect", spec: probes.HTTPSpec{URL: "/redirect", MaxRedirects: intp(0)}, sentinel: probes.ErrRedirect, msg: "stopped after 0 redirects"},
		{name: "json on a body over max_body_bytes", spec: probes.HTTPSpec{URL: "/json", MaxBodyBytes: 10, Expect: probes.HTTPExpect{JSON: []probes.JSONAssertion{jsonPath(t, "$.status", nil, "")}}}, sentinel: probes.ErrJSONMismatch, msg: "exceeds max_body_bytes"},
		{name: "huge body capped is not a failure", spec: probes.HTTPSpec{URL: "/huge", MaxBodyBytes: 64 << 10}, ok: true},
		{name: "huge body capped, regex on the read part", spec: probes.HTTPSpec{URL: "/huge", Expect: probes.HTTPExpect{Body: mustPattern("^a+$")}}, ok: true},
		{name: "json equals", spec: probes.HTTPSpec{URL: "/json", Expect: probes.HTTPExpect{JSON: []probes.JSONAssertion{jsonPath(t, "$.status", strp("ok"), "")}}}, ok: true},
		{name: "json number equals", spec: probes.HTTPSpec{URL: "/json", Expect: probes.HTTPExpect{JSON: []probes.JSONAssertion{jsonPath(t, "$.version", strp("3"), "")}}}, ok: true},
		{name: "json all selected match", spec: probes.HTTPSpec{URL: "/json", Expect: probes.HTTPExpect{JSON: []probes.JSONAssertion{jsonPath(t, "$.checks[*].up", strp("true"), "")}}}, ok: true},
		{name: "json filter", spec: probes.HTTPSpec{URL: "/json", Expect: probes.HTTPExpect{JSON: []probes.JSONAssertion{jsonPath(t, `$.checks[?@.name=="db"].up`, strp("true"), "")}}}, ok: true},
		{name: "json regex", spec: probes.HTTPSpec{URL: "/json", Expect: probes.HTTPExpect{JSON: []probes.JSONAssertion{jsonPath(t, "$.status", nil, "^o")}}}, ok: true},
		{name: "json mismatch", spec: probes.HTTPSpec{URL: "/json", Expect: probes.HTTPExpect{JSON: []probes.JSONAssertion{jsonPath(t, "$.status", strp("down"), "")}}}, sentinel: probes.ErrJSONMismatch, msg: `$.status is "ok", want "down"`},
		{name: "json selects nothing", spec: probes.HTTPSpec{URL: "/json", Expect: probes.HTTPExpect{JSON: []probes.JSONAssertion{jsonPath(t, "$.nope", nil, "")}}}, sentinel: probes.ErrJSONMismatch, msg: "selects nothing"},
		{name: "json on non-json body", spec: probes.HTTPSpec{URL: "/ok", Expect: probes.HTTPExpect{JSON: []probes.JSONAssertion{jsonPath(t, "$.a", nil, "")}}}, sentinel: probes.ErrJSONMismatch, msg: "not JSON"},
		{name: "post with body", spec: probes.HTTPSpec{URL: "/echo", Method: "POST", Body: "hello", Expect: probes.HTTPExpect{Body: mustPattern("^POST hello auth=$")}}, ok: true},
		{name: "basic auth", spec: probes.HTTPSpec{URL: "/echo", BasicAuth: &probes.BasicAuth{Username: "u", Password: "p"}, Expect: probes.HTTPExpect{Body: mustPattern("auth=Basic dTpw$")}}, ok: true},
		{name: "bearer", spec: probes.HTTPSpec{URL: "/echo", BearerToken: "tok", Expect: probes.HTTPExpect{Body: mustPattern("auth=Bearer tok$")}}, ok: true},
		{name: "ipv6 only against an IPv4 literal", spec: probes.HTTPSpec{URL: "/ok", IPVersion: probes.IPv6}, sentinel: probes.ErrResolve, msg: "not an IPv6 address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.spec.URL = srv.URL + tt.spec.URL
			r := probeOnce(t, newHTTP(t, tt.spec), 5*time.Second)
			wantOutcome(t, r, tt.ok, tt.sentinel)
			if tt.msg != "" && !strings.Contains(r.Err.Error(), tt.msg) {
				t.Fatalf("error %q does not contain %q", r.Err, tt.msg)
			}
		})
	}
}

func TestHTTPDetail(t *testing.T) {
	srv := startHTTP(t, testMux())
	r := probeOnce(t, newHTTP(t, probes.HTTPSpec{URL: srv.URL + "/redirect"}), 5*time.Second)
	wantOutcome(t, r, true, nil)
	h := r.HTTP
	if h.StatusCode != 200 || h.Redirects != 1 || h.FinalURL != srv.URL+"/ok" || h.BodyBytes != 8 || h.Version != "HTTP/1.1" {
		t.Fatalf("detail = %+v", h)
	}
	if r.Phases.Connect <= 0 || r.Phases.Processing <= 0 {
		t.Fatalf("phases not measured: %+v", r.Phases)
	}
	var sum time.Duration
	r.Phases.Each(func(_ string, d time.Duration) { sum += d })
	if sum > r.Duration {
		t.Fatalf("phases sum %s > total %s", sum, r.Duration)
	}
}

func TestHTTPHugeBodyIsCapped(t *testing.T) {
	srv := startHTTP(t, testMux())
	r := probeOnce(t, newHTTP(t, probes.HTTPSpec{URL: srv.URL + "/huge"}), 10*time.Second)
	wantOutcome(t, r, true, nil)
	if r.HTTP.BodyBytes != probes.DefaultMaxBodyBytes {
		t.Fatalf("read %d bytes, want the 1 MiB cap", r.HTTP.BodyBytes)
	}
}

func TestHTTPTraceparent(t *testing.T) {
	srv := startHTTP(t, testMux())
	p := newHTTP(t, probes.HTTPSpec{URL: srv.URL + "/traceparent", Expect: probes.HTTPExpect{Body: mustPattern(`^00-[0-9a-f]{32}-[0-9a-f]{16}-01$`)}})
	r1 := probeOnce(t, p, 5*time.Second)
	r2 := probeOnce(t, p, 5*time.Second)
	wantOutcome(t, r1, true, nil)
	if len(r1.TraceID) != 32 || r1.TraceID == r2.TraceID {
		t.Fatalf("trace ids %q, %q: want 32 hex, fresh per probe", r1.TraceID, r2.TraceID)
	}
	if _, err := hex.DecodeString(r1.TraceID); err != nil {
		t.Fatal(err)
	}
	b3 := probeOnce(t, newHTTP(t, probes.HTTPSpec{URL: srv.URL + "/b3", B3: true, Expect: probes.HTTPExpect{Body: mustPattern(`^[0-9a-f]{32}-[0-9a-f]{16}-1$`)}}), 5*time.Second)
	wantOutcome(t, b3, true, nil)
	if b3.TraceID == "" {
		t.Fatal("B3 probe recorded no trace id")
	}
	seen := make(chan [2]string, 1)
	hdrs := startHTTP(t, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		seen <- [2]string{r.Header.Get("Traceparent"), r.Header.Get("B3")}
	}))
	both := probeOnce(t, newHTTP(t, probes.HTTPSpec{URL: hdrs.URL, B3: true}), 5*time.Second)
	got := <-seen
	span := probes.ProbeSpanID(both.TraceID)
	if got[0] != "00-"+both.TraceID+"-"+span+"-01" || got[1] != both.TraceID+"-"+span+"-1" {
		t.Fatalf("headers %q for trace %s: the parent span must be ProbeSpanID %q", got, both.TraceID, span)
	}
	off := newHTTP(t, probes.HTTPSpec{URL: srv.URL + "/traceparent", Traceparent: boolp(false), Expect: probes.HTTPExpect{Body: mustPattern(`^$`)}})
	if r := probeOnce(t, off, 5*time.Second); !r.OK || r.TraceID != "" {
		t.Fatalf("traceparent: false still sent one: %+v", r)
	}
}

// TestHTTPFreshConnection proves each probe opens its own connection.
func TestHTTPFreshConnection(t *testing.T) {
	var conns atomic.Int64
	srv := startHTTPUnstarted(t, testMux(), func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	})
	p := newHTTP(t, probes.HTTPSpec{URL: srv.URL + "/ok"})
	for range 5 {
		r := probeOnce(t, p, 5*time.Second)
		wantOutcome(t, r, true, nil)
		if r.Phases.Connect <= 0 {
			t.Fatalf("connect phase %s: connection was reused", r.Phases.Connect)
		}
	}
	if n := conns.Load(); n != 5 {
		t.Fatalf("server saw %d connections for 5 probes", n)
	}
}

func TestHTTPDuration(t *testing.T) {
	srv := startHTTP(t, probestest.Delay(60*time.Millisecond, "slow"))
	tests := []struct {
		name     string
		expect   probes.HTTPExpect
		ok, degr bool
	}{
		{"max_duration exceeded", probes.HTTPExpect{MaxDuration: 30 * time.Millisecond}, false, false},
		{"degraded_after exceeded", probes.HTTPExpect{DegradedAfter: 20 * time.Millisecond, MaxDuration: time.Second}, true, true},
		{"within budgets", probes.HTTPExpect{DegradedAfter: time.Second, MaxDuration: 2 * time.Second}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := probeOnce(t, newHTTP(t, probes.HTTPSpec{URL: srv.URL, Expect: tt.expect}), 5*time.Second)
			if r.OK != tt.ok || r.Degraded != tt.degr {
				t.Fatalf("ok=%v degraded=%v (err %v, warning %v), want %v %v", r.OK, r.Degraded, r.Err, r.Warning, tt.ok, tt.degr)
			}
			if !tt.ok && probes.ErrorClass(r.Err) != "too_slow" {
				t.Fatalf("class %q", probes.ErrorClass(r.Err))
			}
			if tt.degr && probes.ErrorClass(r.Warning) != "too_slow" {
				t.Fatalf("warning class %q", probes.ErrorClass(r.Warning))
			}
		})
	}
}

func TestHTTPValidate(t *testing.T) {
	tests := []struct {
		spec probes.HTTPSpec
		want string
	}{
		{probes.HTTPSpec{}, "url: required"},
		{probes.HTTPSpec{URL: "ftp://x/"}, "scheme must be http or https"},
		{probes.HTTPSpec{URL: "http:///nohost"}, "has no host"},
		{probes.HTTPSpec{URL: "http://x/", Method: "get"}, "method:"},
		{probes.HTTPSpec{URL: "http://x/", Headers: map[string]string{"X": "a\r\nInjected: 1"}}, "headers.X: value must not contain a line break"},
		{probes.HTTPSpec{URL: "http://x/", Headers: map[string]string{"X(bad)": "v"}}, `"X(bad)" is not a valid header name`},
		{probes.HTTPSpec{URL: "http://x/", Headers: map[string]string{"X": "a\x00b"}}, "headers.X: value contains a control character"},
		{probes.HTTPSpec{URL: "https://alice:s3cret@x/"}, "credentials in the URL"},
		{probes.HTTPSpec{URL: "http://x/", BasicAuth: &probes.BasicAuth{}, BearerToken: "t"}, "bearer_token: set either"},
		{probes.HTTPSpec{URL: "http://x/", TLSConfig: probes.TLSOptions{CertFile: "c"}}, "tls_config: cert_file and key_file"},
		{probes.HTTPSpec{URL: "http://x/", Expect: probes.HTTPExpect{MaxDuration: time.Second, DegradedAfter: 2 * time.Second}}, "expect.degraded_after"},
		{probes.HTTPSpec{URL: "http://x/", Expect: probes.HTTPExpect{JSON: []probes.JSONAssertion{{}}}}, "expect.json[0].path: required"},
	}
	for _, tt := range tests {
		err := tt.spec.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate(%+v) = %v, want %q", tt.spec, err, tt.want)
		}
	}
	if err := (probes.HTTPSpec{URL: "https://example.com/"}).Validate(); err != nil {
		t.Errorf("valid spec: %v", err)
	}
}

// TestHTTPCookies: with cookies, a redirect that sets a cookie and comes
// back to the same URL succeeds; without, it is a loop.
func TestHTTPCookies(t *testing.T) {
	srv := startHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := r.Cookie("session"); err != nil {
			http.SetCookie(w, &http.Cookie{Name: "session", Value: "1", Path: "/"})
			http.Redirect(w, r, r.URL.Path, http.StatusFound)
			return
		}
		fmt.Fprint(w, "welcome")
	}))
	r := probeOnce(t, newHTTP(t, probes.HTTPSpec{URL: srv.URL + "/login", Cookies: true, Expect: probes.HTTPExpect{Body: mustPattern("^welcome$")}}), 5*time.Second)
	wantOutcome(t, r, true, nil)
	if r.HTTP.Redirects != 1 {
		t.Fatalf("redirects %d, want 1", r.HTTP.Redirects)
	}
	// Every probe starts without cookies.
	r = probeOnce(t, newHTTP(t, probes.HTTPSpec{URL: srv.URL + "/login", Cookies: true}), 5*time.Second)
	if r.HTTP == nil || r.HTTP.Redirects != 1 {
		t.Fatalf("second probe: %+v", r.HTTP)
	}
	r = probeOnce(t, newHTTP(t, probes.HTTPSpec{URL: srv.URL + "/login"}), 5*time.Second)
	wantOutcome(t, r, false, probes.ErrRedirect)
}
