package probestest

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// DNSOptions configures StartDNS.
type DNSOptions struct {
	// Zone is RFC 1035 zone-file text ($ORIGIN and $TTL supported, default
	// TTL 300). Names must be absolute or follow an $ORIGIN.
	Zone string
	// ServFail lists FQDNs answered with SERVFAIL.
	ServFail []string
	// Refused lists FQDNs answered with REFUSED.
	Refused []string
	// TruncateUDP lists FQDNs answered over UDP with TC=1 and no records;
	// over TCP they are answered normally.
	TruncateUDP []string
	// Delay is waited before every answer. Cleanup does not wait for it:
	// queries still delayed then are dropped unanswered.
	Delay time.Duration
	// TLS, if set, also starts a DNS-over-TLS listener serving this
	// certificate; its address is DNSServer.TLSAddr.
	TLS *tls.Certificate
}

// DNSServer is an authoritative DNS server on 127.0.0.1 started by StartDNS.
//
// It answers exact name and type matches from its zone (no CNAME chasing)
// with AA set; a name absent from the zone gets NXDOMAIN and a name without
// records of the asked type gets NOERROR with no answers, both with the
// zone's SOA (if any) in the authority section. A query with an EDNS0 OPT
// record gets one back with the same UDP size and DO bit. UDP answers larger
// than the client's limit are truncated with TC set.
type DNSServer struct {
	// Addr is "127.0.0.1:PORT", served over both UDP and TCP.
	Addr string
	// TLSAddr is the DNS-over-TLS address, "" unless DNSOptions.TLS was set.
	TLSAddr string

	opts     DNSOptions
	records  map[string]map[uint16][]dns.RR // canonical name -> type -> RRs
	soa      dns.RR
	servFail map[string]bool
	refused  map[string]bool
	truncate map[string]bool
	done     chan struct{}
	udp      atomic.Int64
	tcp      atomic.Int64
	tlsCount atomic.Int64
	last     atomic.Pointer[dns.Msg]
}

// LastQuery returns a copy of the last query received, nil before the
// first.
func (s *DNSServer) LastQuery() *dns.Msg {
	if m := s.last.Load(); m != nil {
		return m.Copy()
	}
	return nil
}

// StartDNS parses o.Zone and starts the server on 127.0.0.1, using the same
// port for UDP and TCP. It is shut down on cleanup.
func StartDNS(t testing.TB, o DNSOptions) *DNSServer {
	t.Helper()
	s := &DNSServer{
		opts:     o,
		servFail: nameSet(o.ServFail),
		refused:  nameSet(o.Refused),
		truncate: nameSet(o.TruncateUDP),
		done:     make(chan struct{}),
	}
	if err := s.loadZone(o.Zone); err != nil {
		t.Fatalf("start dns: %v", err)
	}
	var (
		servers []*dnsRunner
		closers []func() error // listeners, closed again after shutdown in case a server never started
	)
	t.Cleanup(func() {
		close(s.done) // release delayed handlers before waiting for them
		for _, r := range servers {
			r.stop(t)
		}
		for _, c := range closers {
			_ = c()
		}
	})
	pc, ln := listenUDPAndTCP(t)
	closers = append(closers, pc.Close, ln.Close)
	s.Addr = pc.LocalAddr().String()
	servers = append(servers, startRunner(t, &dns.Server{Net: "udp", PacketConn: pc, Handler: s.handler("udp", &s.udp)}))
	servers = append(servers, startRunner(t, &dns.Server{Net: "tcp", Listener: ln, Handler: s.handler("tcp", &s.tcp)}))
	if o.TLS != nil {
		tln := tls.NewListener(listen(t), &tls.Config{Certificates: []tls.Certificate{*o.TLS}})
		closers = append(closers, tln.Close)
		s.TLSAddr = tln.Addr().String()
		servers = append(servers, startRunner(t, &dns.Server{Net: "tcp-tls", Listener: tln, Handler: s.handler("tcp-tls", &s.tlsCount)}))
	}
	return s
}

// Queries returns the number of queries answered so far over all networks.
func (s *DNSServer) Queries() int64 {
	return s.udp.Load() + s.tcp.Load() + s.tlsCount.Load()
}

// QueriesOver returns the number of queries answered so far over network,
// one of "udp", "tcp" or "tcp-tls"; any other network gives 0.
func (s *DNSServer) QueriesOver(network string) int64 {
	switch network {
	case "udp":
		return s.udp.Load()
	case "tcp":
		return s.tcp.Load()
	case "tcp-tls":
		return s.tlsCount.Load()
	}
	return 0
}

func (s *DNSServer) loadZone(zone string) error {
	s.records = map[string]map[uint16][]dns.RR{}
	zp := dns.NewZoneParser(strings.NewReader(zone), "", "zone")
	zp.SetDefaultTTL(300)
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		h := rr.Header()
		name := dns.CanonicalName(h.Name)
		if s.records[name] == nil {
			s.records[name] = map[uint16][]dns.RR{}
		}
		s.records[name][h.Rrtype] = append(s.records[name][h.Rrtype], rr)
		if h.Rrtype == dns.TypeSOA && s.soa == nil {
			s.soa = rr
		}
	}
	if err := zp.Err(); err != nil {
		return fmt.Errorf("parse zone: %w", err)
	}
	return nil
}

func (s *DNSServer) handler(network string, count *atomic.Int64) dns.HandlerFunc {
	return func(w dns.ResponseWriter, req *dns.Msg) {
		s.last.Store(req.Copy())
		if !s.wait() {
			return
		}
		m := s.answer(network, req)
		// Count before writing, so that a client holding the reply sees
		// it counted; a reply that could not be written is taken back.
		count.Add(1)
		if err := w.WriteMsg(m); err != nil {
			count.Add(-1)
		}
	}
}

// wait sleeps for the configured delay; it reports false if the server
// shut down first.
func (s *DNSServer) wait() bool {
	if s.opts.Delay <= 0 {
		return true
	}
	timer := time.NewTimer(s.opts.Delay)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-s.done:
		return false
	}
}

func (s *DNSServer) answer(network string, req *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	s.fill(m, network, req)
	opt := req.IsEdns0()
	if opt != nil {
		m.SetEdns0(opt.UDPSize(), opt.Do())
	}
	if network == "udp" {
		size := dns.MinMsgSize
		if opt != nil {
			size = int(opt.UDPSize())
		}
		m.Truncate(size)
	}
	return m
}

// fill sets m's rcode and records for the single question of req.
func (s *DNSServer) fill(m *dns.Msg, network string, req *dns.Msg) {
	if len(req.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		return
	}
	q := req.Question[0]
	name := dns.CanonicalName(q.Name)
	switch {
	case s.servFail[name]:
		m.Rcode = dns.RcodeServerFailure
	case s.refused[name]:
		m.Rcode = dns.RcodeRefused
	case s.truncate[name] && network == "udp":
		m.Truncated = true
	default:
		s.lookup(m, name, q.Qtype)
	}
}

func (s *DNSServer) lookup(m *dns.Msg, name string, qtype uint16) {
	types, ok := s.records[name]
	if !ok {
		m.Rcode = dns.RcodeNameError
	}
	for typ, rrs := range types {
		if typ == qtype || qtype == dns.TypeANY {
			for _, rr := range rrs {
				m.Answer = append(m.Answer, dns.Copy(rr))
			}
		}
	}
	if len(m.Answer) == 0 && s.soa != nil {
		m.Ns = []dns.RR{dns.Copy(s.soa)}
	}
}

func nameSet(names []string) map[string]bool {
	set := make(map[string]bool, len(names))
	for _, n := range names {
		set[dns.CanonicalName(n)] = true
	}
	return set
}

// listenUDPAndTCP binds a free UDP port on 127.0.0.1 and a TCP listener on
// the same port, retrying with another port if TCP's is taken.
func listenUDPAndTCP(t testing.TB) (net.PacketConn, net.Listener) {
	t.Helper()
	var lastErr error
	for range 10 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("listen udp on 127.0.0.1: %v", err)
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln
		}
		pc.Close()
		lastErr = err
	}
	t.Fatalf("listen tcp on the dns udp port: %v", lastErr)
	return nil, nil
}

// dnsRunner runs one dns.Server in a goroutine.
type dnsRunner struct {
	srv  *dns.Server
	exit chan error
}

// startRunner activates srv on its preset listener and waits until it
// serves.
func startRunner(t testing.TB, srv *dns.Server) *dnsRunner {
	t.Helper()
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	r := &dnsRunner{srv: srv, exit: make(chan error, 1)}
	go func() { r.exit <- srv.ActivateAndServe() }()
	select {
	case <-started:
		return r
	case err := <-r.exit:
		t.Fatalf("start dns %s server: %v", srv.Net, err)
		return nil
	}
}

func (r *dnsRunner) stop(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.srv.ShutdownContext(ctx); err != nil {
		t.Errorf("shut down dns %s server: %v", r.srv.Net, err)
	}
	select {
	case <-r.exit:
	case <-ctx.Done():
		t.Errorf("shut down dns %s server: handlers still running", r.srv.Net)
	}
}
