package probes_test

import (
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/vantageprobe/vantage/probes"
	"github.com/vantageprobe/vantage/probes/probestest"
)

func patterns(ss ...string) []probes.Pattern {
	out := make([]probes.Pattern, len(ss))
	for i, s := range ss {
		out[i] = mustPattern(s)
	}
	return out
}

// TestDNSSectionAssertions: rcode sets and the record checks of the
// answer, authority and additional sections.
func TestDNSSectionAssertions(t *testing.T) {
	srv := probestest.StartDNS(t, probestest.DNSOptions{Zone: dnsZone, ServFail: []string{"broken.example.test"}})
	tests := []struct {
		name     string
		qname    string
		qtype    string
		expect   probes.DNSExpect
		ok       bool
		sentinel error
		msg      string
	}{
		{name: "rcode in set", qname: "nope.example.test", expect: probes.DNSExpect{Rcodes: []probes.DNSRcode{dnsRcode(t, "NOERROR"), dnsRcode(t, "NXDOMAIN")}}, ok: true},
		{name: "rcode not in set", qname: "broken.example.test", expect: probes.DNSExpect{Rcodes: []probes.DNSRcode{dnsRcode(t, "NOERROR"), dnsRcode(t, "NXDOMAIN")}},
			sentinel: probes.ErrDNSRcode, msg: "got SERVFAIL, want NOERROR or NXDOMAIN"},
		{name: "every answer matches", qname: "multi.example.test", expect: probes.DNSExpect{AnswerRRs: probes.RRExpect{EveryMatch: patterns(`\tA\t192\.0\.2\.[12]$`, `^multi\.`)}}, ok: true},
		{name: "an answer does not match", qname: "multi.example.test", expect: probes.DNSExpect{AnswerRRs: probes.RRExpect{EveryMatch: patterns(`192\.0\.2\.1$`)}},
			sentinel: probes.ErrDNSAnswer, msg: `answer record "multi.example.test.\t300\tIN\tA\t192.0.2.2" does not match`},
		{name: "every_match passes an empty section", qname: "nope.example.test", qtype: "A",
			expect: probes.DNSExpect{Rcode: dnsRcode(t, "NXDOMAIN"), AnswerRRs: probes.RRExpect{EveryMatch: patterns("x")}}, ok: true},
		{name: "min_records fails an empty section", qname: "nope.example.test",
			expect:   probes.DNSExpect{Rcode: dnsRcode(t, "NXDOMAIN"), AnswerRRs: probes.RRExpect{EveryMatch: patterns("x"), MinRecords: 1}},
			sentinel: probes.ErrDNSAnswer, msg: "0 answer records, want at least 1"},
		{name: "none_match", qname: "multi.example.test", expect: probes.DNSExpect{AnswerRRs: probes.RRExpect{NoneMatch: patterns(`192\.0\.2\.9`)}}, ok: true},
		{name: "none_match hit", qname: "multi.example.test", expect: probes.DNSExpect{AnswerRRs: probes.RRExpect{NoneMatch: patterns(`192\.0\.2\.9`, `192\.0\.2\.2`)}},
			sentinel: probes.ErrDNSAnswer, msg: `matches "192\\.0\\.2\\.2"`},
		{name: "some_match", qname: "multi.example.test", expect: probes.DNSExpect{AnswerRRs: probes.RRExpect{SomeMatch: patterns(`192\.0\.2\.9`, `192\.0\.2\.2`)}}, ok: true},
		{name: "some_match missed", qname: "multi.example.test", expect: probes.DNSExpect{AnswerRRs: probes.RRExpect{SomeMatch: patterns(`192\.0\.2\.9`)}},
			sentinel: probes.ErrDNSAnswer, msg: "no answer record matches"},
		{name: "some_match on an empty section", qname: "www.example.test", qtype: "TXT", expect: probes.DNSExpect{AnswerRRs: probes.RRExpect{SomeMatch: patterns(`.`)}},
			sentinel: probes.ErrDNSAnswer, msg: "no answer records"},
		{name: "authority holds the SOA", qname: "www.example.test", qtype: "TXT", expect: probes.DNSExpect{AuthorityRRs: probes.RRExpect{SomeMatch: patterns(`\tSOA\t`), MinRecords: 1}}, ok: true},
		{name: "authority must not hold the SOA", qname: "www.example.test", qtype: "TXT", expect: probes.DNSExpect{AuthorityRRs: probes.RRExpect{NoneMatch: patterns(`\tSOA\t`)}},
			sentinel: probes.ErrDNSAnswer, msg: "authority record"},
		{name: "additional section empty", qname: "www.example.test", expect: probes.DNSExpect{AdditionalRRs: probes.RRExpect{MinRecords: 1}},
			sentinel: probes.ErrDNSAnswer, msg: "0 additional records, want at least 1"},
		{name: "ANY", qname: "www.example.test", qtype: "ANY", expect: probes.DNSExpect{MinAnswers: 2, AnswerRRs: probes.RRExpect{SomeMatch: patterns(`\tAAAA\t`)}}, ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := probes.DNSSpec{Server: srv.Addr, Name: tt.qname, Expect: tt.expect}
			if tt.qtype != "" {
				spec.Type = dnsType(t, tt.qtype)
			}
			r := probeOnce(t, newDNS(t, spec), 5*time.Second)
			wantOutcome(t, r, tt.ok, tt.sentinel)
			if tt.msg != "" && !strings.Contains(r.Err.Error(), tt.msg) {
				t.Fatalf("error %q does not contain %q", r.Err, tt.msg)
			}
			if r.RemoteAddr != srv.Addr {
				t.Fatalf("RemoteAddr %q, want %q", r.RemoteAddr, srv.Addr)
			}
		})
	}
}

// TestDNSQueryAsSent: class, flags and the lack of EDNS0 reach the
// server; the detail counts the authority records.
func TestDNSQueryAsSent(t *testing.T) {
	srv := probestest.StartDNS(t, probestest.DNSOptions{Zone: dnsZone})
	var class probes.DNSClass
	if err := class.UnmarshalText([]byte("ch")); err != nil {
		t.Fatal(err)
	}
	off := false
	for _, network := range []probes.DNSTransport{probes.DNSUDP, probes.DNSTCP} {
		spec := probes.DNSSpec{Server: srv.Addr, Name: "www.example.test", Type: dnsType(t, "TXT"), Class: class,
			Transport: network, EDNS0: &off, Recursion: &off, SourceIP: "127.0.0.2"}
		r := probeOnce(t, newDNS(t, spec), 5*time.Second)
		wantOutcome(t, r, true, nil)
		q := srv.LastQuery()
		if q == nil || q.Question[0].Qclass != dns.ClassCHAOS || q.RecursionDesired || q.IsEdns0() != nil {
			t.Fatalf("%s: query as received %v", network, q)
		}
		if r.DNS.Authority != 1 || r.DNS.Additional != 0 {
			t.Fatalf("%s: detail %+v", network, r.DNS)
		}
		if rep := probes.NewReport("c", r); rep.DNS.Authority != 1 {
			t.Fatalf("report %+v", rep.DNS)
		}
	}
}

// TestDNSNoTCPFallback: with tcp_fallback: false a truncated UDP answer is
// judged as it is.
func TestDNSNoTCPFallback(t *testing.T) {
	srv := probestest.StartDNS(t, probestest.DNSOptions{Zone: dnsZone, TruncateUDP: []string{"www.example.test"}})
	off := false
	r := probeOnce(t, newDNS(t, probes.DNSSpec{Server: srv.Addr, Name: "www.example.test", TCPFallback: &off,
		Expect: probes.DNSExpect{MinAnswers: 1}}), 5*time.Second)
	wantOutcome(t, r, false, probes.ErrDNSAnswer)
	if !r.DNS.Truncated || r.DNS.Transport != "udp" {
		t.Fatalf("detail %+v", r.DNS)
	}
	waitDNSQueries(t, srv, map[string]int64{"udp": 1})
}

func TestDNSClassText(t *testing.T) {
	for in, want := range map[string]uint16{"IN": dns.ClassINET, "ch": dns.ClassCHAOS, "HS": dns.ClassHESIOD, "ANY": dns.ClassANY, "NONE": dns.ClassNONE} {
		var c probes.DNSClass
		if err := c.UnmarshalText([]byte(in)); err != nil || c.Code() != want {
			t.Errorf("class %q = %d, %v; want %d", in, c.Code(), err, want)
		}
	}
	var c probes.DNSClass
	if c.Code() != dns.ClassINET || c.String() != "IN" {
		t.Errorf("zero class %d %q, want IN", c.Code(), c)
	}
	if err := c.UnmarshalText([]byte("XX")); err == nil {
		t.Error("class XX accepted")
	}
	spec := probes.DNSSpec{Name: "a.test", Expect: probes.DNSExpect{Rcode: dnsRcode(t, "NXDOMAIN"), Rcodes: []probes.DNSRcode{dnsRcode(t, "NOERROR")}}}
	if err := spec.Validate(); err == nil || !strings.Contains(err.Error(), "expect.rcodes: set either rcode or rcodes") {
		t.Errorf("rcode and rcodes: %v", err)
	}
	spec = probes.DNSSpec{Name: "a.test", Expect: probes.DNSExpect{AuthorityRRs: probes.RRExpect{MinRecords: -1}}}
	if err := spec.Validate(); err == nil || !strings.Contains(err.Error(), "expect.authority_rrs.min_records") {
		t.Errorf("negative min_records: %v", err)
	}
}
