package probestest

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Hang starts a TCP server that accepts connections and never writes to nor
// closes them (until cleanup). It returns "127.0.0.1:PORT".
func Hang(t testing.TB) string {
	t.Helper()
	return serveTCP(t, func(ctx context.Context, c net.Conn) {
		// Drain what the client sends, and keep our side open even after
		// the client's EOF (it may have only half-closed).
		_, _ = io.Copy(io.Discard, c)
		<-ctx.Done()
	})
}

// Trickle starts a TCP server that writes prefix at once to each connection
// and then one byte 'x' every `every`, until the client goes away or
// cleanup. every must be positive. It returns "127.0.0.1:PORT".
func Trickle(t testing.TB, prefix []byte, every time.Duration) string {
	t.Helper()
	if every <= 0 {
		t.Fatalf("trickle: interval %v is not positive", every)
	}
	return serveTCP(t, func(ctx context.Context, c net.Conn) {
		if _, err := c.Write(prefix); err != nil {
			return
		}
		ticker := time.NewTicker(every)
		defer ticker.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
				if _, err := c.Write([]byte{'x'}); err != nil {
					return
				}
			}
		}
	})
}

// Echo starts a TCP server that writes banner (nothing if "") to each
// connection and then echoes every line ('\n'-terminated) it receives. It
// returns "127.0.0.1:PORT".
func Echo(t testing.TB, banner string) string {
	t.Helper()
	return serveTCP(t, func(_ context.Context, c net.Conn) {
		if _, err := io.WriteString(c, banner); err != nil {
			return
		}
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadBytes('\n')
			if len(line) > 0 {
				if _, werr := c.Write(line); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	})
}

// RefusedAddr returns an address on 127.0.0.1 where nothing listens, so a
// dial gets "connection refused". The port was free a moment ago; another
// process could in principle take it.
func RefusedAddr(t testing.TB) string {
	t.Helper()
	ln := listen(t)
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatalf("close listener %s: %v", addr, err)
	}
	return addr
}

// bodyChunk is the write size of InfiniteBody.
const bodyChunk = 32 << 10

// InfiniteBody returns a handler answering 200 with Content-Type
// application/octet-stream and no Content-Length, then n bytes of 'a' in
// flushed 32 KiB chunks; n < 0 writes until the client goes away. It stops
// as soon as the request's context is done.
func InfiniteBody(n int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.WriteHeader(http.StatusOK)
		rc := http.NewResponseController(w)
		_ = rc.Flush() // commit headers: chunked, never a Content-Length
		chunk := bytes.Repeat([]byte{'a'}, bodyChunk)
		for left := n; n < 0 || left > 0; {
			if r.Context().Err() != nil {
				return
			}
			b := chunk
			if n >= 0 && left < int64(len(b)) {
				b = b[:left]
			}
			if _, err := w.Write(b); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
			left -= int64(len(b))
		}
	})
}

// Delay returns a handler that waits d, or until the request's context is
// done, and then answers 200 with body.
func Delay(d time.Duration, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		timer := time.NewTimer(d)
		defer timer.Stop()
		select {
		case <-r.Context().Done():
			return
		case <-timer.C:
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, body)
	})
}

// RedirectLoop returns a handler that redirects (302) /a to /b and /b to
// /a, and every other path to /a, so clients never reach a final response.
func RedirectLoop() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := "/a"
		if r.URL.Path == "/a" {
			target = "/b"
		}
		http.Redirect(w, r, target, http.StatusFound)
	})
}

// Tripwire listens on ip (a loopback address such as 127.0.0.3) with a free
// port and counts, then closes, every connection it gets: a test of an
// address guard proves with it that a denied address is never reached. It
// skips the test when ip cannot be listened on.
func Tripwire(t testing.TB, ip string) (port string, reached func() int64) {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Skipf("cannot listen on %s: %v", ip, err)
	}
	var n atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	_, port, _ = net.SplitHostPort(ln.Addr().String())
	return port, n.Load
}

// ResetMidHandshake starts a listener on 127.0.0.1 that accepts a
// connection, reads what the client sends first (a TLS ClientHello), and
// resets the connection (RST, SO_LINGER 0) instead of answering. It
// returns the address and the number of connections reset so far.
func ResetMidHandshake(t testing.TB) (addr string, resets func() int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		ResetAfterHello(ln, &n)
	}()
	t.Cleanup(func() { _ = ln.Close(); <-done })
	return ln.Addr().String(), n.Load
}

// ResetAfterHello serves ln until it is closed (and its connections are
// done): it reads what each client sends first and answers with a TCP
// reset, counting the resets in n (nil: not counted).
func ResetAfterHello(ln net.Listener, n *atomic.Int64) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		wg.Go(func() {
			defer c.Close()
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			if k, _ := c.Read(make([]byte, 512)); k > 0 {
				if tc, ok := c.(*net.TCPConn); ok {
					_ = tc.SetLinger(0)
				}
				if n != nil {
					n.Add(1)
				}
			}
		})
	}
}
