package server

import (
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/config"
)

func TestClientAddr(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	for _, tc := range []struct{ remote, xff, want string }{
		{"203.0.113.7:5000", "", "203.0.113.7"},
		{"203.0.113.7:5000", "198.51.100.1", "203.0.113.7"},                    // not a proxy: its header is ignored
		{"10.1.2.3:5000", "198.51.100.1", "198.51.100.1"},                      // a trusted proxy
		{"10.1.2.3:5000", "192.0.2.9, 198.51.100.1, 10.4.4.4", "198.51.100.1"}, // through two proxies; the left entry is the client's claim
		{"10.1.2.3:5000", "", "10.1.2.3"},                                      // no header: the proxy itself
		{"10.1.2.3:5000", "garbage, 10.4.4.4", "10.4.4.4"},                     // a garbled hop: the last trusted one
		{"[::1]:5000", "2001:db8::1", "2001:db8::1"},
		{"[::ffff:203.0.113.7]:5000", "", "203.0.113.7"},
	} {
		r := &http.Request{RemoteAddr: tc.remote, Header: http.Header{}}
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := clientAddr(r, trusted); got.String() != tc.want {
			t.Errorf("%s with %q: %s, want %s", tc.remote, tc.xff, got, tc.want)
		}
	}
	if a, b := clientKey(netip.MustParseAddr("2001:db8:1:2::1")), clientKey(netip.MustParseAddr("2001:db8:1:2:ffff::9")); a != b {
		t.Errorf("one /64 counted as two: %s, %s", a, b)
	}
}

func TestLimiterBounds(t *testing.T) {
	var l limiter
	rl := config.RateLimit{PerSecond: 2, Burst: 2}
	now := time.Unix(1000, 0)
	ip := netip.MustParseAddr("203.0.113.7")
	for i := range 2 {
		if _, ok := l.allow(ip, rl, now); !ok {
			t.Fatalf("take %d refused", i)
		}
	}
	if wait, ok := l.allow(ip, rl, now); ok || wait != 500*time.Millisecond {
		t.Fatalf("third take: %v %v, want refused for 500ms", ok, wait)
	}
	if _, ok := l.allow(ip, rl, now.Add(500*time.Millisecond)); !ok {
		t.Fatal("refused after the refill")
	}
	// The table is bounded: past maxLimited addresses new ones share a
	// bucket until idle ones are swept.
	for i := range maxLimited + 10 {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		l.allow(a, rl, now)
	}
	if n := len(l.buckets); n != maxLimited {
		t.Fatalf("%d buckets, want %d", n, maxLimited)
	}
	l.allow(netip.MustParseAddr("198.51.100.1"), rl, now.Add(time.Minute))
	if n := len(l.buckets); n > 2 {
		t.Fatalf("%d buckets after the idle ones were swept", n)
	}
}
