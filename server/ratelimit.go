package server

import (
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vantageprobe/vantage/config"
)

// The public listener's rate limit: a token bucket per client address
// (server.rate_limit). An IPv6 client is counted by its /64, which one
// host usually has whole. Agents (their own bearer tokens), /probe
// (bounded by probe_endpoint.max_concurrent) and clients on this machine
// itself are not counted.

// maxLimited bounds the addresses tracked at once; beyond it, new
// addresses share one bucket until idle ones are dropped.
const maxLimited = 10000

// limiter holds the buckets. Its settings are read from the current
// config on every request, so a reload changes them at once.
type limiter struct {
	mu       sync.Mutex
	buckets  map[netip.Prefix]*bucket
	overflow bucket
	swept    time.Time
	limited  atomic.Uint64 // requests refused
}

type bucket struct {
	tokens float64
	last   time.Time
}

// take takes a token from b, refilled at rate up to burst since its last
// take; it returns how long until one is there when none is.
func (b *bucket) take(now time.Time, rate float64, burst int) (time.Duration, bool) {
	if b.last.IsZero() {
		b.tokens = float64(burst)
	} else {
		b.tokens = min(float64(burst), b.tokens+now.Sub(b.last).Seconds()*rate)
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	return time.Duration((1 - b.tokens) / rate * float64(time.Second)), false
}

// allow takes a token for client; it returns the wait when refused.
func (l *limiter) allow(client netip.Addr, rl config.RateLimit, now time.Time) (time.Duration, bool) {
	key := clientKey(client)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil {
		l.buckets = make(map[netip.Prefix]*bucket)
	}
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxLimited {
			l.sweep(now, rl)
		}
		if len(l.buckets) >= maxLimited {
			b = &l.overflow
		} else {
			b = &bucket{}
			l.buckets[key] = b
		}
	}
	wait, ok := b.take(now, rl.PerSecond, rl.Burst)
	if !ok {
		l.limited.Add(1)
	}
	return wait, ok
}

// sweep drops the buckets that have refilled (they are as good as new),
// at most once a second.
func (l *limiter) sweep(now time.Time, rl config.RateLimit) {
	if now.Sub(l.swept) < time.Second {
		return
	}
	l.swept = now
	full := time.Duration(float64(rl.Burst) / rl.PerSecond * float64(time.Second))
	for k, b := range l.buckets {
		if now.Sub(b.last) > full {
			delete(l.buckets, k)
		}
	}
}

// clientKey is what a client is counted by: its IPv4 address, or its
// IPv6 /64.
func clientKey(ip netip.Addr) netip.Prefix {
	ip = ip.Unmap()
	if ip.Is4() {
		return netip.PrefixFrom(ip, 32)
	}
	p, _ := ip.Prefix(64) // an IPv6 address always has a /64
	return p
}

// clientAddr is the address a request is counted against: the peer's, or,
// when the peer is a trusted proxy, the nearest address in
// X-Forwarded-For that is not one.
func clientAddr(r *http.Request, trusted []netip.Prefix) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	peer := ap.Addr().Unmap()
	if !inPrefixes(peer, trusted) {
		return peer
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		ip, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a garbled hop: count the last proxy that was trusted
		}
		ip = ip.Unmap()
		peer = ip
		if !inPrefixes(ip, trusted) {
			break
		}
	}
	return peer
}

func inPrefixes(ip netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// rateLimited wraps the public handler with the limit.
func (s *Server) rateLimited(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs := s.checks.Load()
		rl := cs.cfg.Server.RateLimit
		if rl.Disabled || rl.PerSecond <= 0 || unlimitedPath(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		client := clientAddr(r, rl.Proxies)
		if !client.IsValid() || client.IsLoopback() {
			next.ServeHTTP(w, r)
			return
		}
		wait, ok := s.limits.allow(client, rl, time.Now())
		if ok {
			next.ServeHTTP(w, r)
			return
		}
		secs := max(1, int(math.Ceil(wait.Seconds())))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		writeError(w, http.StatusTooManyRequests, fmt.Errorf("too many requests from %s; retry in %d s", client, secs))
	})
}

// unlimitedPath: the agents' routes and /probe have limits of their own.
func unlimitedPath(path string) bool {
	return path == "/probe" || strings.HasPrefix(path, "/api/v1/agent/")
}
