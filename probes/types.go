package probes

import (
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
)

// Pattern is a regular expression compiled while decoding.
type Pattern struct {
	re *regexp.Regexp
}

// MustPattern compiles expr or panics; for tests and constants.
func MustPattern(expr string) Pattern { return Pattern{re: regexp.MustCompile(expr)} }

// UnmarshalText compiles the pattern (RE2 syntax).
func (p *Pattern) UnmarshalText(b []byte) error {
	re, err := regexp.Compile(string(b))
	if err != nil {
		return fmt.Errorf("invalid regular expression: %w", err)
	}
	p.re = re
	return nil
}

// MarshalText returns the source of the pattern.
func (p Pattern) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// String returns the source of the pattern.
func (p Pattern) String() string {
	if p.re == nil {
		return ""
	}
	return p.re.String()
}

// IsZero reports whether the pattern is unset.
func (p Pattern) IsZero() bool { return p.re == nil }

// Match reports whether b contains a match. An unset pattern matches.
func (p Pattern) Match(b []byte) bool { return p.re == nil || p.re.Match(b) }

// MatchString reports whether s contains a match. An unset pattern matches.
func (p Pattern) MatchString(s string) bool { return p.re == nil || p.re.MatchString(s) }

// StatusRange is an HTTP status code or an inclusive range: "200", "200-299", "2xx".
type StatusRange struct{ Lo, Hi int }

// UnmarshalText parses "200", "200-299" or "2xx".
func (s *StatusRange) UnmarshalText(b []byte) error {
	t := strings.TrimSpace(string(b))
	if len(t) == 3 && strings.HasSuffix(strings.ToLower(t), "xx") && t[0] >= '1' && t[0] <= '5' {
		d := int(t[0]-'0') * 100
		*s = StatusRange{d, d + 99}
		return nil
	}
	lo, hi, isRange := strings.Cut(t, "-")
	l, err := parseStatus(lo)
	if err != nil {
		return err
	}
	h := l
	if isRange {
		if h, err = parseStatus(hi); err != nil {
			return err
		}
		if h < l {
			return fmt.Errorf("%q is an empty range (%d > %d)", t, l, h)
		}
	}
	*s = StatusRange{l, h}
	return nil
}

func parseStatus(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not an HTTP status, a range like 200-299, or a class like 2xx", s)
	}
	if n < 100 || n > 599 {
		return 0, fmt.Errorf("%d is not an HTTP status (100-599)", n)
	}
	return n, nil
}

// String formats the range as it was written ("200" or "200-299").
func (s StatusRange) String() string {
	if s.Lo == s.Hi {
		return strconv.Itoa(s.Lo)
	}
	return fmt.Sprintf("%d-%d", s.Lo, s.Hi)
}

// MarshalText formats the range.
func (s StatusRange) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Contains reports whether code is in the range.
func (s StatusRange) Contains(code int) bool { return code >= s.Lo && code <= s.Hi }

// IPVersion selects the address family used to reach a target.
type IPVersion string

// IP versions. The zero value means IPAny.
const (
	IPAny IPVersion = "any"
	IPv4  IPVersion = "4"
	IPv6  IPVersion = "6"
)

// UnmarshalText accepts 4, 6, any, ip4, ip6.
func (v *IPVersion) UnmarshalText(b []byte) error {
	switch strings.ToLower(string(b)) {
	case "", "any":
		*v = IPAny
	case "4", "ip4", "ipv4":
		*v = IPv4
	case "6", "ip6", "ipv6":
		*v = IPv6
	default:
		return fmt.Errorf("%q is not an IP version (4, 6 or any)", b)
	}
	return nil
}

// network returns the Go network name for resolving ("ip", "ip4", "ip6").
func (v IPVersion) network() string {
	switch v {
	case IPv4:
		return "ip4"
	case IPv6:
		return "ip6"
	}
	return "ip"
}

// Secret is a string that never prints: in logs, JSON and %v it shows as
// <redacted>. Use Reveal to get the value.
type Secret string

const redacted = "<redacted>"

// Reveal returns the secret value.
func (s Secret) Reveal() string { return string(s) }

// String returns <redacted> (or "" when unset).
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString returns <redacted>, so %#v does not leak either.
func (s Secret) GoString() string { return s.String() }

// MarshalText returns <redacted>, so encoders do not leak it.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText stores the value.
func (s *Secret) UnmarshalText(b []byte) error { *s = Secret(b); return nil }

// LogValue keeps the secret out of slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }
