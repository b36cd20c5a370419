package probes

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/theory/jsonpath"
	"golang.org/x/net/http/httpguts"
)

// HTTPExpect holds the assertions of an HTTP check.
type HTTPExpect struct {
	// Status codes or ranges the final response must have (default 200-399).
	Status  []StatusRange      `yaml:"status"`
	Body    Pattern            `yaml:"body"`     // must match the body
	BodyNot Pattern            `yaml:"body_not"` // must not match the body
	JSON    []JSONAssertion    `yaml:"json"`
	Headers map[string]Pattern `yaml:"headers"` // header name → pattern one value must match
	// MaxDuration fails the check when the probe takes longer.
	MaxDuration time.Duration `yaml:"max_duration"`
	// DegradedAfter marks a passing check degraded when it takes longer.
	DegradedAfter time.Duration `yaml:"degraded_after"`
	// CertMinDays fails the check when the certificate chain expires in
	// fewer days (0: no check).
	CertMinDays int `yaml:"cert_min_days"`
	// BodyAll must all match the body; BodyNone must none match it.
	BodyAll  []Pattern `yaml:"body_all"`
	BodyNone []Pattern `yaml:"body_none"`
	// HeaderRules are header assertions that can allow a missing header.
	HeaderRules []HeaderRule `yaml:"header_rules"`
	// Versions lists the accepted protocols of the final response
	// ("HTTP/1.0", "HTTP/1.1", "HTTP/2.0"); empty accepts any.
	Versions []string `yaml:"versions"`
	// TLS, when set, requires the final response to have come over TLS
	// (true) or in plain text (false).
	TLS *bool `yaml:"tls"`
	// BodySizeLimit fails the check when the body (as decoded) is longer
	// than this many bytes; reading stops there, whatever max_body_bytes says.
	BodySizeLimit int64 `yaml:"body_size_limit"`
}

// HeaderRule is an assertion on the values of one response header: with
// Matches one of them must match, with NotMatches none may. A missing
// header fails either, unless AllowMissing.
type HeaderRule struct {
	Header       string  `yaml:"header"`
	Matches      Pattern `yaml:"matches"`
	NotMatches   Pattern `yaml:"not_matches"`
	AllowMissing bool    `yaml:"allow_missing"`
}

// httpVersions are the protocols a response can have, as Go names them.
var httpVersions = []string{"HTTP/1.0", "HTTP/1.1", "HTTP/2.0"}

// JSONAssertion selects values of a JSON body with an RFC 9535 JSONPath
// query; every selected value must equal Equals or match Matches, and the
// query must select at least one value.
type JSONAssertion struct {
	Path    JSONPath `yaml:"path"`
	Equals  *string  `yaml:"equals"`
	Matches Pattern  `yaml:"matches"`
}

// JSONPath is an RFC 9535 JSONPath query, compiled while decoding.
type JSONPath struct {
	path *jsonpath.Path
	src  string
}

// UnmarshalText compiles the query.
func (p *JSONPath) UnmarshalText(b []byte) error {
	q, err := jsonpath.Parse(string(b))
	if err != nil {
		return fmt.Errorf("invalid JSONPath: %w", err)
	}
	p.path, p.src = q, string(b)
	return nil
}

// String returns the query as written.
func (p JSONPath) String() string { return p.src }

// IsZero reports whether the query is unset.
func (p JSONPath) IsZero() bool { return p.path == nil }

var defaultStatus = []StatusRange{{200, 399}}

func (e HTTPExpect) validate() error {
	var errs []error
	for i, a := range e.JSON {
		switch {
		case a.Path.IsZero():
			errs = append(errs, fmt.Errorf("expect.json[%d].path: required", i))
		case a.Equals != nil && !a.Matches.IsZero():
			errs = append(errs, fmt.Errorf("expect.json[%d]: set either equals or matches, not both", i))
		}
	}
	if e.MaxDuration < 0 {
		errs = append(errs, errors.New("expect.max_duration: must not be negative"))
	}
	if e.DegradedAfter < 0 {
		errs = append(errs, errors.New("expect.degraded_after: must not be negative"))
	}
	if e.MaxDuration > 0 && e.DegradedAfter >= e.MaxDuration {
		errs = append(errs, fmt.Errorf("expect.degraded_after: %s must be less than max_duration %s", e.DegradedAfter, e.MaxDuration))
	}
	if e.CertMinDays < 0 {
		errs = append(errs, fmt.Errorf("expect.cert_min_days: must be 0 or more, got %d", e.CertMinDays))
	}
	if e.BodySizeLimit < 0 {
		errs = append(errs, fmt.Errorf("expect.body_size_limit: must be 0 or more, got %d", e.BodySizeLimit))
	}
	for i, v := range e.Versions {
		if !slices.Contains(httpVersions, v) {
			errs = append(errs, fmt.Errorf("expect.versions[%d]: %q is not an HTTP version (%s)", i, v, strings.Join(httpVersions, ", ")))
		}
	}
	for i, h := range e.HeaderRules {
		switch {
		case !httpguts.ValidHeaderFieldName(h.Header):
			errs = append(errs, fmt.Errorf("expect.header_rules[%d].header: %q is not a valid header name", i, h.Header))
		case h.Matches.IsZero() == h.NotMatches.IsZero():
			errs = append(errs, fmt.Errorf("expect.header_rules[%d]: set exactly one of matches and not_matches", i))
		}
	}
	return errors.Join(errs...)
}

func (e HTTPExpect) needsBody() bool {
	return !e.Body.IsZero() || !e.BodyNot.IsZero() || len(e.JSON) > 0 || len(e.BodyAll) > 0 || len(e.BodyNone) > 0
}

// check applies the response assertions, stopping at the first failure.
func (e HTTPExpect) check(r *Result, resp *http.Response, body []byte) {
	for _, fn := range []func() error{
		func() error { return e.checkStatus(resp.StatusCode) },
		func() error { return e.checkHeaders(resp.Header) },
		func() error { return e.checkHeaderRules(resp.Header) },
		func() error { return e.checkBodySize(r.HTTP) },
		func() error { return e.checkBody(body) },
		func() error { return e.checkJSON(body, r.HTTP.BodyTruncated) },
		func() error { return e.checkVersion(resp.Proto) },
		func() error { return e.checkTLS(resp.TLS != nil) },
	} {
		if err := fn(); err != nil {
			r.fail(err)
			return
		}
	}
}

func (e HTTPExpect) checkStatus(code int) error {
	want := e.Status
	if len(want) == 0 {
		want = defaultStatus
	}
	for _, s := range want {
		if s.Contains(code) {
			return nil
		}
	}
	names := make([]string, len(want))
	for i, s := range want {
		names[i] = s.String()
	}
	return fmt.Errorf("%w: got %d, want %s", ErrUnexpectedStatus, code, strings.Join(names, ", "))
}

func (e HTTPExpect) checkHeaders(h http.Header) error {
	for name, pat := range e.Headers {
		values := h.Values(name)
		if len(values) == 0 {
			return fmt.Errorf("%w: header %s missing", ErrHeaderMismatch, http.CanonicalHeaderKey(name))
		}
		matched := false
		for _, v := range values {
			matched = matched || pat.MatchString(v)
		}
		if !matched {
			return fmt.Errorf("%w: header %s %q does not match %q", ErrHeaderMismatch, http.CanonicalHeaderKey(name), values[0], pat)
		}
	}
	return nil
}

func (e HTTPExpect) checkBody(body []byte) error {
	if !e.Body.IsZero() && !e.Body.Match(body) {
		return fmt.Errorf("%w: body does not match %q", ErrBodyMismatch, e.Body)
	}
	if !e.BodyNot.IsZero() && e.BodyNot.Match(body) {
		return fmt.Errorf("%w: body matches body_not %q", ErrBodyMismatch, e.BodyNot)
	}
	for _, p := range e.BodyAll {
		if !p.Match(body) {
			return fmt.Errorf("%w: body does not match body_all %q", ErrBodyMismatch, p)
		}
	}
	for _, p := range e.BodyNone {
		if p.Match(body) {
			return fmt.Errorf("%w: body matches body_none %q", ErrBodyMismatch, p)
		}
	}
	return nil
}

func (e HTTPExpect) checkHeaderRules(h http.Header) error {
	for _, rule := range e.HeaderRules {
		name := http.CanonicalHeaderKey(rule.Header)
		values := h.Values(name)
		if len(values) == 0 {
			if rule.AllowMissing {
				continue
			}
			return fmt.Errorf("%w: header %s missing", ErrHeaderMismatch, name)
		}
		matched := slices.ContainsFunc(values, func(v string) bool {
			return (!rule.Matches.IsZero() && rule.Matches.MatchString(v)) || (!rule.NotMatches.IsZero() && rule.NotMatches.MatchString(v))
		})
		switch {
		case !rule.Matches.IsZero() && !matched:
			return fmt.Errorf("%w: header %s %q does not match %q", ErrHeaderMismatch, name, values[0], rule.Matches)
		case !rule.NotMatches.IsZero() && matched:
			return fmt.Errorf("%w: header %s matches not_matches %q", ErrHeaderMismatch, name, rule.NotMatches)
		}
	}
	return nil
}

func (e HTTPExpect) checkBodySize(d *HTTPDetail) error {
	if e.BodySizeLimit > 0 && d.BodyTruncated {
		return fmt.Errorf("%w: body longer than body_size_limit (%d bytes)", ErrBodyMismatch, e.BodySizeLimit)
	}
	return nil
}

func (e HTTPExpect) checkVersion(proto string) error {
	if len(e.Versions) > 0 && !slices.Contains(e.Versions, proto) {
		return fmt.Errorf("%w: response is %s, want %s", ErrProtocol, proto, strings.Join(e.Versions, ", "))
	}
	return nil
}

func (e HTTPExpect) checkTLS(overTLS bool) error {
	switch {
	case e.TLS == nil || *e.TLS == overTLS:
		return nil
	case overTLS:
		return fmt.Errorf("%w: the final response came over TLS (expect.tls: false)", ErrProtocol)
	}
	return fmt.Errorf("%w: the final response did not come over TLS (expect.tls: true)", ErrProtocol)
}

func (e HTTPExpect) checkJSON(body []byte, truncated bool) error {
	if len(e.JSON) == 0 {
		return nil
	}
	if truncated {
		return fmt.Errorf("%w: body exceeds max_body_bytes (%d); JSON assertions need the whole body", ErrJSONMismatch, len(body))
	}
	var doc any
	if err := json.Unmarshal(body, &doc); err != nil {
		return fmt.Errorf("%w: body is not JSON: %w", ErrJSONMismatch, err)
	}
	for _, a := range e.JSON {
		if err := a.check(doc); err != nil {
			return err
		}
	}
	return nil
}

func (a JSONAssertion) check(doc any) error {
	nodes := a.Path.path.Select(doc)
	if len(nodes) == 0 {
		return fmt.Errorf("%w: %s selects nothing", ErrJSONMismatch, a.Path)
	}
	for _, n := range nodes {
		s := jsonText(n)
		switch {
		case a.Equals != nil && s != *a.Equals:
			return fmt.Errorf("%w: %s is %q, want %q", ErrJSONMismatch, a.Path, truncate(s, 100), *a.Equals)
		case !a.Matches.MatchString(s):
			return fmt.Errorf("%w: %s is %q, does not match %q", ErrJSONMismatch, a.Path, truncate(s, 100), a.Matches)
		}
	}
	return nil
}

// jsonText is a string value itself, or the JSON text of any other value.
func jsonText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// truncate cuts s to at most n bytes on a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// checkDuration applies max_duration and degraded_after.
func (e HTTPExpect) checkDuration(r *Result) {
	switch {
	case e.MaxDuration > 0 && r.Duration > e.MaxDuration:
		r.fail(fmt.Errorf("%w: took %s, max_duration %s", ErrTooSlow, r.Duration.Round(time.Microsecond), e.MaxDuration))
	case e.DegradedAfter > 0 && r.Duration > e.DegradedAfter:
		r.degrade(fmt.Errorf("%w: took %s, degraded_after %s", ErrTooSlow, r.Duration.Round(time.Microsecond), e.DegradedAfter))
	}
}

// newTraceparent returns a fresh W3C trace id and the traceparent header
// value carrying it, sampled. The parent span id in the header is
// ProbeSpanID(traceID), so an exporter can later emit the probe's span
// with the id the backend saw as its parent without storing it.
func newTraceparent() (traceID, header string) {
	var b [16]byte
	for {
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
		if !allZero(b[:8]) && !allZero(b[8:]) {
			break
		}
	}
	var out [55]byte
	copy(out[:], "00-")
	hex.Encode(out[3:35], b[:])
	out[35] = '-'
	hex.Encode(out[36:52], b[8:])
	copy(out[52:], "-01")
	h := string(out[:])
	return h[3:35], h
}

// ProbeSpanID is the span id a probe with the given W3C trace id (32 hex
// digits) sent as the parent in its traceparent and B3 headers: the second
// half of the trace id. It returns "" for an id of the wrong length.
func ProbeSpanID(traceID string) string {
	if len(traceID) != 32 {
		return ""
	}
	return traceID[16:]
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// MarshalText returns the query as written.
func (p JSONPath) MarshalText() ([]byte, error) { return []byte(p.src), nil }
