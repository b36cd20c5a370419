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
	"strings"
)

// Go's client follows an HTTP probe's redirects (its rules for methods,
// bodies, headers and Referer, the prober's checkRedirect deciding), each
// request of the chain on a fresh connection of its own. A plain http://
// request is written and its response read on that connection directly
// (directHTTP): Go's transport would start two goroutines and their
// buffers for the one request a connection carries, a fifth of a probe's
// cost. An https:// request goes through the transport, which negotiates
// HTTP/2; there the handshake outweighs that overhead.

// maxHeaderBytes bounds a response's head, as the transport does.
const maxHeaderBytes = 1 << 20

// maxInformational bounds the 1xx answers before a response, as Go's
// transport does.
const maxInformational = 5

// directHTTP is the prober's RoundTripper: http:// on the probe's own
// connection, anything else through the prober's transport.
type directHTTP struct {
	p *HTTPProber
}

func (d directHTTP) RoundTrip(req *http.Request) (*http.Response, error) {
	run, _ := req.Context().Value(runKey{}).(*httpRun)
	if req.URL.Scheme != "http" || run == nil {
		return d.p.transport().RoundTrip(req)
	}
	return d.p.exchange(req.Context(), run, req)
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
	wire := *req      // a RoundTripper leaves the request as it was given
	wire.Close = true // one request per connection
	if gzipped {      // what Go's transport asks for, on the wire only
		wire.Header = req.Header.Clone()
		wire.Header.Set("Accept-Encoding", "gzip")
	}
	w := bufio.NewWriterSize(conn, 1<<10)
	if err := wire.Write(w); err != nil {
		return nil, err
	}
	if err := w.Flush(); err != nil { // Write closed the body
		return nil, err
	}
	run.set(PhaseProcessing, nil)
	head := &headReader{r: conn, run: run, head: true, left: maxHeaderBytes}
	br := bufio.NewReaderSize(head, 2<<10)
	var resp *http.Response
	for informational := 0; ; informational++ {
		if informational > maxInformational {
			return nil, fmt.Errorf("%w: more than %d informational (1xx) answers", ErrProtocol, maxInformational)
		}
		if resp, err = http.ReadResponse(br, req); err != nil {
			if head.left < 0 { // errHeadTooLong, or a parse error of the cut head
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
	if gzipped && strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") {
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
