package probes

import (
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// loopbackPair returns a client connection wrapped by stamped and the
// server's side of it.
func loopbackPair(t *testing.T) (net.Conn, *stampConn, *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	srv := <-accepted
	if srv == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { c.Close(); srv.Close() })
	wrapped, sc := stamped(c)
	if sc == nil {
		t.Fatal("no receive timestamps on a loopback TCP connection")
	}
	return wrapped, sc, srv.(*net.TCPConn)
}

// The arrival of data is when the kernel got it, not when the reader got
// round to reading it.
func TestStampedArrival(t *testing.T) {
	c, sc, srv := loopbackPair(t)
	if _, ok := sc.arrival(); ok {
		t.Fatal("an arrival before any data")
	}
	// Linux turns receive timestamps on for the whole system a moment
	// after the first socket asks (a deferred static key): until then
	// packets come without a stamp and the probe reads the clock.
	buf := make([]byte, 16)
	for i := 0; ; i++ {
		if _, err := srv.Write([]byte{'.'}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Read(buf); err != nil {
			t.Fatal(err)
		}
		if _, ok := sc.arrival(); ok {
			break
		}
		if i == 100 {
			t.Fatal("no receive timestamps after a second")
		}
		time.Sleep(10 * time.Millisecond)
	}
	prev, _ := sc.arrival()
	before := time.Now()
	if _, err := srv.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	time.Sleep(60 * time.Millisecond) // a busy prober, late to read
	n, err := c.Read(buf)
	read := time.Now()
	if err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	at, ok := sc.arrival()
	if !ok || !at.After(prev) {
		t.Fatalf("no new arrival after a read (%v, then %v)", prev, at)
	}
	if at.Before(before.Add(-time.Millisecond)) || at.After(sent.Add(10*time.Millisecond)) {
		t.Errorf("arrival %v after the write began, %v after it returned; want about 0",
			at.Sub(before), at.Sub(sent))
	}
	if late := read.Sub(at); late < 50*time.Millisecond {
		t.Errorf("arrival only %v before the read that came 60 ms late", late)
	}

	// io.Copy (WriteTo) goes through the stamped Read too.
	time.Sleep(5 * time.Millisecond)
	if _, err := srv.Write([]byte("world")); err != nil {
		t.Fatal(err)
	}
	srv.CloseWrite()
	var sb strings.Builder
	if _, err := io.Copy(&sb, c); err != nil || sb.String() != "world" {
		t.Fatalf("copy %q, %v", sb.String(), err)
	}
	if at2, _ := sc.arrival(); !at2.After(at) {
		t.Errorf("the copy's data did not move the arrival (%v, then %v)", at, at2)
	}
	// The end of the stream is io.EOF itself, as from a TCPConn.
	if n, err := c.Read(buf); n != 0 || err != io.EOF {
		t.Errorf("read at EOF = %d, %v; want 0, io.EOF", n, err)
	}
}

// Errors read as a TCPConn's do.
func TestStampedErrors(t *testing.T) {
	c, _, _ := loopbackPair(t)
	c.SetReadDeadline(time.Now().Add(-time.Second))
	_, err := c.Read(make([]byte, 8))
	if !errors.Is(err, os.ErrDeadlineExceeded) || !strings.HasPrefix(err.Error(), "read tcp 127.0.0.1:") ||
		!strings.HasSuffix(err.Error(), ": i/o timeout") {
		t.Errorf("past deadline: %v", err)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("past deadline: %v is not a timeout net.Error", err)
	}

	c2, _, srv2 := loopbackPair(t)
	srv2.SetLinger(0) // close with RST
	srv2.Close()
	time.Sleep(10 * time.Millisecond)
	_, err = c2.Read(make([]byte, 8))
	if !errors.Is(err, syscall.ECONNRESET) || !strings.HasSuffix(err.Error(), "read: connection reset by peer") {
		t.Errorf("after RST: %v", err)
	}

	c3, _, _ := loopbackPair(t)
	c3.Close()
	if _, err := c3.Read(make([]byte, 8)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}

func TestReceivedAt(t *testing.T) {
	now := time.Now()
	if _, ok := receivedAt(nil, now); ok {
		t.Error("a time from no control message")
	}
	msg := func(at time.Time) []byte {
		ts := syscall.NsecToTimespec(at.UnixNano())
		size := int(unsafe.Sizeof(ts))
		b := make([]byte, syscall.CmsgSpace(size))
		h := (*syscall.Cmsghdr)(unsafe.Pointer(&b[0]))
		h.Level, h.Type = syscall.SOL_SOCKET, syscall.SCM_TIMESTAMPNS
		h.SetLen(syscall.CmsgLen(size))
		copy(b[syscall.CmsgLen(0):], unsafe.Slice((*byte)(unsafe.Pointer(&ts)), size))
		return b
	}
	if at, ok := receivedAt(msg(now.Add(-3*time.Millisecond)), now); !ok || now.Sub(at) != 3*time.Millisecond {
		t.Errorf("3 ms ago: %v, %v", now.Sub(at), ok)
	}
	// A stamp from the future or from long ago: the wall clock was stepped.
	for _, d := range []time.Duration{-time.Second, 2 * time.Minute} {
		if _, ok := receivedAt(msg(now.Add(-d)), now); ok {
			t.Errorf("a stamp %v before now was used", d)
		}
	}
}
