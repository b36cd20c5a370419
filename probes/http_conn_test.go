package probes_test

import (
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/probes"
	"github.com/vantageprobe/vantage/probes/probestest"
)

// rawServer answers every connection on loopback with reply, after
// reading the request head.
func rawServer(t *testing.T, reply string) string {
	t.Helper()
	return "http://" + probestest.ServeTCP(t, func(_ context.Context, c net.Conn) {
		if _, err := http.ReadRequest(bufio.NewReader(c)); err == nil {
			_, _ = io.WriteString(c, reply)
		}
	}) + "/"
}

// TestHTTPInformationalAnswers: 100 Continue and 103 Early Hints before
// the response are skipped, as Go's transport skips them.
func TestHTTPInformationalAnswers(t *testing.T) {
	url := rawServer(t, "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"+
		"HTTP/1.1 100 Continue\r\n\r\n"+
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
	r := probeOnce(t, newHTTP(t, probes.HTTPSpec{URL: url}), 5*time.Second)
	wantOutcome(t, r, true, nil)
	if r.HTTP.StatusCode != 200 || r.HTTP.BodyBytes != 2 || r.HTTP.ContentLength != 2 {
		t.Fatalf("%+v", r.HTTP)
	}
}

// TestHTTPHeadTooLong: a response head over 1 MiB is a protocol error,
// not read on without end.
func TestHTTPHeadTooLong(t *testing.T) {
	url := rawServer(t, "HTTP/1.1 200 OK\r\nX-Pad: "+strings.Repeat("a", 1<<20+10)+"\r\n\r\n")
	r := probeOnce(t, newHTTP(t, probes.HTTPSpec{URL: url}), 5*time.Second)
	wantOutcome(t, r, false, probes.ErrProtocol)
	if !strings.Contains(r.Err.Error(), "response head longer than") {
		t.Fatalf("err %v", r.Err)
	}
}

// TestHTTPRedirectHeaders: across a redirect to another host the
// Authorization header is dropped, on the same host it is kept, a Referer
// is sent, and a 307 sends the POST body again while a 303 turns it into
// a GET without one, as Go's client does.
func TestHTTPRedirectHeaders(t *testing.T) {
	type seen struct{ method, auth, referer, body string }
	got := make(chan seen, 10)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.Header.Get("Authorization"), r.Header.Get("Referer"), string(b)}
		switch r.URL.Path {
		case "/307":
			http.Redirect(w, r, "/end", http.StatusTemporaryRedirect)
		case "/303":
			http.Redirect(w, r, "/end", http.StatusSeeOther)
		case "/away":
			http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
		default:
			io.WriteString(w, "end")
		}
	})
	srv := startHTTP(t, h)
	other := httptest.NewServer(h)
	t.Cleanup(other.Close)
	// The same server under another name: a different host for the client.
	otherURL := strings.Replace(other.URL, "127.0.0.1", "localhost", 1)
	drain := func() []seen {
		var out []seen
		for {
			select {
			case s := <-got:
				out = append(out, s)
			default:
				return out
			}
		}
	}
	for _, tt := range []struct {
		name string
		spec probes.HTTPSpec
		want string
	}{
		{"307 keeps the body", probes.HTTPSpec{URL: srv.URL + "/307", Method: "POST", Body: "payload", BearerToken: "tok"},
			fmt.Sprintf("[{POST Bearer tok  payload} {POST Bearer tok %s/307 payload}]", srv.URL)},
		{"303 becomes a GET", probes.HTTPSpec{URL: srv.URL + "/303", Method: "POST", Body: "payload", BearerToken: "tok"},
			fmt.Sprintf("[{POST Bearer tok  payload} {GET Bearer tok %s/303 }]", srv.URL)},
		{"another host loses Authorization", probes.HTTPSpec{URL: srv.URL + "/away?to=" + otherURL + "/end", BearerToken: "tok"},
			fmt.Sprintf("[{GET Bearer tok  } {GET  %s/away?to=%s/end }]", srv.URL, otherURL)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := probeOnce(t, newHTTP(t, tt.spec), 5*time.Second)
			wantOutcome(t, r, true, nil)
			if r.HTTP.Redirects != 1 || !strings.HasSuffix(r.HTTP.FinalURL, "/end") {
				t.Errorf("redirects %d, final %s", r.HTTP.Redirects, r.HTTP.FinalURL)
			}
			if s := fmt.Sprint(drain()); s != tt.want {
				t.Errorf("server saw\n%s\nwant\n%s", s, tt.want)
			}
		})
	}
}

// TestHTTPRedirectToHTTPS: a chain from http:// to https:// and back
// follows every hop, each on its own connection, and reports the TLS of
// the last https hop only when it ends there.
func TestHTTPRedirectToHTTPS(t *testing.T) {
	plain := startHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if to := r.URL.Query().Get("to"); to != "" {
			http.Redirect(w, r, to, http.StatusFound)
			return
		}
		io.WriteString(w, "plain")
	}))
	secure := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "secure")
	}))
	t.Cleanup(secure.Close)
	spec := probes.HTTPSpec{URL: plain.URL + "/?to=" + secure.URL + "/x"}
	spec.TLSConfig.InsecureSkipVerify = true
	r := probeOnce(t, newHTTP(t, spec), 5*time.Second)
	wantOutcome(t, r, true, nil)
	if r.HTTP.Redirects != 1 || r.HTTP.FinalURL != secure.URL+"/x" || r.TLS == nil || r.HTTP.BodyBytes != 6 {
		t.Fatalf("%+v tls %+v", r.HTTP, r.TLS)
	}
	if r.Phases.TLS <= 0 || r.Phases.Connect <= 0 {
		t.Errorf("phases %+v", r.Phases)
	}
}

// TestHTTPErrorNamesTheRequest: a failed request's error reads as Go's
// client words it, whichever way the request went.
func TestHTTPErrorNamesTheRequest(t *testing.T) {
	addr := probestest.RefusedAddr(t)
	r := probeOnce(t, newHTTP(t, probes.HTTPSpec{URL: "http://" + addr + "/x?y=1"}), 5*time.Second)
	wantOutcome(t, r, false, probes.ErrConnRefused)
	if want := `Get "http://` + addr + `/x?y=1": `; !strings.Contains(r.Err.Error(), want) {
		t.Errorf("error %q, want it to contain %q", r.Err, want)
	}
}

// TestHTTPGzipAfterRedirect: the gzip the probe asks for by itself is
// asked for and decoded on every hop, not carried over as a header of the
// check's own.
func TestHTTPGzipAfterRedirect(t *testing.T) {
	srv := startHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/start" {
			http.Redirect(w, r, "/end", http.StatusFound)
			return
		}
		if r.Header.Get("Accept-Encoding") != "gzip" {
			http.Error(w, "no gzip asked", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		io.WriteString(zw, strings.Repeat("hello ", 100))
		zw.Close()
	}))
	r := probeOnce(t, newHTTP(t, probes.HTTPSpec{URL: srv.URL + "/start", Expect: probes.HTTPExpect{Body: mustPattern("hello hello")}}), 5*time.Second)
	wantOutcome(t, r, true, nil)
	if r.HTTP.BodyBytes != 600 || r.HTTP.ContentLength != -1 || r.HTTP.Redirects != 1 {
		t.Fatalf("%+v", r.HTTP)
	}
}

// TestHTTPRedirectBackKeepsCredentialsStripped: once a redirect to another
// host dropped the Authorization header, it stays dropped on a hop back to
// the first host, whose address that other host chose (CVE-2024-45336 in
// Go's client).
func TestHTTPRedirectBackKeepsCredentialsStripped(t *testing.T) {
	auth := make(chan string, 4)
	var back string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth <- r.URL.Path + ":" + r.Header.Get("Authorization")
		switch r.URL.Path {
		case "/start":
			http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
		case "/away":
			http.Redirect(w, r, back, http.StatusFound)
		default:
			io.WriteString(w, "end")
		}
	})
	srv := startHTTP(t, h)
	other := httptest.NewServer(h)
	t.Cleanup(other.Close)
	back = srv.URL + "/end"
	away := strings.Replace(other.URL, "127.0.0.1", "localhost", 1) + "/away"
	r := probeOnce(t, newHTTP(t, probes.HTTPSpec{URL: srv.URL + "/start?to=" + away, BearerToken: "tok"}), 5*time.Second)
	wantOutcome(t, r, true, nil)
	close(auth)
	var seen []string
	for a := range auth {
		seen = append(seen, a)
	}
	if got := strings.Join(seen, " "); got != "/start:Bearer tok /away: /end:" {
		t.Errorf("Authorization per hop: %s", got)
	}
}
