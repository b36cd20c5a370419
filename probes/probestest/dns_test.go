package probestest

import (
	"crypto/tls"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// testZone has more TXT data at big.example.test. than fits in 512 bytes.
func testZone() string {
	var b strings.Builder
	b.WriteString(`$ORIGIN example.test.
$TTL 60
@       IN SOA ns1 hostmaster 1 3600 600 86400 60
@       NS     ns1
ns1     A      127.0.0.1
www     A      192.0.2.1
www     A      192.0.2.2
www     AAAA   2001:db8::1
@       MX     10 mail
txt     TXT    "v=spf1 -all" "second"
trunc   A      192.0.2.3
fail    A      192.0.2.4
`)
	for i := range 20 {
		fmt.Fprintf(&b, "big TXT \"record %02d padding padding padding padding\"\n", i)
	}
	return b.String()
}

// rdata returns the record data of rrs in presentation format, sorted.
func rdata(rrs []dns.RR) []string {
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		out = append(out, strings.TrimPrefix(rr.String(), rr.Header().String()))
	}
	slices.Sort(out)
	return out
}

func dnsClient(network string, ca *CA) *dns.Client {
	return &dns.Client{
		Net:       network,
		Timeout:   5 * time.Second,
		TLSConfig: &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost"},
	}
}

func TestDNS(t *testing.T) {
	ca := NewCA(t)
	cert := ca.Issue(t, CertOptions{})
	srv := StartDNS(t, DNSOptions{
		Zone:        testZone(),
		ServFail:    []string{"fail.example.test."},
		Refused:     []string{"refused.example.test"},
		TruncateUDP: []string{"trunc.example.test."},
		TLS:         &cert,
	})
	if srv.TLSAddr == "" || srv.TLSAddr == srv.Addr {
		t.Fatalf("TLSAddr = %q (Addr %q)", srv.TLSAddr, srv.Addr)
	}
	tests := []struct {
		name      string
		qname     string
		qtype     uint16
		edns      uint16 // EDNS0 UDP size to send, 0 = no OPT
		onlyUDP   bool
		onlyTCP   bool // tcp and tcp-tls
		wantRcode int
		wantData  []string
		wantCount int // instead of wantData: number of answers (-1 = some, fewer than all)
		wantTC    bool
		wantSOA   bool
	}{
		{name: "A", qname: "www.example.test.", qtype: dns.TypeA, wantData: []string{"192.0.2.1", "192.0.2.2"}},
		{name: "A any case", qname: "WWW.Example.TEST.", qtype: dns.TypeA, wantData: []string{"192.0.2.1", "192.0.2.2"}},
		{name: "AAAA", qname: "www.example.test.", qtype: dns.TypeAAAA, wantData: []string{"2001:db8::1"}},
		{name: "MX", qname: "example.test.", qtype: dns.TypeMX, wantData: []string{"10 mail.example.test."}},
		{name: "TXT", qname: "txt.example.test.", qtype: dns.TypeTXT, wantData: []string{`"v=spf1 -all" "second"`}},
		{name: "TXT with EDNS", qname: "txt.example.test.", qtype: dns.TypeTXT, edns: 1232, wantData: []string{`"v=spf1 -all" "second"`}},
		{name: "NODATA", qname: "txt.example.test.", qtype: dns.TypeA, wantSOA: true},
		{name: "NXDOMAIN", qname: "nope.example.test.", qtype: dns.TypeA, wantRcode: dns.RcodeNameError, wantSOA: true},
		{name: "SERVFAIL", qname: "fail.example.test.", qtype: dns.TypeA, wantRcode: dns.RcodeServerFailure},
		{name: "REFUSED", qname: "refused.example.test.", qtype: dns.TypeA, wantRcode: dns.RcodeRefused},
		{name: "truncated over UDP", qname: "trunc.example.test.", qtype: dns.TypeA, onlyUDP: true, wantTC: true},
		{name: "full over TCP", qname: "trunc.example.test.", qtype: dns.TypeA, onlyTCP: true, wantData: []string{"192.0.2.3"}},
		{name: "big over UDP", qname: "big.example.test.", qtype: dns.TypeTXT, onlyUDP: true, wantTC: true, wantCount: -1},
		{name: "big over UDP with EDNS", qname: "big.example.test.", qtype: dns.TypeTXT, edns: 4096, onlyUDP: true, wantCount: 20},
		{name: "big over TCP", qname: "big.example.test.", qtype: dns.TypeTXT, onlyTCP: true, wantCount: 20},
	}
	sent := map[string]int64{}
	for _, network := range []string{"udp", "tcp", "tcp-tls"} {
		addr := srv.Addr
		if network == "tcp-tls" {
			addr = srv.TLSAddr
		}
		c := dnsClient(network, ca)
		for _, tt := range tests {
			if (tt.onlyUDP && network != "udp") || (tt.onlyTCP && network == "udp") {
				continue
			}
			t.Run(network+"/"+tt.name, func(t *testing.T) {
				q := new(dns.Msg).SetQuestion(tt.qname, tt.qtype)
				if tt.edns != 0 {
					q.SetEdns0(tt.edns, true)
				}
				sent[network]++
				r, _, err := c.ExchangeContext(t.Context(), q, addr)
				if err != nil {
					t.Fatalf("exchange: %v", err)
				}
				checkDNSReply(t, r, tt.edns, tt.wantRcode, tt.wantTC, tt.wantSOA)
				switch {
				case tt.wantCount == -1:
					if n := len(r.Answer); n == 0 || n >= 20 {
						t.Errorf("got %d answers, want some but not all", n)
					}
				case tt.wantCount > 0:
					if len(r.Answer) != tt.wantCount {
						t.Errorf("got %d answers, want %d", len(r.Answer), tt.wantCount)
					}
				default:
					if got := rdata(r.Answer); !slices.Equal(got, tt.wantData) {
						t.Errorf("answers %q, want %q", got, tt.wantData)
					}
				}
				if len(r.Answer) > 0 && r.Answer[0].Header().Ttl != 60 {
					t.Errorf("TTL %d, want 60 from $TTL", r.Answer[0].Header().Ttl)
				}
			})
		}
	}
	for _, network := range []string{"udp", "tcp", "tcp-tls"} {
		if got := srv.QueriesOver(network); got != sent[network] {
			t.Errorf("QueriesOver(%q) = %d, want %d", network, got, sent[network])
		}
	}
	if got, want := srv.Queries(), sent["udp"]+sent["tcp"]+sent["tcp-tls"]; got != want {
		t.Errorf("Queries() = %d, want %d", got, want)
	}
}

func checkDNSReply(t *testing.T, r *dns.Msg, edns uint16, rcode int, tc, soa bool) {
	t.Helper()
	if r.Rcode != rcode {
		t.Errorf("rcode %s, want %s", dns.RcodeToString[r.Rcode], dns.RcodeToString[rcode])
	}
	if !r.Authoritative {
		t.Errorf("AA not set")
	}
	if r.Truncated != tc {
		t.Errorf("TC = %v, want %v", r.Truncated, tc)
	}
	if tc && len(r.Answer) == 0 && len(r.Ns) != 0 {
		t.Errorf("truncated reply has authority records")
	}
	hasSOA := len(r.Ns) == 1 && r.Ns[0].Header().Rrtype == dns.TypeSOA
	if hasSOA != soa {
		t.Errorf("authority %v, want SOA: %v", r.Ns, soa)
	}
	opt := r.IsEdns0()
	switch {
	case edns == 0 && opt != nil:
		t.Errorf("OPT in reply to a query without one")
	case edns != 0 && opt == nil:
		t.Errorf("no OPT in reply to a query with one")
	case edns != 0 && (opt.UDPSize() != edns || !opt.Do()):
		t.Errorf("OPT udp size %d do %v, want %d true", opt.UDPSize(), opt.Do(), edns)
	}
}

func TestDNSDefaultTTL(t *testing.T) {
	srv := StartDNS(t, DNSOptions{Zone: "$ORIGIN t.\na A 192.0.2.9\nb 42 A 192.0.2.10\n"})
	tests := []struct {
		qname   string
		wantTTL uint32
	}{
		{qname: "a.t.", wantTTL: 300},
		{qname: "b.t.", wantTTL: 42},
	}
	for _, tt := range tests {
		t.Run(tt.qname, func(t *testing.T) {
			r, _, err := dnsClient("udp", NewCA(t)).ExchangeContext(t.Context(), new(dns.Msg).SetQuestion(tt.qname, dns.TypeA), srv.Addr)
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			if len(r.Answer) != 1 || r.Answer[0].Header().Ttl != tt.wantTTL {
				t.Fatalf("answers %v, want one with TTL %d", r.Answer, tt.wantTTL)
			}
		})
	}
	// No SOA in the zone: NXDOMAIN without authority.
	r, _, err := dnsClient("tcp", NewCA(t)).ExchangeContext(t.Context(), new(dns.Msg).SetQuestion("zz.t.", dns.TypeA), srv.Addr)
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if r.Rcode != dns.RcodeNameError || len(r.Ns) != 0 {
		t.Fatalf("rcode %s authority %v, want NXDOMAIN and none", dns.RcodeToString[r.Rcode], r.Ns)
	}
}

func TestDNSBadZone(t *testing.T) {
	s := &DNSServer{}
	if err := s.loadZone("www A 192.0.2.1\n"); err == nil {
		t.Fatalf("relative name without $ORIGIN accepted")
	}
	if err := s.loadZone("$ORIGIN t.\nwww A not-an-ip\n"); err == nil {
		t.Fatalf("bad A record accepted")
	}
}

func TestDNSDelay(t *testing.T) {
	const delay = 150 * time.Millisecond
	srv := StartDNS(t, DNSOptions{Zone: "$ORIGIN t.\na A 192.0.2.9\n", Delay: delay})
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			start := time.Now()
			r, _, err := dnsClient(network, NewCA(t)).ExchangeContext(t.Context(), new(dns.Msg).SetQuestion("a.t.", dns.TypeA), srv.Addr)
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			if elapsed := time.Since(start); elapsed < delay {
				t.Errorf("answered after %v, want at least %v", elapsed, delay)
			}
			if len(r.Answer) != 1 {
				t.Errorf("answers %v, want one", r.Answer)
			}
		})
	}
}

func TestDNSDelayDoesNotBlockCleanup(t *testing.T) {
	start := time.Now()
	t.Run("server", func(t *testing.T) {
		srv := StartDNS(t, DNSOptions{Zone: "$ORIGIN t.\na A 192.0.2.9\n", Delay: time.Hour})
		for _, network := range []string{"udp", "tcp"} {
			c := dnsClient(network, NewCA(t))
			c.Timeout = 100 * time.Millisecond
			if _, _, err := c.ExchangeContext(t.Context(), new(dns.Msg).SetQuestion("a.t.", dns.TypeA), srv.Addr); err == nil {
				t.Errorf("%s: answered despite a one-hour delay", network)
			}
		}
		if n := srv.Queries(); n != 0 {
			t.Errorf("Queries() = %d while all are delayed", n)
		}
	}) // cleanup runs here, with two handlers waiting
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Fatalf("server shut down after %v; delayed handlers blocked it", elapsed)
	}
}
