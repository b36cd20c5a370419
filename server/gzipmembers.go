package server

import (
	"bytes"
	"compress/gzip"
	"io"
	"sync"
	"sync/atomic"
)

// memberSize is how much of the exposition one gzip member holds.
const memberSize = 512 << 10

// memberWriter gzips what is written to it in chunks of memberSize, each
// compressed as a gzip member of its own on up to two goroutines, and
// writes the members to w in order. A sequence of members is one gzip
// stream (RFC 1952, 2.2) to every reader, Prometheus' included; it lets a
// 20 MB exposition compress on two cores instead of one.
type memberWriter struct {
	w       io.Writer
	gzips   *sync.Pool // *gzip.Writer at gzipLevel
	chunks  *sync.Pool // *[]byte of memberSize capacity
	buf     []byte
	queue   chan chan []byte // members in order, each delivered when compressed
	slots   chan struct{}    // compressions at once
	failed  atomic.Pointer[error]
	drained chan struct{}
}

func newMemberWriter(w io.Writer, gzips, chunks *sync.Pool) *memberWriter {
	m := &memberWriter{w: w, gzips: gzips, chunks: chunks, queue: make(chan chan []byte, 4), slots: make(chan struct{}, 2),
		drained: make(chan struct{})}
	go m.drain()
	return m
}

// drain writes the members in order as they finish.
func (m *memberWriter) drain() {
	defer close(m.drained)
	for member := range m.queue {
		b := <-member
		if m.failed.Load() != nil {
			continue // the scraper went away: keep draining, write nothing
		}
		if _, err := m.w.Write(b); err != nil {
			m.failed.Store(&err)
		}
	}
}

// Write buffers p, handing full chunks to the compressors.
func (m *memberWriter) Write(p []byte) (int, error) {
	if errp := m.failed.Load(); errp != nil {
		return 0, *errp
	}
	n := len(p)
	for len(p) > 0 {
		if m.buf == nil {
			if c, ok := m.chunks.Get().(*[]byte); ok {
				m.buf = (*c)[:0]
			} else {
				m.buf = make([]byte, 0, memberSize)
			}
		}
		k := min(len(p), memberSize-len(m.buf))
		m.buf = append(m.buf, p[:k]...)
		p = p[k:]
		if len(m.buf) == memberSize {
			m.dispatch()
		}
	}
	return n, nil
}

// dispatch compresses the buffered chunk as one member.
func (m *memberWriter) dispatch() {
	chunk := m.buf
	m.buf = nil
	member := make(chan []byte, 1)
	m.queue <- member // blocks when four members wait: the renderer cannot run far ahead
	m.slots <- struct{}{}
	go func() {
		defer func() { <-m.slots }()
		var out bytes.Buffer
		gz := pooledGzip(m.gzips, &out)
		_, _ = gz.Write(chunk) // writes to a bytes.Buffer do not fail
		_ = gz.Close()
		putGzip(m.gzips, gz)
		if cap(chunk) == memberSize {
			m.chunks.Put(&chunk)
		}
		member <- out.Bytes()
	}()
}

// gzipLevel is the compression of /metrics. Level 2 compresses an
// exposition as small and as fast as BestSpeed (1) does, and its writer
// takes 794 KB against BestSpeed's 1,172: the pools are emptied by the GC
// between scrapes, so every scrape allocates one or two of them.
const gzipLevel = 2

// pooledGzip returns a gzipLevel gzip writer to w from pool, or a new one.
func pooledGzip(pool *sync.Pool, w io.Writer) *gzip.Writer {
	if gz, ok := pool.Get().(*gzip.Writer); ok {
		gz.Reset(w)
		return gz
	}
	gz, _ := gzip.NewWriterLevel(w, gzipLevel) // a valid level never fails
	return gz
}

// putGzip returns a closed gz to pool, no longer holding its writer.
func putGzip(pool *sync.Pool, gz *gzip.Writer) {
	gz.Reset(io.Discard)
	pool.Put(gz)
}

// Close compresses what is left (an empty member when nothing was
// written, so the answer is valid gzip) and waits for every member.
func (m *memberWriter) Close() error {
	m.dispatch() // the rest; an empty member when there is none, harmless

	close(m.queue)
	<-m.drained
	if errp := m.failed.Load(); errp != nil {
		return *errp
	}
	return nil
}
