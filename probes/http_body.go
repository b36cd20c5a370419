package probes

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Compression says how an HTTP probe reads the response body.
type Compression string

// Compressions. The zero value means CompressionAuto.
const (
	// CompressionAuto asks for gzip and decodes a gzip answer transparently
	// (Go's default); the Content-Length of such an answer is unknown.
	CompressionAuto Compression = "auto"
	// CompressionIdentity asks for no encoding and reads the bytes as sent.
	CompressionIdentity Compression = "identity"
	// CompressionGzip decodes the body as gzip, whatever the server says.
	CompressionGzip Compression = "gzip"
	// CompressionDeflate decodes the body as raw deflate (RFC 1951).
	CompressionDeflate Compression = "deflate"
)

// UnmarshalText accepts auto, identity, gzip and deflate.
func (c *Compression) UnmarshalText(b []byte) error {
	switch s := Compression(strings.ToLower(string(b))); s {
	case "", CompressionAuto:
		*c = CompressionAuto
	case CompressionIdentity, CompressionGzip, CompressionDeflate:
		*c = s
	default:
		return fmt.Errorf("%q is not a compression (auto, identity, gzip, deflate)", b)
	}
	return nil
}

// auto reports whether Go's transport negotiates and decodes gzip itself.
func (c Compression) auto() bool { return c == "" || c == CompressionAuto }

// reader wraps body with the decoder of c; the returned reader's Close
// does not close body.
func (c Compression) reader(body io.Reader) (io.ReadCloser, error) {
	switch c {
	case CompressionGzip:
		zr, err := gzip.NewReader(body)
		if err != nil {
			return nil, fmt.Errorf("decode gzip body: %w", err)
		}
		return zr, nil
	case CompressionDeflate:
		return flate.NewReader(body), nil
	}
	return io.NopCloser(body), nil
}

// receive reads the response (body capped) and applies the assertions.
func (p *HTTPProber) receive(ctx context.Context, resp *http.Response, run *httpRun, r *Result) {
	defer resp.Body.Close()
	run.mu.Lock()
	refused := run.refused
	run.mu.Unlock()
	r.HTTP = &HTTPDetail{
		StatusCode:          resp.StatusCode,
		Version:             resp.Proto,
		ContentLength:       resp.ContentLength,
		Redirects:           redirectCount(resp),
		RedirectNotFollowed: refused,
		FinalURL:            resp.Request.URL.String(),
	}
	// Most responses have no Last-Modified: parsing "" fails three times,
	// each failure an allocated error.
	if lm := resp.Header.Get("Last-Modified"); lm != "" {
		if t, err := http.ParseTime(lm); err == nil {
			r.HTTP.LastModified = t.UTC()
		}
	}
	if resp.TLS != nil {
		r.TLS = describeTLS(*resp.TLS)
		checkExpiry(r, time.Now(), p.spec.Expect.CertMinDays, true)
	}
	var (
		body []byte
		dst  io.Writer = io.Discard
	)
	if p.keepBody {
		buf := p.bufs.Get().(*bytes.Buffer)
		buf.Reset()
		defer p.bufs.Put(buf)
		dst = buf
	}
	n, err := p.readBody(resp, dst)
	if n > p.maxBody {
		n = p.maxBody
		r.HTTP.BodyTruncated = true
	}
	r.HTTP.BodyBytes = n
	if err != nil {
		r.fail(netError(ctx, PhaseTransfer, err))
		return
	}
	run.bodyRead()
	if buf, ok := dst.(*bytes.Buffer); ok {
		body = buf.Bytes()[:n]
	}
	if r.Err == nil {
		p.spec.Expect.check(r, resp, body)
	}
}

// readBody copies the body, decoded as the spec's compression says, to
// dst: at most maxBody+1 bytes, so that a longer body is noticed. It
// returns the number of bytes copied.
func (p *HTTPProber) readBody(resp *http.Response, dst io.Writer) (int64, error) {
	src, err := p.spec.Compression.reader(resp.Body)
	if err != nil {
		return 0, err
	}
	defer src.Close()
	limit := p.maxBody + 1
	if !p.keepBody && p.spec.Expect.BodySizeLimit == 0 {
		limit = p.maxBody // nobody needs to know whether there was more
	}
	return io.Copy(dst, io.LimitReader(src, limit))
}

func redirectCount(resp *http.Response) int {
	n := 0
	for req := resp.Request; req != nil && req.Response != nil; req = req.Response.Request {
		n++
	}
	return n
}
