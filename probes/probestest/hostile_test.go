package probestest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// dial connects to addr and closes the connection on t's cleanup.
func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c := dialOpen(t, addr)
	t.Cleanup(func() { c.Close() })
	return c
}

// dialOpen connects to addr; the caller closes the connection.
func dialOpen(t *testing.T, addr string) net.Conn {
	t.Helper()
	var d net.Dialer
	c, err := d.DialContext(t.Context(), "tcp", addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	return c
}

func TestHang(t *testing.T) {
	c := dial(t, Hang(t))
	if _, err := io.WriteString(c, "GET / HTTP/1.0\r\n\r\n"); err != nil {
		t.Fatalf("write: %v", err)
	}
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite() // our EOF must not make the server close
	}
	_ = c.SetReadDeadline(time.Now().Add(150 * time.Millisecond))
	n, err := c.Read(make([]byte, 1))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read %d bytes, %v; want a timeout", n, err)
	}
}

func TestTrickle(t *testing.T) {
	const every = 30 * time.Millisecond
	prefix := []byte("HTTP/1.1 200 OK\r\n")
	c := dial(t, Trickle(t, prefix, every))
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	got := make([]byte, len(prefix))
	if _, err := io.ReadFull(r, got); err != nil || !bytes.Equal(got, prefix) {
		t.Fatalf("prefix %q, %v; want %q", got, err, prefix)
	}
	start := time.Now()
	tail := make([]byte, 3)
	if _, err := io.ReadFull(r, tail); err != nil || string(tail) != "xxx" {
		t.Fatalf("trickled %q, %v; want xxx", tail, err)
	}
	if elapsed := time.Since(start); elapsed < 2*every {
		t.Fatalf("3 bytes arrived in %v, want at least %v", elapsed, 2*every)
	}
}

func TestEcho(t *testing.T) {
	tests := []struct {
		name   string
		banner string
		lines  []string
	}{
		{name: "banner", banner: "220 vantage ready\r\n", lines: []string{"EHLO probe\r\n", "QUIT\r\n"}},
		{name: "no banner", lines: []string{"ping\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, Echo(t, tt.banner))
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			r := bufio.NewReader(c)
			if tt.banner != "" {
				if got, err := r.ReadString('\n'); err != nil || got != tt.banner {
					t.Fatalf("banner %q, %v; want %q", got, err, tt.banner)
				}
			}
			for _, line := range tt.lines {
				if _, err := io.WriteString(c, line); err != nil {
					t.Fatalf("write: %v", err)
				}
				if got, err := r.ReadString('\n'); err != nil || got != line {
					t.Fatalf("echo %q, %v; want %q", got, err, line)
				}
			}
		})
	}
}

func TestRefusedAddr(t *testing.T) {
	addr := RefusedAddr(t)
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("addr %q not on 127.0.0.1", addr)
	}
	var d net.Dialer
	c, err := d.DialContext(t.Context(), "tcp", addr)
	if err == nil {
		c.Close()
		t.Fatalf("dial %s succeeded", addr)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial: %v, want ECONNREFUSED", err)
	}
}

// tracked wraps h and closes the returned channel's receiver side by sending
// once ServeHTTP has returned.
func tracked(h http.Handler) (http.Handler, <-chan struct{}) {
	done := make(chan struct{}, 1)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { done <- struct{}{} }()
		h.ServeHTTP(w, r)
	}), done
}

func waitReturn(t *testing.T, done <-chan struct{}) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("handler still running after the client went away")
	}
}

func get(t *testing.T, ctx context.Context, c *http.Client, url string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c.Do(req)
}

func TestInfiniteBody(t *testing.T) {
	tests := []struct {
		name string
		n    int64
		read int64 // bytes to read before hanging up; -1 = all
	}{
		{name: "empty", n: 0, read: -1},
		{name: "small", n: 10, read: -1},
		{name: "several chunks", n: 3*bodyChunk + 7, read: -1},
		{name: "endless", n: -1, read: 1 << 20},
		{name: "client hangs up early", n: 64 << 20, read: 1 << 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, done := tracked(InfiniteBody(tt.n))
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)
			resp, err := get(t, t.Context(), srv.Client(), srv.URL)
			if err != nil {
				t.Fatalf("get: %v", err)
			}
			if resp.StatusCode != http.StatusOK || resp.ContentLength != -1 ||
				resp.Header.Get("Content-Type") != "application/octet-stream" {
				t.Fatalf("status %d, length %d, type %q", resp.StatusCode, resp.ContentLength, resp.Header.Get("Content-Type"))
			}
			var body io.Reader = resp.Body
			if tt.read >= 0 {
				body = io.LimitReader(resp.Body, tt.read)
			}
			got, err := io.ReadAll(body)
			resp.Body.Close()
			want := tt.n
			if tt.read >= 0 {
				want = tt.read
			}
			if err != nil || int64(len(got)) != want || strings.Trim(string(got), "a") != "" {
				t.Fatalf("read %d bytes (%v), want %d bytes of 'a'", len(got), err, want)
			}
			waitReturn(t, done)
		})
	}
}

func TestDelay(t *testing.T) {
	const d = 100 * time.Millisecond
	tests := []struct {
		name     string
		timeout  time.Duration
		wantBody string // "" = the request times out
	}{
		{name: "waits then answers", timeout: 5 * time.Second, wantBody: "slow"},
		{name: "client gives up", timeout: d / 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, done := tracked(Delay(d, "slow"))
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)
			ctx, cancel := context.WithTimeout(t.Context(), tt.timeout)
			defer cancel()
			start := time.Now()
			resp, err := get(t, ctx, srv.Client(), srv.URL)
			if tt.wantBody == "" {
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("get: %v, want deadline exceeded", err)
				}
				waitReturn(t, done)
				return
			}
			if err != nil {
				t.Fatalf("get: %v", err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if elapsed := time.Since(start); elapsed < d {
				t.Errorf("answered after %v, want at least %v", elapsed, d)
			}
			if err != nil || resp.StatusCode != http.StatusOK || string(body) != tt.wantBody {
				t.Fatalf("status %d body %q (%v), want 200 %q", resp.StatusCode, body, err, tt.wantBody)
			}
		})
	}
}

func TestRedirectLoop(t *testing.T) {
	srv := httptest.NewServer(RedirectLoop())
	t.Cleanup(srv.Close)
	noFollow := new(http.Client)
	*noFollow = *srv.Client()
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	tests := []struct {
		path string
		want string
	}{
		{path: "/a", want: "/b"},
		{path: "/b", want: "/a"},
		{path: "/", want: "/a"},
		{path: "/elsewhere?q=1", want: "/a"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, err := get(t, t.Context(), noFollow, srv.URL+tt.path)
			if err != nil {
				t.Fatalf("get: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != tt.want {
				t.Fatalf("status %d location %q, want 302 %q", resp.StatusCode, resp.Header.Get("Location"), tt.want)
			}
		})
	}
	t.Run("default client gives up", func(t *testing.T) {
		_, err := get(t, t.Context(), srv.Client(), srv.URL+"/start")
		if err == nil || !strings.Contains(err.Error(), "stopped after 10 redirects") {
			t.Fatalf("get: %v, want a redirect limit error", err)
		}
	})
}

func readOne(t *testing.T, c net.Conn) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != nil {
		t.Fatalf("read: %v", err)
	}
}

// TestNoGoroutineLeak starts every raw TCP server with a client connected
// and checks that cleanup leaves no goroutine behind.
func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	// Clients stay open while the servers shut down, so only the servers'
	// cleanup can end their handlers.
	var clients []net.Conn
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	dial := func(t *testing.T, addr string) net.Conn {
		t.Helper()
		c := dialOpen(t, addr)
		clients = append(clients, c)
		return c
	}
	t.Run("servers", func(t *testing.T) {
		_, _ = dial(t, Hang(t)).Write([]byte("hello\n"))
		readOne(t, dial(t, Trickle(t, []byte("x"), time.Millisecond)))
		readOne(t, dial(t, Echo(t, "hi\n")))
		ca := NewCA(t)
		addr := StartTLS(t, ca.Issue(t, CertOptions{}), TLSOptions{}, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
		tc := tls.Client(dial(t, addr), &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost"})
		if err := tc.HandshakeContext(t.Context()); err != nil {
			t.Fatalf("handshake: %v", err)
		}
		srv := StartDNS(t, DNSOptions{Delay: time.Hour})
		for _, network := range []string{"udp", "tcp"} {
			c := dnsClient(network, ca)
			c.Timeout = 50 * time.Millisecond
			_, _, _ = c.ExchangeContext(t.Context(), new(dns.Msg).SetQuestion("a.t.", dns.TypeA), srv.Addr)
		}
	}) // cleanup runs here, with every handler busy
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines before, %d after cleanup:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
