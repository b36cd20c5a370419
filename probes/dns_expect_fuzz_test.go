package probes

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// fuzzDNSExpect builds an expectation as the config does: rcode mnemonics
// and patterns through UnmarshalText. rcodes is a comma-separated list
// (the first is rcode when single is set, the rest rcodes); each pattern
// list is one pattern per line, "" for none; sections is a bit set of the
// sections (answer, authority, additional) that get rr.
func fuzzDNSExpect(rcodes string, single bool, answers string, minAnswers int, rr RRExpect, sections uint8) (DNSExpect, bool) {
	var e DNSExpect
	if rcodes != "" {
		for i, name := range strings.Split(rcodes, ",") {
			var c DNSRcode
			if c.UnmarshalText([]byte(name)) != nil {
				return e, false
			}
			if i == 0 && single {
				e.Rcode = c
			} else {
				e.Rcodes = append(e.Rcodes, c)
			}
		}
	}
	var ok bool
	if e.Answers, ok = fuzzPatterns(answers); !ok {
		return e, false
	}
	e.MinAnswers = minAnswers
	for i, sec := range []*RRExpect{&e.AnswerRRs, &e.AuthorityRRs, &e.AdditionalRRs} {
		if sections&(1<<i) != 0 {
			*sec = rr
		}
	}
	return e, true
}

func fuzzPatterns(lines string) ([]Pattern, bool) {
	if lines == "" {
		return nil, true
	}
	var out []Pattern
	for _, l := range strings.Split(lines, "\n") {
		var p Pattern
		if p.UnmarshalText([]byte(l)) != nil {
			return nil, false
		}
		out = append(out, p)
	}
	return out, true
}

// fuzzRRs parses one record per line with dns.NewRR, skipping lines that
// do not parse (and blank ones, for which NewRR returns no record).
func fuzzRRs(lines string) []dns.RR {
	var out []dns.RR
	for _, l := range strings.Split(lines, "\n") {
		if rr, err := dns.NewRR(l); err == nil && rr != nil {
			out = append(out, rr)
		}
	}
	return out
}

// wantDNSVerdict is the meaning of an expectation, written out apart from
// DNSExpect.check: nil when the answer passes, else the sentinel.
func wantDNSVerdict(e DNSExpect, m *dns.Msg) error {
	accepted := e.Rcodes
	if len(accepted) == 0 {
		accepted = []DNSRcode{e.Rcode}
	}
	if !slices.ContainsFunc(accepted, func(c DNSRcode) bool { return c.Code() == m.Rcode }) {
		return ErrDNSRcode
	}
	// The records as zone-file text; the OPT pseudo-record is no
	// additional record.
	texts := func(rrs []dns.RR, skipOPT bool) []string {
		var out []string
		for _, rr := range rrs {
			if !skipOPT || rr.Header().Rrtype != dns.TypeOPT {
				out = append(out, rr.String())
			}
		}
		return out
	}
	answers := texts(m.Answer, false)
	if len(answers) < e.MinAnswers {
		return ErrDNSAnswer
	}
	matchesAny := func(p Pattern, ss []string) bool { return slices.ContainsFunc(ss, p.MatchString) }
	for _, p := range e.Answers {
		if !matchesAny(p, answers) {
			return ErrDNSAnswer
		}
	}
	for i, sec := range []RRExpect{e.AnswerRRs, e.AuthorityRRs, e.AdditionalRRs} {
		recs := texts([][]dns.RR{m.Answer, m.Ns, m.Extra}[i], i == 2)
		if len(recs) < sec.MinRecords {
			return ErrDNSAnswer
		}
		for _, p := range sec.NoneMatch {
			if matchesAny(p, recs) {
				return ErrDNSAnswer
			}
		}
		for _, p := range sec.EveryMatch {
			for _, s := range recs {
				if !p.MatchString(s) {
					return ErrDNSAnswer
				}
			}
		}
		if len(sec.SomeMatch) > 0 && !slices.ContainsFunc(sec.SomeMatch, func(p Pattern) bool { return matchesAny(p, recs) }) {
			return ErrDNSAnswer
		}
	}
	return nil
}

// FuzzDNSExpect matches DNS answers built from fuzzed zone-file records,
// after a trip through the wire format as a probe receives them, against
// expectations built from fuzzed rcodes and patterns. The constructor
// refuses exactly the invalid expectations; matching never panics, is
// deterministic, leaves the message alone, records the answer faithfully
// and agrees with wantDNSVerdict.
func FuzzDNSExpect(f *testing.F) {
	type seed struct {
		rcodes            string
		single            bool
		answers           string
		minAnswers        int
		none, every, some string
		minRecords        int
		sections          uint8
		rcode             uint16
		answer, ns, extra string
		edns              bool
	}
	for _, s := range []seed{
		{rcodes: "NOERROR", single: true, answers: `\tA\t192\.0\.2\.1$`, minAnswers: 1,
			answer: "www.example.test. 300 IN A 192.0.2.1\nwww.example.test. 300 IN A 192.0.2.2"},
		{rcodes: "NOERROR,NXDOMAIN", rcode: dns.RcodeNameError,
			ns: "example.test. 3600 IN SOA ns1.example.test. hostmaster.example.test. 1 7200 3600 1209600 300", some: `\tSOA\t`, minRecords: 1, sections: 2},
		{every: `\tA\t192\.0\.2\.[12]$` + "\n" + `^multi\.`, none: `192\.0\.2\.9`, sections: 1,
			answer: "multi.example.test. 300 IN A 192.0.2.1\nmulti.example.test. 300 IN A 192.0.2.2"},
		{answers: `"v=spf1`, answer: `example.test. 300 IN TXT "v=spf1 -all" "second\"quoted"`, edns: true},
		{some: `\tMX\t10 `, sections: 7, answer: "example.test. 300 IN MX 10 mx.example.test.", extra: "mx.example.test. 300 IN AAAA 2001:db8::1"},
		{rcodes: "SERVFAIL", single: true, rcode: dns.RcodeServerFailure},
		{rcodes: "BADVERS", single: true, rcode: dns.RcodeBadVers, edns: true},
		{rcodes: "NOERROR,REFUSED", single: true}, // rcode and rcodes: invalid
		{minAnswers: -1},
		{minRecords: -9223372036854775808, sections: 7},
		{minAnswers: 9223372036854775807},
		{rcodes: "NOERROR,", single: true},
		{answers: "(", every: `[[:alpha:]`},
		{answers: `\x00|\r\n`, answer: "example.test. 300 IN TXT \"a\\000b\\013\\010c\"\r\nexample.test. 300 IN TXT \"\\255\""},
		{every: `.*`, sections: 7, answer: "\\(\\). 300 IN CNAME \\$.example.test.\nexample.test. IN TYPE65280 \\# 3 abcdef", rcode: 4095, edns: true},
		{some: `x{1000}`, sections: 1, answer: strings.Repeat("a.", 120) + " 300 IN A 192.0.2.1"},
		{answer: "garbage\n\n; comment only\n$TTL 300"},
		{},
	} {
		f.Add(s.rcodes, s.single, s.answers, s.minAnswers, s.none, s.every, s.some, s.minRecords, s.sections, s.rcode, s.answer, s.ns, s.extra, s.edns)
	}
	f.Fuzz(func(t *testing.T, rcodes string, single bool, answers string, minAnswers int, none, every, some string, minRecords int,
		sections uint8, rcode uint16, answer, ns, extra string, edns bool) {
		var rr RRExpect
		var ok [3]bool
		rr.NoneMatch, ok[0] = fuzzPatterns(none)
		rr.EveryMatch, ok[1] = fuzzPatterns(every)
		rr.SomeMatch, ok[2] = fuzzPatterns(some)
		rr.MinRecords = minRecords
		e, parsed := fuzzDNSExpect(rcodes, single, answers, minAnswers, rr, sections)
		if !parsed || ok != [3]bool{true, true, true} {
			return
		}
		spec := DNSSpec{Server: "192.0.2.53", Name: "example.test", Expect: e}
		p, err := NewDNS(spec)
		wantInvalid := e.MinAnswers < 0 || sections&7 != 0 && rr.MinRecords < 0 || e.Rcode.code != 0 && len(e.Rcodes) > 0
		if (err != nil) != wantInvalid {
			t.Fatalf("NewDNS(%+v): %v, want an error: %v", e, err, wantInvalid)
		}
		if err != nil {
			if _, again := NewDNS(spec); again == nil || again.Error() != err.Error() {
				t.Fatalf("NewDNS is not deterministic: %q, then %q", err, again)
			}
			return
		}

		msg := new(dns.Msg)
		msg.SetQuestion("example.test.", dns.TypeA)
		msg.Response, msg.Rcode = true, int(rcode&0xfff)
		msg.Answer, msg.Ns, msg.Extra = fuzzRRs(answer), fuzzRRs(ns), fuzzRRs(extra)
		if edns {
			msg.SetEdns0(1232, false)
		}
		wire, err := msg.Pack()
		if err != nil {
			return // not a message a server could send
		}
		resp := new(dns.Msg)
		if err := resp.Unpack(wire); err != nil {
			return // miekg/dns cannot read back what it wrote: not ours
		}
		text := resp.String()

		run := func() Result {
			r := Result{Kind: KindDNS, OK: true, DNS: &DNSDetail{Transport: "udp"}}
			p.check(&r, resp)
			return r
		}
		r := run()
		if resp.String() != text {
			t.Fatalf("check changed the message:\n%s\nto\n%s", text, resp.String())
		}
		if again := run(); again.OK != r.OK || errString(again.Err) != errString(r.Err) {
			t.Fatalf("check is not deterministic: %v, then %v", r.Err, again.Err)
		}
		checkDNSDetail(t, r.DNS, resp)
		want := wantDNSVerdict(e, resp)
		switch {
		case want == nil && !r.OK:
			t.Fatalf("answer fails with %v, want it to pass\n%s", r.Err, text)
		case want != nil && (r.OK || !errors.Is(r.Err, want)):
			t.Fatalf("answer: ok %v, err %v, want %v\n%s", r.OK, r.Err, want, text)
		case !r.OK && r.Err.Error() == "":
			t.Fatalf("failure without a message")
		}
	})
}

func checkDNSDetail(t *testing.T, d *DNSDetail, resp *dns.Msg) {
	t.Helper()
	extra := 0
	for _, rr := range resp.Extra {
		if rr.Header().Rrtype != dns.TypeOPT {
			extra++
		}
	}
	if d.Rcode != dns.RcodeToString[resp.Rcode] || d.Authority != len(resp.Ns) || d.Additional != extra || len(d.Answers) != len(resp.Answer) {
		t.Fatalf("detail %+v for\n%s", d, resp)
	}
	for i, rr := range resp.Answer {
		if d.Answers[i] != rr.String() {
			t.Fatalf("answers[%d] = %q, want %q", i, d.Answers[i], rr.String())
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
