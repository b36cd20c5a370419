package probestest

import (
	"context"
	"net"
	"sync"
	"testing"
)

// listen opens a TCP listener on 127.0.0.1 with a free port.
func listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen on 127.0.0.1: %v", err)
	}
	return ln
}

// serveTCP accepts connections on a fresh loopback listener and runs handle
// for each in its own goroutine, closing the connection when handle returns.
// On cleanup it cancels ctx, closes the listener and every open connection,
// and waits for all goroutines to finish. It returns the listener address.
func serveTCP(t testing.TB, handle func(ctx context.Context, c net.Conn)) string {
	t.Helper()
	ln := listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	var (
		mu     sync.Mutex
		conns  = map[net.Conn]struct{}{}
		closed bool
		wg     sync.WaitGroup
	)
	t.Cleanup(func() {
		cancel()
		ln.Close()
		mu.Lock()
		closed = true
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return // listener closed by cleanup
			}
			mu.Lock()
			if closed {
				mu.Unlock()
				c.Close()
				return
			}
			conns[c] = struct{}{}
			wg.Go(func() {
				defer func() {
					c.Close()
					mu.Lock()
					delete(conns, c)
					mu.Unlock()
				}()
				handle(ctx, c)
			})
			mu.Unlock()
		}
	})
	return ln.Addr().String()
}

// ServeTCP starts a TCP server on 127.0.0.1 that runs handle for every
// connection in its own goroutine and closes the connection when handle
// returns. On cleanup it cancels ctx, closes the listener and every open
// connection, and waits for the handlers. It returns "127.0.0.1:PORT".
func ServeTCP(t testing.TB, handle func(ctx context.Context, c net.Conn)) string {
	t.Helper()
	return serveTCP(t, handle)
}
