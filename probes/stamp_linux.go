package probes

import (
	"errors"
	"io"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// Kernel receive timestamps. A probe's goroutine runs a little after its
// response arrives whenever the machine or the Go scheduler is busy, and a
// clock read then would add that wait to what the target took: on two busy
// cores, milliseconds at the 99th percentile. The kernel stamps a packet
// when it receives it (SO_TIMESTAMPNS) and hands the stamp over with the
// data, so the HTTP probe dates a response's first and last bytes by their
// arrival, as ping dates its replies.

// stampConn is a TCP connection whose reads note when the kernel received
// the data they return.
type stampConn struct {
	*net.TCPConn
	raw  syscall.RawConn
	base time.Time    // when it was wrapped; arrivals are kept relative to it (monotonic)
	last atomic.Int64 // arrival of the latest data read, ns after base + 1; 0: none yet
	oob  [64]byte     // control messages of the one reader
}

// stamped returns c reading with receive timestamps, or c itself (and nil)
// when c is not TCP or the kernel refuses them.
func stamped(c net.Conn) (net.Conn, *stampConn) {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c, nil
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return c, nil
	}
	var serr error
	err = raw.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
	})
	if err != nil || serr != nil {
		return c, nil
	}
	s := &stampConn{TCPConn: tc, raw: raw, base: time.Now()}
	return s, s
}

// Read reads as net.TCPConn's Read does (same errors) and notes the
// arrival of what it returns.
func (c *stampConn) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return c.TCPConn.Read(b)
	}
	var (
		n, oobn int
		serr    error
	)
	err := c.raw.Read(func(fd uintptr) bool {
		for {
			n, oobn, _, _, serr = syscall.Recvmsg(int(fd), b, c.oob[:], syscall.MSG_CMSG_CLOEXEC)
			if serr == nil {
				raceAcquire(fd)
			}
			if serr != syscall.EINTR {
				return serr != syscall.EAGAIN
			}
		}
	})
	if err == nil && serr != nil {
		err = os.NewSyscallError("read", serr)
	}
	if err != nil {
		var oe *net.OpError
		if errors.As(err, &oe) { // "raw-read": say "read", as TCPConn does
			err = oe.Err
		}
		return 0, &net.OpError{Op: "read", Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
	}
	if n == 0 {
		return 0, io.EOF
	}
	at, ok := receivedAt(c.oob[:oobn], time.Now())
	if ok {
		c.last.Store(int64(max(at.Sub(c.base), 0)) + 1)
	}
	return n, nil
}

// arrival returns when the data of the latest read arrived; false before
// any data, or without timestamps (a nil c).
func (c *stampConn) arrival() (time.Time, bool) {
	if c == nil {
		return time.Time{}, false
	}
	v := c.last.Load()
	if v == 0 {
		return time.Time{}, false
	}
	return c.base.Add(time.Duration(v - 1)), true
}

// receivedAt finds the receive timestamp in oob and turns it into a time
// with now's monotonic clock. The stamp is wall-clock time; one that is
// after now or more than a minute before it (the wall clock was stepped)
// is not used.
func receivedAt(oob []byte, now time.Time) (time.Time, bool) {
	if len(oob) == 0 {
		return time.Time{}, false
	}
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return time.Time{}, false
	}
	for _, m := range msgs {
		var ts syscall.Timespec
		size := int(unsafe.Sizeof(ts))
		if m.Header.Level != syscall.SOL_SOCKET || m.Header.Type != syscall.SCM_TIMESTAMPNS || len(m.Data) < size {
			continue
		}
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&ts)), size), m.Data)
		lag := now.Sub(time.Unix(ts.Unix())) // wall clock: time.Unix has no monotonic reading
		if lag < 0 || lag > time.Minute {
			return time.Time{}, false
		}
		return now.Add(-lag), true
	}
	return time.Time{}, false
}

// WriteTo copies through Read: net.TCPConn's own WriteTo would read
// without the stamps.
func (c *stampConn) WriteTo(w io.Writer) (int64, error) {
	return io.Copy(w, struct{ io.Reader }{c})
}
