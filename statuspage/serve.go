package statuspage

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Cache-Control values.
const (
	cacheHTML      = "public, no-cache" // stored, revalidated with the ETag each time
	cacheShort     = "public, max-age=30"
	cacheBadge     = "public, max-age=60"
	cacheNone      = "no-cache, no-store, must-revalidate" // shields.io caches on its own
	cacheImmutable = "public, max-age=31536000, immutable"
)

// Content-Security-Policy of the HTML pages: nothing but the page's own
// stylesheet and data: images; no script at all, no framing.
const (
	cspHTML  = "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
	cspOther = "default-src 'none'; frame-ancestors 'none'; sandbox"
)

// gzipMin is the smallest body worth compressing.
const gzipMin = 512

// response is a rendered answer, kept in a snapshot: the body, its gzip
// form and its validators.
type response struct {
	status   int
	ctype    string
	cache    string
	body, gz []byte
	etag     string // quoted; the gzip form's is etag with "-gz" inside the quotes
	modified time.Time
	cors     bool // readable by other origins (JSON, badges, feeds)
}

func newResponse(status int, ctype, cache string, body []byte, modified time.Time) *response {
	sum := sha256.Sum256(body)
	r := &response{status: status, ctype: ctype, cache: cache, body: body,
		etag: `"` + hex.EncodeToString(sum[:])[:20] + `"`, modified: modified.UTC().Truncate(time.Second)}
	if len(body) >= gzipMin {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.DefaultCompression) // a valid level cannot fail
		_, _ = zw.Write(body)                                     // writes to a bytes.Buffer cannot fail
		_ = zw.Close()
		if b.Len() < len(body) {
			r.gz = b.Bytes()
		}
	}
	return r
}

// rendering is one response of a snapshot, rendered once: whoever asks
// while it renders waits for it, others render other keys meanwhile (a
// component's page may read its 7-day chart first).
type rendering struct {
	done chan struct{}
	r    *response
	err  error
}

// get returns the response of key, rendering it on first use.
func (s *snapshot) get(key string, render func() (*response, error)) (*response, error) {
	s.mu.Lock()
	if e, ok := s.rendered[key]; ok {
		s.mu.Unlock()
		<-e.done
		return e.r, e.err
	}
	e := &rendering{done: make(chan struct{})}
	s.rendered[key] = e
	s.mu.Unlock()
	defer func() {
		if e.err != nil || e.r == nil { // not found is not kept: keys stay bounded
			s.mu.Lock()
			delete(s.rendered, key)
			s.mu.Unlock()
		}
		close(e.done)
	}()
	e.r, e.err = render()
	return e.r, e.err
}

// serve writes r with its headers, answering conditional requests with 304
// and clients that accept gzip with the compressed body.
func serve(w http.ResponseWriter, req *http.Request, r *response) {
	h := w.Header()
	securityHeaders(h, r.ctype)
	h.Set("Content-Type", r.ctype)
	h.Set("Cache-Control", r.cache)
	if r.cors {
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	}
	body, etag := r.body, r.etag
	if r.gz != nil {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(req.Header.Get("Accept-Encoding")) {
			body, etag = r.gz, strings.TrimSuffix(r.etag, `"`)+`-gz"`
			h.Set("Content-Encoding", "gzip")
		}
	}
	if r.status == http.StatusOK {
		h.Set("ETag", etag)
		if !r.modified.IsZero() {
			h.Set("Last-Modified", r.modified.Format(http.TimeFormat))
		}
		if notModified(req, etag, r.modified) {
			h.Del("Content-Encoding")
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(r.status)
	if req.Method != http.MethodHead {
		_, _ = w.Write(body) // a failed write is the client's problem
	}
}

func securityHeaders(h http.Header, ctype string) {
	if strings.HasPrefix(ctype, "text/html") {
		h.Set("Content-Security-Policy", cspHTML)
		h.Set("X-Frame-Options", "DENY")
	} else {
		h.Set("Content-Security-Policy", cspOther)
	}
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}

// notModified evaluates If-None-Match (weak comparison) or, without it,
// If-Modified-Since (RFC 9110 §13.2.2).
func notModified(req *http.Request, etag string, modified time.Time) bool {
	if inm := req.Header.Get("If-None-Match"); inm != "" {
		for _, t := range strings.Split(inm, ",") {
			t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
			if t == "*" || t == etag {
				return true
			}
		}
		return false
	}
	if ims := req.Header.Get("If-Modified-Since"); ims != "" && !modified.IsZero() {
		t, err := http.ParseTime(ims)
		return err == nil && !modified.After(t)
	}
	return false
}

// acceptsGzip reports whether an Accept-Encoding value admits gzip.
func acceptsGzip(ae string) bool {
	for _, part := range strings.Split(ae, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if n := strings.TrimSpace(name); !strings.EqualFold(n, "gzip") && n != "*" {
			continue
		}
		q := 1.0
		for _, prm := range strings.Split(params, ";") {
			if k, v, ok := strings.Cut(strings.TrimSpace(prm), "="); ok && strings.EqualFold(k, "q") {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					q = f
				}
			}
		}
		return q > 0
	}
	return false
}

// renderError renders a 404 or 503 page. It names nothing: a private
// check's badge and a check that does not exist get the same bytes.
func (p *Page) renderError(ctx context.Context, status int, msg string) (*response, error) {
	l := p.layoutView(time.Time{})
	l.Heading = msg
	var b bytes.Buffer
	if err := errorPage(errorView{Layout: l, Message: msg}).Render(ctx, &b); err != nil {
		return nil, err
	}
	r := newResponse(status, "text/html; charset=utf-8", "no-store", b.Bytes(), time.Time{})
	return r, nil
}
