package probes_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/probes"
	"github.com/vantageprobe/vantage/probes/probestest"
)

// gzipMux serves the bodies the compression and body assertions need.
func gzipMux() *http.ServeMux {
	mux := testMux()
	mux.HandleFunc("/gzip", func(w http.ResponseWriter, _ *http.Request) {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		_, _ = io.WriteString(zw, strings.Repeat("hello gzip ", 100))
		_ = zw.Close()
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(b.Bytes())
	})
	mux.HandleFunc("/negotiate", func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			_, _ = io.WriteString(w, "plain")
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		_, _ = io.WriteString(zw, "zipped")
		_ = zw.Close()
	})
	mux.HandleFunc("/lastmod", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Last-Modified", "Wed, 21 Oct 2015 07:28:00 GMT")
		w.Header().Add("X-Multi", "one")
		w.Header().Add("X-Multi", "two")
		_, _ = io.WriteString(w, "versioned")
	})
	return mux
}

func TestHTTPExpectations(t *testing.T) {
	srv := startHTTP(t, gzipMux())
	tlsSrv := probestest.StartHTTPS(t, probestest.SelfSigned(t, probestest.CertOptions{}), gzipMux())
	yes, no := true, false
	tests := []struct {
		name     string
		spec     probes.HTTPSpec
		ok       bool
		sentinel error
		msg      string
	}{
		{name: "version accepted", spec: probes.HTTPSpec{URL: "/ok", Expect: probes.HTTPExpect{Versions: []string{"HTTP/1.1"}}}, ok: true},
		{name: "version refused", spec: probes.HTTPSpec{URL: "/ok", Expect: probes.HTTPExpect{Versions: []string{"HTTP/2.0"}}}, sentinel: probes.ErrProtocol, msg: "response is HTTP/1.1, want HTTP/2.0"},
		{name: "h2 over TLS", spec: probes.HTTPSpec{URL: "tls:/ok", TLSConfig: probes.TLSOptions{InsecureSkipVerify: true}, Expect: probes.HTTPExpect{Versions: []string{"HTTP/2.0"}, TLS: &yes}}, ok: true},
		{name: "tls wanted, plain", spec: probes.HTTPSpec{URL: "/ok", Expect: probes.HTTPExpect{TLS: &yes}}, sentinel: probes.ErrProtocol, msg: "did not come over TLS"},
		{name: "plain wanted, tls", spec: probes.HTTPSpec{URL: "tls:/ok", TLSConfig: probes.TLSOptions{InsecureSkipVerify: true}, Expect: probes.HTTPExpect{TLS: &no}}, sentinel: probes.ErrProtocol, msg: "came over TLS"},
		{name: "plain wanted, plain", spec: probes.HTTPSpec{URL: "/ok", Expect: probes.HTTPExpect{TLS: &no}}, ok: true},
		{name: "body_all", spec: probes.HTTPSpec{URL: "/ok", Expect: probes.HTTPExpect{BodyAll: []probes.Pattern{mustPattern("all"), mustPattern("good$")}}}, ok: true},
		{name: "body_all one missing", spec: probes.HTTPSpec{URL: "/ok", Expect: probes.HTTPExpect{BodyAll: []probes.Pattern{mustPattern("all"), mustPattern("bad")}}}, sentinel: probes.ErrBodyMismatch, msg: `body_all "bad"`},
		{name: "body_none", spec: probes.HTTPSpec{URL: "/ok", Expect: probes.HTTPExpect{BodyNone: []probes.Pattern{mustPattern("error"), mustPattern("down")}}}, ok: true},
		{name: "body_none matched", spec: probes.HTTPSpec{URL: "/ok", Expect: probes.HTTPExpect{BodyNone: []probes.Pattern{mustPattern("error"), mustPattern("good")}}}, sentinel: probes.ErrBodyMismatch, msg: `body_none "good"`},
		{name: "header rule matches one of several values", spec: probes.HTTPSpec{URL: "/lastmod", Expect: probes.HTTPExpect{HeaderRules: []probes.HeaderRule{{Header: "x-multi", Matches: mustPattern("^two$")}}}}, ok: true},
		{name: "header rule no value matches", spec: probes.HTTPSpec{URL: "/lastmod", Expect: probes.HTTPExpect{HeaderRules: []probes.HeaderRule{{Header: "X-Multi", Matches: mustPattern("three")}}}}, sentinel: probes.ErrHeaderMismatch, msg: `does not match "three"`},
		{name: "header rule not_matches hit", spec: probes.HTTPSpec{URL: "/lastmod", Expect: probes.HTTPExpect{HeaderRules: []probes.HeaderRule{{Header: "X-Multi", NotMatches: mustPattern("two")}}}}, sentinel: probes.ErrHeaderMismatch, msg: "matches not_matches"},
		{name: "header rule not_matches clear", spec: probes.HTTPSpec{URL: "/lastmod", Expect: probes.HTTPExpect{HeaderRules: []probes.HeaderRule{{Header: "X-Multi", NotMatches: mustPattern("three")}}}}, ok: true},
		{name: "header missing", spec: probes.HTTPSpec{URL: "/ok", Expect: probes.HTTPExpect{HeaderRules: []probes.HeaderRule{{Header: "X-Nope", NotMatches: mustPattern("x")}}}}, sentinel: probes.ErrHeaderMismatch, msg: "X-Nope missing"},
		{name: "header missing allowed", spec: probes.HTTPSpec{URL: "/ok", Expect: probes.HTTPExpect{HeaderRules: []probes.HeaderRule{{Header: "X-Nope", Matches: mustPattern("x"), AllowMissing: true}}}}, ok: true},
		{name: "body within size limit", spec: probes.HTTPSpec{URL: "/ok", Expect: probes.HTTPExpect{BodySizeLimit: 8}}, ok: true},
		{name: "body over size limit", spec: probes.HTTPSpec{URL: "/ok", Expect: probes.HTTPExpect{BodySizeLimit: 7}}, sentinel: probes.ErrBodyMismatch, msg: "body_size_limit (7 bytes)"},
		{name: "endless body over size limit", spec: probes.HTTPSpec{URL: "/huge", Expect: probes.HTTPExpect{BodySizeLimit: 2 << 20}}, sentinel: probes.ErrBodyMismatch},
		{name: "gzip decoded", spec: probes.HTTPSpec{URL: "/gzip", Compression: probes.CompressionGzip, Expect: probes.HTTPExpect{Body: mustPattern("^(hello gzip )+$")}}, ok: true},
		{name: "gzip expected, plain sent", spec: probes.HTTPSpec{URL: "/ok", Compression: probes.CompressionGzip}, sentinel: probes.ErrProtocol, msg: "gzip"},
		{name: "deflate expected, gzip sent", spec: probes.HTTPSpec{URL: "/gzip", Compression: probes.CompressionDeflate}, sentinel: probes.ErrProtocol},
		{name: "identity reads the bytes as sent", spec: probes.HTTPSpec{URL: "/gzip", Compression: probes.CompressionIdentity, Expect: probes.HTTPExpect{BodyNone: []probes.Pattern{mustPattern("hello")}}}, ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := tt.spec
			if path, ok := strings.CutPrefix(spec.URL, "tls:"); ok {
				spec.URL = tlsSrv.URL + path
			} else {
				spec.URL = srv.URL + spec.URL
			}
			r := probeOnce(t, newHTTP(t, spec), 10*time.Second)
			wantOutcome(t, r, tt.ok, tt.sentinel)
			if tt.msg != "" && !strings.Contains(r.Err.Error(), tt.msg) {
				t.Fatalf("error %q does not contain %q", r.Err, tt.msg)
			}
		})
	}
}

// TestHTTPCompressionBytes: what is counted and what is asked for under
// each compression.
func TestHTTPCompressionBytes(t *testing.T) {
	srv := startHTTP(t, gzipMux())
	tests := []struct {
		name       string
		path       string
		comp       probes.Compression
		headers    map[string]string
		wantBytes  int64
		wantLength bool // Content-Length known
		body       string
	}{
		{name: "auto asks for gzip and decodes it", path: "/negotiate", wantBytes: 6, body: "zipped"},
		{name: "identity asks for nothing", path: "/negotiate", comp: probes.CompressionIdentity, wantBytes: 5, wantLength: true, body: "plain"},
		{name: "gzip decodes what the header asked for", path: "/negotiate", comp: probes.CompressionGzip, headers: map[string]string{"Accept-Encoding": "gzip"}, wantBytes: 6, wantLength: true, body: "zipped"},
		{name: "gzip counts decoded bytes", path: "/gzip", comp: probes.CompressionGzip, wantBytes: 1100, wantLength: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := probes.HTTPSpec{URL: srv.URL + tt.path, Compression: tt.comp, Headers: tt.headers}
			if tt.body != "" {
				spec.Expect.Body = mustPattern("^" + tt.body + "$")
			}
			r := probeOnce(t, newHTTP(t, spec), 5*time.Second)
			wantOutcome(t, r, true, nil)
			if r.HTTP.BodyBytes != tt.wantBytes || (r.HTTP.ContentLength >= 0) != tt.wantLength {
				t.Fatalf("body %d bytes, content length %d; want %d bytes, length known %v", r.HTTP.BodyBytes, r.HTTP.ContentLength, tt.wantBytes, tt.wantLength)
			}
		})
	}
}

// TestHTTPResponseDetail: Last-Modified, an unfollowed redirect and the
// first hop's address are recorded.
func TestHTTPResponseDetail(t *testing.T) {
	srv := startHTTP(t, gzipMux())
	host := strings.TrimPrefix(srv.URL, "http://")
	r := probeOnce(t, newHTTP(t, probes.HTTPSpec{URL: srv.URL + "/lastmod"}), 5*time.Second)
	wantOutcome(t, r, true, nil)
	if want := time.Date(2015, 10, 21, 7, 28, 0, 0, time.UTC); !r.HTTP.LastModified.Equal(want) || r.HTTP.RedirectNotFollowed {
		t.Fatalf("detail %+v, want Last-Modified %s", r.HTTP, want)
	}
	if r.RemoteAddr != host {
		t.Fatalf("RemoteAddr %q, want %q", r.RemoteAddr, host)
	}
	rep := probes.NewReport("c", r)
	if !rep.HTTP.LastModified.Equal(r.HTTP.LastModified) {
		t.Fatalf("report last_modified %v", rep.HTTP.LastModified)
	}

	r = probeOnce(t, newHTTP(t, probes.HTTPSpec{URL: srv.URL + "/redirect", FollowRedirects: boolp(false)}), 5*time.Second)
	if r.HTTP.StatusCode != http.StatusFound || !r.HTTP.RedirectNotFollowed || r.HTTP.Redirects != 0 || !r.HTTP.LastModified.IsZero() {
		t.Fatalf("unfollowed redirect: %+v", r.HTTP)
	}
	r = probeOnce(t, newHTTP(t, probes.HTTPSpec{URL: srv.URL + "/redirect"}), 5*time.Second)
	if r.HTTP.StatusCode != http.StatusOK || r.HTTP.RedirectNotFollowed || r.HTTP.Redirects != 1 || r.RemoteAddr != host {
		t.Fatalf("followed redirect: %+v, remote %q", r.HTTP, r.RemoteAddr)
	}
	refused := probestest.RefusedAddr(t)
	r = probeOnce(t, newHTTP(t, probes.HTTPSpec{URL: "http://" + refused + "/"}), 5*time.Second)
	if r.RemoteAddr != refused || r.HTTP != nil {
		t.Fatalf("refused: remote %q, detail %+v", r.RemoteAddr, r.HTTP)
	}
}

func TestHTTPExpectValidate(t *testing.T) {
	tests := []struct {
		expect probes.HTTPExpect
		want   string
	}{
		{probes.HTTPExpect{Versions: []string{"HTTP/2"}}, `expect.versions[0]: "HTTP/2" is not an HTTP version`},
		{probes.HTTPExpect{HeaderRules: []probes.HeaderRule{{Header: "X"}}}, "expect.header_rules[0]: set exactly one of matches and not_matches"},
		{probes.HTTPExpect{HeaderRules: []probes.HeaderRule{{Header: "X", Matches: mustPattern("a"), NotMatches: mustPattern("b")}}}, "set exactly one"},
		{probes.HTTPExpect{HeaderRules: []probes.HeaderRule{{Header: "a b", Matches: mustPattern("a")}}}, `expect.header_rules[0].header: "a b" is not a valid header name`},
		{probes.HTTPExpect{BodySizeLimit: -1}, "expect.body_size_limit: must be 0 or more"},
	}
	for _, tt := range tests {
		err := probes.HTTPSpec{URL: "http://x/", Expect: tt.expect}.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate(%+v) = %v, want %q", tt.expect, err, tt.want)
		}
	}
	var c probes.Compression
	for _, in := range []string{"", "auto", "GZIP", "identity", "deflate"} {
		if err := c.UnmarshalText([]byte(in)); err != nil {
			t.Errorf("compression %q: %v", in, err)
		}
	}
	if err := c.UnmarshalText([]byte("br")); err == nil || !strings.Contains(err.Error(), "is not a compression") {
		t.Errorf("compression br: %v", err)
	}
}
