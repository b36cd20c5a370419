package probes

import (
	"compress/flate"
	"compress/gzip"
	"fmt"
	"io"
	"strings"
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
