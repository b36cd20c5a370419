package probes

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// DNSExpect holds the assertions of a DNS check.
type DNSExpect struct {
	Rcode DNSRcode `yaml:"rcode"` // default NOERROR
	// Rcodes accepts any of several response codes, instead of rcode.
	Rcodes     []DNSRcode `yaml:"rcodes"`
	Answers    []Pattern  `yaml:"answers"`     // each must match some answer record (zone-file text)
	MinAnswers int        `yaml:"min_answers"` // fewest answer records
	// AnswerRRs, AuthorityRRs and AdditionalRRs check every record of a
	// section (the additional one without the OPT record) in zone-file text.
	AnswerRRs     RRExpect `yaml:"answer_rrs"`
	AuthorityRRs  RRExpect `yaml:"authority_rrs"`
	AdditionalRRs RRExpect `yaml:"additional_rrs"`
}

// RRExpect are assertions on the records of one section of an answer.
type RRExpect struct {
	// NoneMatch: no record may match any of the patterns.
	NoneMatch []Pattern `yaml:"none_match"`
	// EveryMatch: every record must match every pattern (an empty section passes).
	EveryMatch []Pattern `yaml:"every_match"`
	// SomeMatch: some record must match one of the patterns (an empty section fails).
	SomeMatch []Pattern `yaml:"some_match"`
	// MinRecords is the fewest records the section must hold.
	MinRecords int `yaml:"min_records"`
}

func (e DNSExpect) validate() []error {
	var errs []error
	if e.MinAnswers < 0 {
		errs = append(errs, fmt.Errorf("expect.min_answers: must be 0 or more, got %d", e.MinAnswers))
	}
	if len(e.Rcodes) > 0 && e.Rcode.code != 0 {
		errs = append(errs, errors.New("expect.rcodes: set either rcode or rcodes, not both"))
	}
	for _, sec := range []struct { // in order: a map would shuffle the problems
		name string
		v    RRExpect
	}{{"answer_rrs", e.AnswerRRs}, {"authority_rrs", e.AuthorityRRs}, {"additional_rrs", e.AdditionalRRs}} {
		if sec.v.MinRecords < 0 {
			errs = append(errs, fmt.Errorf("expect.%s.min_records: must be 0 or more, got %d", sec.name, sec.v.MinRecords))
		}
	}
	return errs
}

// rcodes returns the accepted response codes.
func (e DNSExpect) rcodes() []DNSRcode {
	if len(e.Rcodes) > 0 {
		return e.Rcodes
	}
	return []DNSRcode{e.Rcode}
}

// check records the answer and applies the assertions.
func (p *DNSProber) check(r *Result, resp *dns.Msg) {
	d := r.DNS
	d.Rcode = dns.RcodeToString[resp.Rcode]
	d.Answers = make([]string, len(resp.Answer))
	for i, rr := range resp.Answer {
		d.Answers[i] = rr.String()
	}
	d.Authority = len(resp.Ns)
	extra := slices.DeleteFunc(slices.Clone(resp.Extra), func(rr dns.RR) bool { return rr.Header().Rrtype == dns.TypeOPT })
	d.Additional = len(extra)
	if err := p.spec.Expect.check(resp, extra, d); err != nil {
		r.fail(err)
	}
}

func (e DNSExpect) check(resp *dns.Msg, extra []dns.RR, d *DNSDetail) error {
	want := e.rcodes()
	if !slices.ContainsFunc(want, func(c DNSRcode) bool { return c.Code() == resp.Rcode }) {
		names := make([]string, len(want))
		for i, c := range want {
			names[i] = c.String()
		}
		return fmt.Errorf("%w: got %s, want %s", ErrDNSRcode, d.Rcode, strings.Join(names, " or "))
	}
	if len(d.Answers) < e.MinAnswers {
		return fmt.Errorf("%w: %d answers, want at least %d", ErrDNSAnswer, len(d.Answers), e.MinAnswers)
	}
	for _, pat := range e.Answers {
		if !anyMatch(pat, d.Answers) {
			return fmt.Errorf("%w: no answer matches %q", ErrDNSAnswer, pat)
		}
	}
	for _, sec := range []struct {
		name string
		rrs  []dns.RR
		want RRExpect
	}{{"answer", resp.Answer, e.AnswerRRs}, {"authority", resp.Ns, e.AuthorityRRs}, {"additional", extra, e.AdditionalRRs}} {
		if err := sec.want.check(sec.name, sec.rrs); err != nil {
			return err
		}
	}
	return nil
}

// check applies the assertions to the records of the named section.
func (v RRExpect) check(section string, rrs []dns.RR) error {
	if len(rrs) < v.MinRecords {
		return fmt.Errorf("%w: %d %s records, want at least %d", ErrDNSAnswer, len(rrs), section, v.MinRecords)
	}
	if len(v.SomeMatch) > 0 && len(rrs) == 0 {
		return fmt.Errorf("%w: no %s records, want one matching %s", ErrDNSAnswer, section, quoteAll(v.SomeMatch))
	}
	some := false
	for _, rr := range rrs {
		text := rr.String()
		for _, p := range v.NoneMatch {
			if p.MatchString(text) {
				return fmt.Errorf("%w: %s record %q matches %q", ErrDNSAnswer, section, text, p)
			}
		}
		for _, p := range v.EveryMatch {
			if !p.MatchString(text) {
				return fmt.Errorf("%w: %s record %q does not match %q", ErrDNSAnswer, section, text, p)
			}
		}
		some = some || slices.ContainsFunc(v.SomeMatch, func(p Pattern) bool { return p.MatchString(text) })
	}
	if len(v.SomeMatch) > 0 && !some {
		return fmt.Errorf("%w: no %s record matches %s", ErrDNSAnswer, section, quoteAll(v.SomeMatch))
	}
	return nil
}

func quoteAll(ps []Pattern) string {
	q := make([]string, len(ps))
	for i, p := range ps {
		q[i] = fmt.Sprintf("%q", p)
	}
	return strings.Join(q, " or ")
}

func anyMatch(p Pattern, ss []string) bool {
	for _, s := range ss {
		if p.MatchString(s) {
			return true
		}
	}
	return false
}

// DNSClass is a query class: IN (the default), CH, HS, NONE or ANY.
type DNSClass uint16

// UnmarshalText parses a class mnemonic (case-insensitive).
func (c *DNSClass) UnmarshalText(b []byte) error {
	v, ok := dns.StringToClass[strings.ToUpper(string(b))]
	if !ok || v == 0 {
		return fmt.Errorf("%q is not a DNS class (IN, CH, HS, NONE, ANY)", b)
	}
	*c = DNSClass(v)
	return nil
}

// Code returns the numeric class, IN when unset.
func (c DNSClass) Code() uint16 { return uint16(cmp.Or(c, DNSClass(dns.ClassINET))) }

// String returns the mnemonic.
func (c DNSClass) String() string { return dns.ClassToString[c.Code()] }

// MarshalText returns the mnemonic.
func (c DNSClass) MarshalText() ([]byte, error) { return []byte(c.String()), nil }
