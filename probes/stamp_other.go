//go:build !linux

package probes

import (
	"net"
	"time"
)

// stampConn is Linux's kernel receive timestamps (stamp_linux.go); other
// systems read the clock when the data is read.
type stampConn struct{}

func stamped(c net.Conn) (net.Conn, *stampConn) { return c, nil }

func (c *stampConn) arrival() (time.Time, bool) { return time.Time{}, false }
