package probes_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/vantageprobe/vantage/probes"
	"github.com/vantageprobe/vantage/probes/probestest"
)

// dnsZone is served by every DNS test server. The PTR owner names are the
// reversed forms of 192.0.2.10 and 2001:db8::10. The four TXT records of
// large.example.test make an answer of about 900 bytes: more than fits in
// 512 bytes, less than the default EDNS0 size of 1232.
var dnsZone = fmt.Sprintf(dnsZoneFormat, strings.Repeat("a", 200), strings.Repeat("b", 200), strings.Repeat("c", 200), strings.Repeat("d", 200))

const dnsZoneFormat = `$ORIGIN example.test.
$TTL 300
@         IN SOA   ns1.example.test. hostmaster.example.test. 2024010101 3600 600 86400 300
@         IN NS    ns1.example.test.
@         IN MX    10 mail.example.test.
@         IN TXT   "v=spf1 -all"
@         IN CAA   0 issue "letsencrypt.org"
ns1       IN A     192.0.2.1
www       IN A     192.0.2.10
www       IN AAAA  2001:db8::10
multi     IN A     192.0.2.1
multi     IN A     192.0.2.2
alias     IN CNAME www.example.test.
big       IN A     192.0.2.99
large     IN TXT   "%[1]s"
large     IN TXT   "%[2]s"
large     IN TXT   "%[3]s"
large     IN TXT   "%[4]s"
_sip._tcp IN SRV   10 20 5060 sip.example.test.
10.2.0.192.in-addr.arpa. IN PTR www.example.test.
0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. IN PTR www.example.test.
`

// dnsType parses a query type mnemonic.
func dnsType(t testing.TB, s string) probes.DNSType {
	t.Helper()
	var typ probes.DNSType
	if err := typ.UnmarshalText([]byte(s)); err != nil {
		t.Fatalf("dns type %q: %v", s, err)
	}
	return typ
}

// dnsRcode parses an rcode mnemonic.
func dnsRcode(t testing.TB, s string) probes.DNSRcode {
	t.Helper()
	var c probes.DNSRcode
	if err := c.UnmarshalText([]byte(s)); err != nil {
		t.Fatalf("dns rcode %q: %v", s, err)
	}
	return c
}

func newDNS(t testing.TB, spec probes.DNSSpec) *probes.DNSProber {
	t.Helper()
	p, err := probes.NewDNS(spec)
	if err != nil {
		t.Fatalf("NewDNS: %v", err)
	}
	return p
}

// waitDNSQueries waits until srv has answered exactly want queries over
// each network. The server counts a query after writing its reply, so the
// count may lag the probe's return by a moment.
func waitDNSQueries(t testing.TB, srv *probestest.DNSServer, want map[string]int64) {
	t.Helper()
	got := map[string]int64{}
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(time.Millisecond) {
		for _, network := range []string{"udp", "tcp", "tcp-tls"} {
			got[network] = srv.QueriesOver(network)
		}
		if equalCounts(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server answered %v queries, want %v", got, want)
		}
	}
}

func equalCounts(got, want map[string]int64) bool {
	for network, n := range got {
		if want[network] != n {
			return false
		}
	}
	return true
}

func TestDNSRecords(t *testing.T) {
	srv := probestest.StartDNS(t, probestest.DNSOptions{Zone: dnsZone})
	tests := []struct {
		name, qname, qtype string
		want               []string
	}{
		{"A", "www.example.test", "A", []string{"www.example.test.\t300\tIN\tA\t192.0.2.10"}},
		{"A fqdn", "www.example.test.", "A", []string{"www.example.test.\t300\tIN\tA\t192.0.2.10"}},
		{"default type is A", "www.example.test", "", []string{"www.example.test.\t300\tIN\tA\t192.0.2.10"}},
		{"A two records", "multi.example.test", "A", []string{
			"multi.example.test.\t300\tIN\tA\t192.0.2.1",
			"multi.example.test.\t300\tIN\tA\t192.0.2.2",
		}},
		{"AAAA", "www.example.test", "AAAA", []string{"www.example.test.\t300\tIN\tAAAA\t2001:db8::10"}},
		{"MX", "example.test", "MX", []string{"example.test.\t300\tIN\tMX\t10 mail.example.test."}},
		{"TXT", "example.test", "TXT", []string{"example.test.\t300\tIN\tTXT\t\"v=spf1 -all\""}},
		{"CNAME", "alias.example.test", "CNAME", []string{"alias.example.test.\t300\tIN\tCNAME\twww.example.test."}},
		{"NS", "example.test", "NS", []string{"example.test.\t300\tIN\tNS\tns1.example.test."}},
		{"SOA", "example.test", "SOA", []string{
			"example.test.\t300\tIN\tSOA\tns1.example.test. hostmaster.example.test. 2024010101 3600 600 86400 300",
		}},
		{"SRV", "_sip._tcp.example.test", "SRV", []string{"_sip._tcp.example.test.\t300\tIN\tSRV\t10 20 5060 sip.example.test."}},
		{"CAA", "example.test", "CAA", []string{"example.test.\t300\tIN\tCAA\t0 issue \"letsencrypt.org\""}},
		{"PTR from IPv4", "192.0.2.10", "PTR", []string{"10.2.0.192.in-addr.arpa.\t300\tIN\tPTR\twww.example.test."}},
		{"PTR from IPv6", "2001:db8::10", "PTR", []string{
			"0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.\t300\tIN\tPTR\twww.example.test.",
		}},
		{"PTR already reversed", "10.2.0.192.in-addr.arpa", "PTR", []string{"10.2.0.192.in-addr.arpa.\t300\tIN\tPTR\twww.example.test."}},
		{"no record of the type", "www.example.test", "MX", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := probes.DNSSpec{Server: srv.Addr, Name: tt.qname}
			if tt.qtype != "" {
				spec.Type = dnsType(t, tt.qtype)
			}
			r := probeOnce(t, newDNS(t, spec), 5*time.Second)
			wantOutcome(t, r, true, nil)
			d := r.DNS
			if d == nil || d.Rcode != "NOERROR" || d.Transport != "udp" || d.Truncated {
				t.Fatalf("detail %+v, want NOERROR over udp, not truncated", d)
			}
			if strings.Join(d.Answers, "\n") != strings.Join(tt.want, "\n") || len(d.Answers) != len(tt.want) {
				t.Fatalf("answers\n%q\nwant\n%q", d.Answers, tt.want)
			}
			// The zone's SOA goes into the authority section only when
			// there is no answer.
			wantAuth := 0
			if len(tt.want) == 0 {
				wantAuth = 1
			}
			if d.Authority != wantAuth || d.Additional != 0 {
				t.Errorf("authority %d additional %d, want %d and 0", d.Authority, d.Additional, wantAuth)
			}
			if r.Kind != probes.KindDNS || r.Target != tt.qname+" @"+srv.Addr {
				t.Errorf("kind %q target %q", r.Kind, r.Target)
			}
			if r.Phases.Processing <= 0 || r.Duration < r.Phases.Processing {
				t.Errorf("processing %s, duration %s", r.Phases.Processing, r.Duration)
			}
		})
	}
}

func TestDNSAssertions(t *testing.T) {
	srv := probestest.StartDNS(t, probestest.DNSOptions{
		Zone:     dnsZone,
		ServFail: []string{"broken.example.test"},
		Refused:  []string{"secret.example.test"},
	})
	tests := []struct {
		name      string
		qname     string
		expect    probes.DNSExpect
		ok        bool
		sentinel  error
		wantRcode string
		wantMsg   string // substring of the error
	}{
		{name: "answers all match", qname: "multi.example.test",
			expect: probes.DNSExpect{Answers: []probes.Pattern{mustPattern(`\tA\t192\.0\.2\.1$`), mustPattern(`\tA\t192\.0\.2\.2$`)}},
			ok:     true, wantRcode: "NOERROR"},
		{name: "one answer pattern matches none", qname: "multi.example.test",
			expect:   probes.DNSExpect{Answers: []probes.Pattern{mustPattern(`192\.0\.2\.1$`), mustPattern(`192\.0\.2\.3$`)}},
			sentinel: probes.ErrDNSAnswer, wantRcode: "NOERROR", wantMsg: `no answer matches "192\\.0\\.2\\.3$"`},
		{name: "answer pattern with no answers", qname: "example.test",
			expect:   probes.DNSExpect{Answers: []probes.Pattern{mustPattern(`.`)}},
			sentinel: probes.ErrDNSAnswer, wantRcode: "NOERROR"},
		{name: "min answers met", qname: "multi.example.test", expect: probes.DNSExpect{MinAnswers: 2}, ok: true, wantRcode: "NOERROR"},
		{name: "min answers not met", qname: "www.example.test", expect: probes.DNSExpect{MinAnswers: 2},
			sentinel: probes.ErrDNSAnswer, wantRcode: "NOERROR", wantMsg: "1 answers, want at least 2"},
		{name: "nxdomain", qname: "nope.example.test",
			sentinel: probes.ErrDNSRcode, wantRcode: "NXDOMAIN", wantMsg: "got NXDOMAIN, want NOERROR"},
		{name: "nxdomain expected", qname: "nope.example.test", expect: probes.DNSExpect{Rcode: dnsRcode(t, "nxdomain")},
			ok: true, wantRcode: "NXDOMAIN"},
		{name: "nxdomain expected, got noerror", qname: "www.example.test", expect: probes.DNSExpect{Rcode: dnsRcode(t, "NXDOMAIN")},
			sentinel: probes.ErrDNSRcode, wantRcode: "NOERROR", wantMsg: "got NOERROR, want NXDOMAIN"},
		{name: "servfail", qname: "broken.example.test",
			sentinel: probes.ErrDNSRcode, wantRcode: "SERVFAIL", wantMsg: "got SERVFAIL"},
		{name: "refused", qname: "secret.example.test",
			sentinel: probes.ErrDNSRcode, wantRcode: "REFUSED", wantMsg: "got REFUSED"},
		{name: "refused expected", qname: "secret.example.test", expect: probes.DNSExpect{Rcode: dnsRcode(t, "REFUSED")},
			ok: true, wantRcode: "REFUSED"},
		{name: "rcode checked before answers", qname: "nope.example.test", expect: probes.DNSExpect{MinAnswers: 1},
			sentinel: probes.ErrDNSRcode, wantRcode: "NXDOMAIN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newDNS(t, probes.DNSSpec{Server: srv.Addr, Name: tt.qname, Expect: tt.expect})
			r := probeOnce(t, p, 5*time.Second)
			wantOutcome(t, r, tt.ok, tt.sentinel)
			if r.DNS == nil || r.DNS.Rcode != tt.wantRcode {
				t.Fatalf("detail %+v, want rcode %s", r.DNS, tt.wantRcode)
			}
			if tt.wantMsg != "" && !strings.Contains(r.Err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not contain %q", r.Err, tt.wantMsg)
			}
			wantClass := map[error]string{nil: "", probes.ErrDNSRcode: "dns_rcode", probes.ErrDNSAnswer: "dns_answer"}[tt.sentinel]
			if got := probes.ErrorClass(r.Err); got != wantClass {
				t.Errorf("class %q, want %q", got, wantClass)
			}
		})
	}
}

func TestDNSTransports(t *testing.T) {
	ca := probestest.NewCA(t)
	cert := ca.Issue(t, probestest.CertOptions{})
	tests := []struct {
		name          string
		qname         string
		transport     probes.DNSTransport
		wantTransport string
		truncated     bool
		queries       map[string]int64
	}{
		{name: "udp", qname: "www.example.test", wantTransport: "udp", queries: map[string]int64{"udp": 1}},
		{name: "truncated udp retried over tcp", qname: "big.example.test", wantTransport: "tcp", truncated: true,
			queries: map[string]int64{"udp": 1, "tcp": 1}},
		{name: "tcp", qname: "www.example.test", transport: probes.DNSTCP, wantTransport: "tcp", queries: map[string]int64{"tcp": 1}},
		{name: "tcp, name truncated over udp", qname: "big.example.test", transport: probes.DNSTCP, wantTransport: "tcp",
			queries: map[string]int64{"tcp": 1}},
		{name: "tcp-tls", qname: "www.example.test", transport: probes.DNSTCPTLS, wantTransport: "tcp-tls",
			queries: map[string]int64{"tcp-tls": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := probestest.StartDNS(t, probestest.DNSOptions{Zone: dnsZone, TruncateUDP: []string{"big.example.test"}, TLS: &cert})
			spec := probes.DNSSpec{Server: srv.Addr, Name: tt.qname, Transport: tt.transport, Expect: probes.DNSExpect{MinAnswers: 1}}
			if tt.transport == probes.DNSTCPTLS {
				spec.Server = srv.TLSAddr
				spec.TLSConfig = probes.TLSOptions{CAFile: ca.WriteFile(t)}
			}
			r := probeOnce(t, newDNS(t, spec), 5*time.Second)
			wantOutcome(t, r, true, nil)
			d := r.DNS
			if d.Transport != tt.wantTransport || d.Truncated != tt.truncated || d.Rcode != "NOERROR" {
				t.Fatalf("transport %q truncated %v rcode %s, want %q %v NOERROR", d.Transport, d.Truncated, d.Rcode, tt.wantTransport, tt.truncated)
			}
			if len(d.Answers) != 1 || !strings.HasPrefix(d.Answers[0], dns.Fqdn(tt.qname)+"\t300\tIN\tA\t192.0.2.") {
				t.Fatalf("answers %q", d.Answers)
			}
			if (r.Phases.TLS > 0) != (tt.transport == probes.DNSTCPTLS) || r.Phases.Processing <= 0 {
				t.Errorf("phases %+v", r.Phases)
			}
			waitDNSQueries(t, srv, tt.queries)
		})
	}
}

// TestDNSUDPSize checks the EDNS0 buffer size through its effect: the
// server truncates UDP answers larger than the size the query advertises.
func TestDNSUDPSize(t *testing.T) {
	srv := probestest.StartDNS(t, probestest.DNSOptions{Zone: dnsZone})
	tests := []struct {
		name      string
		edns0     *bool
		udpSize   uint16
		truncated bool
	}{
		{name: "default 1232 fits"},
		{name: "4096 fits", udpSize: 4096},
		{name: "512 truncates", udpSize: 512, truncated: true},
		{name: "no edns0 truncates", edns0: boolp(false), truncated: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := map[string]int64{"udp": srv.QueriesOver("udp"), "tcp": srv.QueriesOver("tcp")}
			p := newDNS(t, probes.DNSSpec{Server: srv.Addr, Name: "large.example.test", Type: dnsType(t, "TXT"),
				EDNS0: tt.edns0, UDPSize: tt.udpSize, Expect: probes.DNSExpect{MinAnswers: 4}})
			r := probeOnce(t, p, 5*time.Second)
			wantOutcome(t, r, true, nil)
			wantTransport, tcpQueries := "udp", int64(0)
			if tt.truncated {
				wantTransport, tcpQueries = "tcp", 1
			}
			if r.DNS.Truncated != tt.truncated || r.DNS.Transport != wantTransport || len(r.DNS.Answers) != 4 {
				t.Fatalf("truncated %v transport %q answers %d, want %v %q 4", r.DNS.Truncated, r.DNS.Transport, len(r.DNS.Answers), tt.truncated, wantTransport)
			}
			waitDNSQueries(t, srv, map[string]int64{"udp": before["udp"] + 1, "tcp": before["tcp"] + tcpQueries})
		})
	}
}

// startMiekg serves h on a fresh 127.0.0.1 port over network ("udp" or
// "tcp") until cleanup and returns the address.
func startMiekg(t *testing.T, network string, h dns.HandlerFunc) string {
	t.Helper()
	srv := &dns.Server{Net: network, Handler: h}
	var err error
	if network == "udp" {
		srv.PacketConn, err = net.ListenPacket("udp", "127.0.0.1:0")
	} else {
		srv.Listener, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	exit := make(chan error, 1)
	go func() { exit <- srv.ActivateAndServe() }()
	t.Cleanup(func() {
		_ = srv.Shutdown()
		<-exit
	})
	select {
	case <-started:
	case err := <-exit:
		t.Fatalf("start dns server: %v", err)
	}
	if network == "udp" {
		return srv.PacketConn.LocalAddr().String()
	}
	return srv.Listener.Addr().String()
}

// replyA answers req with one A record for ip, under id.
func replyA(w dns.ResponseWriter, req *dns.Msg, id uint16, ip string) {
	m := new(dns.Msg).SetReply(req)
	m.Id = id
	rr, _ := dns.NewRR(req.Question[0].Name + " 60 IN A " + ip)
	m.Answer = []dns.RR{rr}
	_ = w.WriteMsg(m)
}

func TestDNSReplyID(t *testing.T) {
	// A stale reply (another id) comes first, then the real one.
	stale := func(w dns.ResponseWriter, req *dns.Msg) {
		replyA(w, req, req.Id^0x8000, "192.0.2.66")
		replyA(w, req, req.Id, "192.0.2.10")
	}
	wrong := func(w dns.ResponseWriter, req *dns.Msg) { replyA(w, req, req.Id^0x8000, "192.0.2.66") }
	tests := []struct {
		name      string
		transport probes.DNSTransport
		handler   dns.HandlerFunc
		ok        bool
		sentinel  error
	}{
		{name: "udp skips a stale reply", transport: probes.DNSUDP, handler: stale, ok: true},
		{name: "tcp rejects a wrong id", transport: probes.DNSTCP, handler: wrong, sentinel: probes.ErrProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := startMiekg(t, string(tt.transport), tt.handler)
			p := newDNS(t, probes.DNSSpec{Server: addr, Name: "www.example.test", Transport: tt.transport})
			r := probeOnce(t, p, 5*time.Second)
			wantOutcome(t, r, tt.ok, tt.sentinel)
			if tt.ok && (len(r.DNS.Answers) != 1 || r.DNS.Answers[0] != "www.example.test.\t60\tIN\tA\t192.0.2.10") {
				t.Fatalf("answers %q, want only the reply with the query's id", r.DNS.Answers)
			}
		})
	}
}

func TestDNSOverTLSCertificates(t *testing.T) {
	ca, other := probestest.NewCA(t), probestest.NewCA(t)
	tests := []struct {
		name     string
		cert     dnsCertFunc
		opts     probes.TLSOptions
		ok       bool
		sentinel error
	}{
		{name: "trusted via ca_file", cert: caCert(ca, probestest.CertOptions{}), opts: probes.TLSOptions{CAFile: "ca"}, ok: true},
		{name: "self-signed, system roots", cert: selfCert(probestest.CertOptions{}), sentinel: probes.ErrCertInvalid},
		{name: "other ca", cert: caCert(ca, probestest.CertOptions{}), opts: probes.TLSOptions{CAFile: "other"}, sentinel: probes.ErrCertInvalid},
		{name: "name mismatch", cert: caCert(ca, probestest.CertOptions{DNSNames: []string{"dot.example.test"}}),
			opts: probes.TLSOptions{CAFile: "ca"}, sentinel: probes.ErrCertInvalid},
		{name: "server_name override", cert: caCert(ca, probestest.CertOptions{DNSNames: []string{"dot.example.test"}}),
			opts: probes.TLSOptions{CAFile: "ca", ServerName: "dot.example.test"}, ok: true},
		{name: "insecure_skip_verify", cert: selfCert(probestest.CertOptions{}), opts: probes.TLSOptions{InsecureSkipVerify: true}, ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert := tt.cert(t)
			srv := probestest.StartDNS(t, probestest.DNSOptions{Zone: dnsZone, TLS: &cert})
			opts := tt.opts
			switch opts.CAFile {
			case "ca":
				opts.CAFile = ca.WriteFile(t)
			case "other":
				opts.CAFile = other.WriteFile(t)
			}
			p := newDNS(t, probes.DNSSpec{Server: srv.TLSAddr, Name: "www.example.test", Transport: probes.DNSTCPTLS, TLSConfig: opts})
			r := probeOnce(t, p, 5*time.Second)
			wantOutcome(t, r, tt.ok, tt.sentinel)
			if r.Phases.TLS <= 0 || r.Phases.Connect <= 0 {
				t.Errorf("phases %+v, want connect and tls", r.Phases)
			}
			wantQueries := map[string]int64{}
			if tt.ok {
				wantQueries["tcp-tls"] = 1
				if len(r.DNS.Answers) != 1 {
					t.Errorf("answers %q", r.DNS.Answers)
				}
			}
			waitDNSQueries(t, srv, wantQueries)
		})
	}
}

// dnsCertFunc builds a server certificate inside one subtest.
type dnsCertFunc func(testing.TB) tls.Certificate

func caCert(ca *probestest.CA, o probestest.CertOptions) dnsCertFunc {
	return func(t testing.TB) tls.Certificate { return ca.Issue(t, o) }
}

func selfCert(o probestest.CertOptions) dnsCertFunc {
	return func(t testing.TB) tls.Certificate { return probestest.SelfSigned(t, o) }
}

func TestDNSTimeouts(t *testing.T) {
	const slackDNS = 100 * time.Millisecond
	tests := []struct {
		name      string
		delay     time.Duration
		timeout   time.Duration
		transport probes.DNSTransport
		ok        bool
	}{
		{name: "udp slower than timeout", delay: 2 * time.Second, timeout: 300 * time.Millisecond},
		{name: "tcp slower than timeout", delay: 2 * time.Second, timeout: 300 * time.Millisecond, transport: probes.DNSTCP},
		// The caller's deadline, not a library default, bounds the exchange.
		{name: "udp slow but within timeout", delay: 2200 * time.Millisecond, timeout: 5 * time.Second, ok: true},
		{name: "tcp slow but within timeout", delay: 2200 * time.Millisecond, timeout: 5 * time.Second, transport: probes.DNSTCP, ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := probestest.StartDNS(t, probestest.DNSOptions{Zone: dnsZone, Delay: tt.delay})
			p := newDNS(t, probes.DNSSpec{Server: srv.Addr, Name: "www.example.test", Transport: tt.transport})
			r, took := probeTimed(t, p, tt.timeout)
			if tt.ok {
				wantOutcome(t, r, true, nil)
				if took < tt.delay || r.Phases.Processing < tt.delay {
					t.Fatalf("took %s (processing %s), want at least the server's delay %s", took, r.Phases.Processing, tt.delay)
				}
				return
			}
			wantOutcome(t, r, false, probes.ErrTimeout)
			if took < tt.timeout || took > tt.timeout+slackDNS {
				t.Fatalf("probe took %s (duration %s, phases %+v), want [%s, %s]", took, r.Duration, r.Phases, tt.timeout, tt.timeout+slackDNS)
			}
			if got := r.Err.Error(); got != "timeout during processing" {
				t.Errorf("error %q", got)
			}
		})
	}
}

func TestDNSConnRefused(t *testing.T) {
	p := newDNS(t, probes.DNSSpec{Server: probestest.RefusedAddr(t), Name: "www.example.test", Transport: probes.DNSTCP})
	r := probeOnce(t, p, 2*time.Second)
	wantOutcome(t, r, false, probes.ErrConnRefused)
	if probes.ErrorClass(r.Err) != "conn_refused" || r.DNS == nil || r.DNS.Transport != "tcp" || r.DNS.Rcode != "" {
		t.Fatalf("class %q detail %+v", probes.ErrorClass(r.Err), r.DNS)
	}
}

func TestDNSWrongIPVersion(t *testing.T) {
	srv := probestest.StartDNS(t, probestest.DNSOptions{Zone: dnsZone})
	p := newDNS(t, probes.DNSSpec{Server: srv.Addr, Name: "www.example.test", IPVersion: probes.IPv6})
	r := probeOnce(t, p, 2*time.Second)
	wantOutcome(t, r, false, probes.ErrResolve)
	waitDNSQueries(t, srv, map[string]int64{})
}

// dnsRecorder is a DNS server on 127.0.0.1 (UDP) that answers every query
// with an empty NOERROR reply and keeps the last query it received.
type dnsRecorder struct {
	addr string
	mu   sync.Mutex
	last *dns.Msg
}

func startDNSRecorder(t *testing.T) *dnsRecorder {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rec := &dnsRecorder{addr: pc.LocalAddr().String()}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, NotifyStartedFunc: func() { close(started) },
		Handler: dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
			rec.mu.Lock()
			rec.last = req.Copy()
			rec.mu.Unlock()
			_ = w.WriteMsg(new(dns.Msg).SetReply(req))
		})}
	exit := make(chan error, 1)
	go func() { exit <- srv.ActivateAndServe() }()
	t.Cleanup(func() {
		_ = srv.Shutdown()
		<-exit
	})
	select {
	case <-started:
	case err := <-exit:
		t.Fatalf("start dns recorder: %v", err)
	}
	return rec
}

func (rec *dnsRecorder) query() *dns.Msg {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.last
}

func TestDNSQueryFlags(t *testing.T) {
	rec := startDNSRecorder(t)
	tests := []struct {
		name     string
		spec     probes.DNSSpec
		wantRD   bool
		wantEDNS uint16 // advertised UDP size; 0 = no OPT record
		wantType uint16
	}{
		{name: "defaults", spec: probes.DNSSpec{Name: "www.example.test"}, wantRD: true, wantEDNS: probes.DefaultDNSUDPSize, wantType: dns.TypeA},
		{name: "recursion off", spec: probes.DNSSpec{Name: "www.example.test", Recursion: boolp(false)}, wantEDNS: 1232, wantType: dns.TypeA},
		{name: "recursion on", spec: probes.DNSSpec{Name: "www.example.test", Recursion: boolp(true)}, wantRD: true, wantEDNS: 1232, wantType: dns.TypeA},
		{name: "edns0 off", spec: probes.DNSSpec{Name: "www.example.test", EDNS0: boolp(false)}, wantRD: true, wantType: dns.TypeA},
		{name: "udp size", spec: probes.DNSSpec{Name: "www.example.test", UDPSize: 4096, Type: dnsType(t, "txt")}, wantRD: true, wantEDNS: 4096, wantType: dns.TypeTXT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := tt.spec
			spec.Server = rec.addr
			wantOutcome(t, probeOnce(t, newDNS(t, spec), 5*time.Second), true, nil)
			q := rec.query()
			if q == nil || len(q.Question) != 1 {
				t.Fatalf("server got %v", q)
			}
			if q.Question[0].Name != "www.example.test." || q.Question[0].Qtype != tt.wantType {
				t.Errorf("question %v", q.Question[0])
			}
			if q.RecursionDesired != tt.wantRD {
				t.Errorf("RD = %v, want %v", q.RecursionDesired, tt.wantRD)
			}
			var size uint16
			if opt := q.IsEdns0(); opt != nil {
				size = opt.UDPSize()
			}
			if size != tt.wantEDNS {
				t.Errorf("EDNS0 UDP size %d, want %d (0: no OPT)", size, tt.wantEDNS)
			}
		})
	}
}

// TestDNSDefaultPort checks the port added to a server without one, using a
// cancelled context so that nothing is sent.
func TestDNSDefaultPort(t *testing.T) {
	tests := []struct {
		server    string
		transport probes.DNSTransport
		want      string
	}{
		{"127.0.0.1", "", "127.0.0.1:53"},
		{"127.0.0.1", probes.DNSTCP, "127.0.0.1:53"},
		{"127.0.0.1", probes.DNSTCPTLS, "127.0.0.1:853"},
		{"127.0.0.1:5353", probes.DNSTCPTLS, "127.0.0.1:5353"},
		{"::1", "", "[::1]:53"},
		{"[::1]", probes.DNSTCPTLS, "[::1]:853"},
		{"[::1]:5300", "", "[::1]:5300"},
	}
	for _, tt := range tests {
		t.Run(tt.server+" "+string(tt.transport), func(t *testing.T) {
			p := newDNS(t, probes.DNSSpec{Server: tt.server, Name: "example.test", Transport: tt.transport})
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			r, err := p.Probe(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if r.Target != "example.test @"+tt.want {
				t.Fatalf("target %q, want %q", r.Target, "example.test @"+tt.want)
			}
			if r.OK {
				t.Fatalf("probe with a cancelled context succeeded")
			}
		})
	}
}

func TestDNSValidate(t *testing.T) {
	valid := probes.DNSSpec{Name: "example.test", Server: "127.0.0.1:53"}
	tests := []struct {
		name   string
		modify func(*probes.DNSSpec)
		want   []string // prefixes of the error lines, in order; none = valid
	}{
		{name: "valid", modify: func(*probes.DNSSpec) {}},
		{name: "valid ipv6 server", modify: func(s *probes.DNSSpec) { s.Server = "[::1]:53" }},
		{name: "valid bare ipv6 server", modify: func(s *probes.DNSSpec) { s.Server = "::1" }},
		{name: "valid host name server", modify: func(s *probes.DNSSpec) { s.Server = "ns1.example.test" }},
		{name: "valid tcp-tls with tls_config", modify: func(s *probes.DNSSpec) {
			s.Transport, s.TLSConfig = probes.DNSTCPTLS, probes.TLSOptions{ServerName: "dns.example.test"}
		}},
		{name: "valid PTR with an IPv6 name", modify: func(s *probes.DNSSpec) { s.Name, s.Type = "2001:db8::1", dnsType(t, "PTR") }},
		{name: "missing name", modify: func(s *probes.DNSSpec) { s.Name = "" }, want: []string{"name: required"}},
		{name: "empty label", modify: func(s *probes.DNSSpec) { s.Name = "a..example.test" }, want: []string{`name: "a..example.test" is not a domain name`}},
		{name: "label too long", modify: func(s *probes.DNSSpec) { s.Name = strings.Repeat("a", 64) + ".test" }, want: []string{"name: "}},
		{name: "server without host", modify: func(s *probes.DNSSpec) { s.Server = ":53" }, want: []string{"server: "}},
		{name: "server without port", modify: func(s *probes.DNSSpec) { s.Server = "127.0.0.1:" }, want: []string{"server: "}},
		{name: "server with a path", modify: func(s *probes.DNSSpec) { s.Server = "dns.example.test/dns-query" }, want: []string{"server: "}},
		{name: "server is a URL", modify: func(s *probes.DNSSpec) { s.Server = "https://dns.example.test" }, want: []string{"server: "}},
		{name: "server port not a number", modify: func(s *probes.DNSSpec) { s.Server = "127.0.0.1:dns53" }, want: []string{"server: "}},
		{name: "server port out of range", modify: func(s *probes.DNSSpec) { s.Server = "127.0.0.1:70000" }, want: []string{"server: "}},
		{name: "server port zero", modify: func(s *probes.DNSSpec) { s.Server = "127.0.0.1:0" }, want: []string{"server: "}},
		{name: "server with two ports", modify: func(s *probes.DNSSpec) { s.Server = "127.0.0.1:53:53" }, want: []string{"server: "}},
		{name: "server unbalanced bracket", modify: func(s *probes.DNSSpec) { s.Server = "[::1" }, want: []string{"server: "}},
		{name: "udp_size too small", modify: func(s *probes.DNSSpec) { s.UDPSize = 511 }, want: []string{"udp_size: must be at least 512, got 511"}},
		{name: "negative min_answers", modify: func(s *probes.DNSSpec) { s.Expect.MinAnswers = -1 }, want: []string{"expect.min_answers: must be 0 or more, got -1"}},
		{name: "tls_config without tcp-tls", modify: func(s *probes.DNSSpec) { s.TLSConfig.CAFile = "/ca.pem" },
			want: []string{"tls_config: only used with transport: tcp-tls"}},
		{name: "tls_config with tcp", modify: func(s *probes.DNSSpec) { s.Transport, s.TLSConfig.InsecureSkipVerify = probes.DNSTCP, true },
			want: []string{"tls_config: only used with transport: tcp-tls"}},
		{name: "cert without key", modify: func(s *probes.DNSSpec) { s.Transport, s.TLSConfig.CertFile = probes.DNSTCPTLS, "/c.pem" },
			want: []string{"tls_config: cert_file and key_file must be set together"}},
		{name: "every problem reported", modify: func(s *probes.DNSSpec) {
			s.Name, s.Server, s.UDPSize, s.TLSConfig.KeyFile = "", ":53", 100, "/k.pem"
		}, want: []string{"name: required", "server: ", "udp_size: ", "tls_config: cert_file", "tls_config: only used"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := valid
			tt.modify(&spec)
			err := spec.Validate()
			wantErrLines(t, err, tt.want)
			if _, nerr := probes.NewDNS(spec); (nerr != nil) != (len(tt.want) > 0) {
				t.Fatalf("NewDNS error %v, Validate error %v", nerr, err)
			}
		})
	}
}

// wantErrLines checks that err (from errors.Join) has one line per wanted
// prefix, in order; no prefixes means err must be nil.
func wantErrLines(t *testing.T, err error, prefixes []string) {
	t.Helper()
	if len(prefixes) == 0 {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want %q", prefixes)
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(prefixes) {
		t.Fatalf("error lines %q, want prefixes %q", lines, prefixes)
	}
	for i, p := range prefixes {
		if !strings.HasPrefix(lines[i], p) {
			t.Errorf("error line %q, want prefix %q", lines[i], p)
		}
	}
}

func TestDNSTypeText(t *testing.T) {
	tests := []struct {
		in   string
		want uint16
		ok   bool
	}{
		{"A", dns.TypeA, true}, {"a", dns.TypeA, true}, {"AAAA", dns.TypeAAAA, true}, {"cname", dns.TypeCNAME, true},
		{"Mx", dns.TypeMX, true}, {"TXT", dns.TypeTXT, true}, {"NS", dns.TypeNS, true}, {"SOA", dns.TypeSOA, true},
		{"srv", dns.TypeSRV, true}, {"CAA", dns.TypeCAA, true}, {"ptr", dns.TypePTR, true},
		{"ANY", dns.TypeANY, true}, {"DNSKEY", dns.TypeDNSKEY, true}, {"https", dns.TypeHTTPS, true}, {"URI", dns.TypeURI, true},
		{"", 0, false}, {"AXFR", 0, false}, {"IXFR", 0, false}, {"OPT", 0, false}, {"TSIG", 0, false}, {"NONE", 0, false},
		{"1", 0, false}, {" A", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var typ probes.DNSType
			err := typ.UnmarshalText([]byte(tt.in))
			if (err == nil) != tt.ok {
				t.Fatalf("UnmarshalText(%q) = %v, want ok %v", tt.in, err, tt.ok)
			}
			if !tt.ok {
				if !strings.Contains(err.Error(), "is not a supported DNS type") || typ != 0 {
					t.Fatalf("error %q, type %v", err, typ)
				}
				return
			}
			if uint16(typ) != tt.want || typ.String() != dns.TypeToString[tt.want] {
				t.Fatalf("got %d %q, want %d", typ, typ, tt.want)
			}
		})
	}
}

func TestDNSTransportText(t *testing.T) {
	tests := []struct {
		in   string
		want probes.DNSTransport
		ok   bool
	}{
		{"udp", probes.DNSUDP, true}, {"UDP", probes.DNSUDP, true}, {"tcp", probes.DNSTCP, true}, {"Tcp", probes.DNSTCP, true},
		{"tcp-tls", probes.DNSTCPTLS, true}, {"dot", probes.DNSTCPTLS, true}, {"TLS", probes.DNSTCPTLS, true},
		{"", "", false}, {"https", "", false}, {"doh", "", false}, {"tcp_tls", "", false}, {"quic", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var tr probes.DNSTransport
			err := tr.UnmarshalText([]byte(tt.in))
			if (err == nil) != tt.ok || tr != tt.want {
				t.Fatalf("UnmarshalText(%q) = %q, %v; want %q ok %v", tt.in, tr, err, tt.want, tt.ok)
			}
			if !tt.ok && !strings.Contains(err.Error(), "is not a DNS transport") {
				t.Fatalf("error %q", err)
			}
		})
	}
}

func TestDNSRcodeText(t *testing.T) {
	tests := []struct {
		in   string
		code int
		name string
		ok   bool
	}{
		{"NOERROR", dns.RcodeSuccess, "NOERROR", true},
		{"noerror", dns.RcodeSuccess, "NOERROR", true},
		{"NXDOMAIN", dns.RcodeNameError, "NXDOMAIN", true},
		{"servfail", dns.RcodeServerFailure, "SERVFAIL", true},
		{"Refused", dns.RcodeRefused, "REFUSED", true},
		{"FORMERR", dns.RcodeFormatError, "FORMERR", true},
		{"", 0, "", false}, {"0", 0, "", false}, {"NXDOMAINX", 0, "", false}, {"not found", 0, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var c probes.DNSRcode
			err := c.UnmarshalText([]byte(tt.in))
			if (err == nil) != tt.ok {
				t.Fatalf("UnmarshalText(%q) = %v, want ok %v", tt.in, err, tt.ok)
			}
			if !tt.ok {
				if !strings.Contains(err.Error(), "is not a DNS rcode") || c != (probes.DNSRcode{}) {
					t.Fatalf("error %q, rcode %v", err, c)
				}
				return
			}
			if c.Code() != tt.code || c.String() != tt.name {
				t.Fatalf("got %d %q, want %d %q", c.Code(), c, tt.code, tt.name)
			}
		})
	}
	t.Run("zero value is NOERROR", func(t *testing.T) {
		var c probes.DNSRcode
		if c.Code() != dns.RcodeSuccess || c.String() != "NOERROR" {
			t.Fatalf("zero value: %d %q", c.Code(), c)
		}
	})
}
