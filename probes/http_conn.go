package probes

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// An HTTP probe follows redirects itself (as Go's client does) and sends
// each request of the chain on a fresh connection of its own. A plain
// http:// request is written and its response read on that connection
// directly: Go's transport would start two goroutines and their buffers
// for the one request a connection carries, a fifth of a probe's cost. An
// https:// request goes through the transport, which negotiates HTTP/2;
// there the handshake outweighs that overhead.

// maxHeaderBytes bounds a response's head, as the transport does.
const maxHeaderBytes = 1 << 20

// follow sends req and follows its redirects as Go's client does (methods,
// bodies and headers carried over the same way, the prober's
// checkRedirect deciding), each hop on a fresh connection.
func (p *HTTPProber) follow(ctx context.Context, run *httpRun, req *http.Request) (*http.Response, error) {
	var via []*http.Request
	for {
		resp, err := p.roundTrip(ctx, run, req)
		if err != nil {
			// As Go's client words it: `Get "URL": …`.
			return nil, &url.Error{Op: urlErrorOp(req.Method), URL: req.URL.String(), Err: err}
		}
		method, redirect, withBody := redirectBehavior(req.Method, resp, req)
		loc := resp.Header.Get("Location")
		if !redirect || loc == "" {
			return resp, nil
		}
		u, err := req.URL.Parse(loc)
		if err != nil {
			resp.Body.Close()
			return nil, fmt.Errorf("%w: bad Location %q: %w", ErrProtocol, loc, err)
		}
		first := req
		if len(via) > 0 {
			first = via[0]
		}
		next := &http.Request{Method: method, URL: u, Header: make(http.Header), Response: resp}
		next = next.WithContext(req.Context())
		if first.Host != "" && first.Host != first.URL.Host {
			// A Host override survives a relative redirect only.
			if l, _ := url.Parse(loc); l != nil && !l.IsAbs() {
				next.Host = first.Host
			}
		}
		if withBody && first.GetBody != nil {
			if next.Body, err = first.GetBody(); err != nil {
				resp.Body.Close()
				return nil, err
			}
			next.GetBody, next.ContentLength = first.GetBody, first.ContentLength
		}
		copyHeaders(next, first)
		via = append(via, req)
		if err := p.checkRedirect(next, via); err != nil {
			if errors.Is(err, http.ErrUseLastResponse) {
				return resp, nil
			}
			resp.Body.Close()
			return nil, &url.Error{Op: urlErrorOp(req.Method), URL: u.String(), Err: err}
		}
		// Drain a little so that the server sees the response read.
		_, _ = io.CopyN(io.Discard, resp.Body, 2<<10)
		resp.Body.Close()
		req = next
	}
}

func urlErrorOp(method string) string {
	if method == "" {
		return "Get"
	}
	return method[:1] + strings.ToLower(method[1:])
}

// redirectBehavior is Go's client's: which method the next request uses,
// whether to follow, and whether the body goes along.
func redirectBehavior(method string, resp *http.Response, req *http.Request) (string, bool, bool) {
	switch resp.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther:
		if method != http.MethodGet && method != http.MethodHead {
			method = http.MethodGet
		}
		return method, true, false
	case http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		if resp.Header.Get("Location") == "" {
			return method, false, false
		}
		if req.GetBody == nil && req.ContentLength != 0 {
			return method, false, false // the body cannot be sent again
		}
		return method, true, true
	}
	return method, false, false
}

// copyHeaders gives next the first request's headers, less the sensitive
// ones when the redirect leaves the first request's domain (as Go's
// client does), and a Referer when it does not downgrade to http.
func copyHeaders(next, first *http.Request) {
	sameDomain := sameOrSubdomain(next.URL.Hostname(), first.URL.Hostname())
	for k, vv := range first.Header {
		switch http.CanonicalHeaderKey(k) {
		case "Authorization", "Www-Authenticate", "Cookie", "Cookie2", "Proxy-Authorization":
			if !sameDomain {
				continue
			}
		}
		next.Header[k] = append([]string(nil), vv...)
	}
	if ref := referer(first.URL, next.URL); ref != "" {
		next.Header.Set("Referer", ref)
	}
}

// sameOrSubdomain reports whether sub is parent or one of its subdomains.
func sameOrSubdomain(sub, parent string) bool {
	sub, parent = strings.ToLower(sub), strings.ToLower(parent)
	return sub == parent || strings.HasSuffix(sub, "."+parent)
}

// referer is the Referer of a request to target coming from last: none
// from https to http, and never the user info.
func referer(last, target *url.URL) string {
	if last.Scheme == "https" && target.Scheme == "http" {
		return ""
	}
	if last.User == nil {
		return last.String()
	}
	u := *last
	u.User = nil
	return u.String()
}

// roundTrip sends one request on a fresh connection: directly for http://,
// through the transport otherwise.
func (p *HTTPProber) roundTrip(ctx context.Context, run *httpRun, req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "http" {
		return p.client.Transport.RoundTrip(req)
	}
	return p.exchange(ctx, run, req)
}

// exchange writes req on a connection of its own and reads the response
// head; the response's body reads from the connection and closes it.
func (p *HTTPProber) exchange(ctx context.Context, run *httpRun, req *http.Request) (*http.Response, error) {
	addr := req.URL.Host
	if req.URL.Port() == "" {
		addr = net.JoinHostPort(req.URL.Hostname(), "80")
	}
	conn, err := p.dialRun(ctx, run, addr)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			conn.Close()
		}
	}()
	gzipped := p.spec.Compression.auto() && req.Header.Get("Accept-Encoding") == "" &&
		req.Header.Get("Range") == "" && req.Method != http.MethodHead
	wire := req
	if gzipped { // what Go's transport asks for, on the wire only (not carried to a redirect)
		c := *req
		c.Header = req.Header.Clone()
		c.Header.Set("Accept-Encoding", "gzip")
		wire = &c
	}
	wire.Close = true // one request per connection
	w := bufio.NewWriterSize(conn, 1<<10)
	if err := wire.Write(w); err != nil {
		return nil, err
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	if req.Body != nil {
		req.Body.Close()
	}
	run.set(PhaseProcessing, nil)
	head := &headReader{r: conn, run: run, head: true, left: maxHeaderBytes}
	br := bufio.NewReaderSize(head, 2<<10)
	var resp *http.Response
	for {
		if resp, err = http.ReadResponse(br, req); err != nil {
			if errors.Is(err, errHeadTooLong) || head.left < 0 {
				return nil, fmt.Errorf("%w: response head longer than %d bytes", ErrProtocol, maxHeaderBytes)
			}
			return nil, err
		}
		// 1xx answers (100 Continue, 103 Early Hints) precede the
		// response; 101 Switching Protocols is one.
		if resp.StatusCode < 100 || resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
		resp.Body.Close()
	}
	head.head = false // the body has its own bound (readBody)
	body := &connBody{ReadCloser: resp.Body, conn: conn}
	resp.Body = body
	if gzipped && strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") && resp.Request.Method != http.MethodHead {
		resp.Body = &gzipBody{body: body}
		resp.Header.Del("Content-Encoding")
		resp.Header.Del("Content-Length")
		resp.ContentLength = -1
		resp.Uncompressed = true
	}
	ok = true
	return resp, nil
}

// headReader notes the response's first byte (the end of processing) and
// bounds the bytes read while the head is read.
type headReader struct {
	r    io.Reader
	run  *httpRun
	seen bool
	head bool  // the head is being read
	left int64 // bytes it may still take
}

func (h *headReader) Read(b []byte) (int, error) {
	n, err := h.r.Read(b)
	if n > 0 && !h.seen {
		h.seen = true
		h.run.set(PhaseTransfer, nil)
	}
	if h.head {
		if h.left -= int64(n); h.left < 0 {
			return n, errHeadTooLong
		}
	}
	return n, err
}

var errHeadTooLong = errors.New("response head too long")

// connBody closes the connection with the body.
type connBody struct {
	io.ReadCloser
	conn net.Conn
}

func (b *connBody) Close() error {
	err := b.ReadCloser.Close()
	if cerr := b.conn.Close(); err == nil {
		err = cerr
	}
	return err
}

// gzipBody decodes a gzip body on first read, as Go's transport does.
type gzipBody struct {
	body io.ReadCloser
	zr   *gzip.Reader
	err  error
}

func (g *gzipBody) Read(b []byte) (int, error) {
	if g.zr == nil && g.err == nil {
		g.zr, g.err = gzip.NewReader(g.body)
	}
	if g.err != nil {
		return 0, g.err
	}
	return g.zr.Read(b)
}

func (g *gzipBody) Close() error { return g.body.Close() }
