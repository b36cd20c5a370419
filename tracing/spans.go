package tracing

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/vantageprobe/vantage/probes"
	"github.com/vantageprobe/vantage/results"
)

// Attribute keys of the probe span. Target attributes follow the OpenTelemetry
// semantic conventions; the others are Vantage's own.
const (
	keyCheck      = attribute.Key("vantage.check")
	keyRegion     = attribute.Key("vantage.region")
	keyKind       = attribute.Key("vantage.probe.kind")
	keyResultID   = attribute.Key("vantage.result.id")
	keyOK         = attribute.Key("vantage.result.ok")
	keyDegraded   = attribute.Key("vantage.result.degraded")
	keyWarning    = attribute.Key("vantage.result.warning")
	keyPhase      = attribute.Key("vantage.phase")
	keyErrorType  = attribute.Key("error.type")
	keyStatusCode = attribute.Key("http.response.status_code")
	keyURLFull    = attribute.Key("url.full")
	keyAddress    = attribute.Key("server.address")
	keyPort       = attribute.Key("server.port")
	keyDNSName    = attribute.Key("dns.question.name")
)

// hiddenDetails replaces error and warning texts of a check whose target is
// hidden: they name addresses and URLs (the same words the API uses).
const hiddenDetails = "details hidden (hide_target)"

// spanPlan is the span tree of one record, computed before any span exists.
type spanPlan struct {
	name       string
	ids        fixedIDs // zero: random
	start, end time.Time
	attrs      []attribute.KeyValue
	status     codes.Code
	statusDesc string
	phases     []phaseSpan
}

// phaseSpan is one child span: a phase of the probe.
type phaseSpan struct {
	name       string
	start, end time.Time
}

// plan lays out the spans of rec: the probe span from Started for Duration,
// and one child per phase that took time, placed one after the other from
// Started (the record keeps how long each phase took, not when it began).
func plan(rec results.Record) spanPlan {
	p := spanPlan{
		name:  strings.TrimSpace("probe " + string(rec.Kind)),
		ids:   idsOf(rec.TraceID),
		start: rec.Started,
		end:   rec.Started.Add(max(rec.Duration, 0)),
		attrs: attributes(rec),
	}
	if !rec.OK {
		p.status, p.statusDesc = codes.Error, failureText(rec)
	}
	at := p.start
	rec.Phases.Each(func(name string, d time.Duration) {
		if d <= 0 {
			return // the phase did not apply (no TLS over http://, no body yet)
		}
		p.phases = append(p.phases, phaseSpan{name: name, start: earlier(at, p.end), end: earlier(at.Add(d), p.end)})
		at = at.Add(d)
	})
	return p
}

// earlier returns the earlier of a and b: a phase span ends with its parent.
func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// attributes are the probe span's attributes. An empty Target means the
// operator hid it: then nothing that names the target is exported.
func attributes(rec results.Record) []attribute.KeyValue {
	attrs := []attribute.KeyValue{
		keyCheck.String(rec.Check),
		keyRegion.String(rec.Region),
		keyKind.String(string(rec.Kind)),
		keyOK.Bool(rec.OK),
		keyDegraded.Bool(rec.Degraded),
	}
	if rec.ID != "" {
		attrs = append(attrs, keyResultID.String(rec.ID))
	}
	if rec.ErrorClass != "" {
		attrs = append(attrs, keyErrorType.String(rec.ErrorClass))
	}
	if rec.StatusCode != 0 {
		attrs = append(attrs, keyStatusCode.Int(rec.StatusCode))
	}
	if rec.Target == "" {
		return attrs
	}
	if rec.Warning != "" {
		attrs = append(attrs, keyWarning.String(scrub(rec.Warning, rec.Target)))
	}
	return append(attrs, targetAttributes(rec.Kind, rec.Target)...)
}

// targetAttributes describe where the probe went: url.full (without
// credentials, query or fragment) for URLs, server.address and server.port.
func targetAttributes(kind probes.Kind, target string) []attribute.KeyValue {
	if kind == probes.KindDNS {
		name, server, _ := strings.Cut(target, " @")
		attrs := []attribute.KeyValue{keyDNSName.String(name)}
		return append(attrs, hostPort(server, "")...)
	}
	if u, err := url.Parse(target); err == nil && u.Scheme != "" && u.Host != "" {
		attrs := []attribute.KeyValue{keyURLFull.String(cleanURL(u))}
		return append(attrs, hostPort(u.Host, u.Scheme)...)
	}
	return hostPort(target, "")
}

// hostPort returns server.address and server.port of "host:port" or "host";
// the port comes from the scheme when the address has none.
func hostPort(hostport, scheme string) []attribute.KeyValue {
	if hostport == "" {
		return nil
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = strings.Trim(hostport, "[]"), ""
	}
	switch {
	case port != "":
	case scheme == "http":
		port = "80"
	case scheme == "https":
		port = "443"
	}
	attrs := []attribute.KeyValue{keyAddress.String(host)}
	if n, err := strconv.Atoi(port); err == nil && n > 0 {
		attrs = append(attrs, keyPort.Int(n))
	}
	return attrs
}

// cleanURL is u without user info, query and fragment: they carry
// credentials and tokens.
func cleanURL(u *url.URL) string {
	c := *u
	c.User, c.RawQuery, c.ForceQuery, c.Fragment, c.RawFragment = nil, "", false, "", ""
	return c.String()
}

// urlPattern finds URLs inside free text such as error messages.
var urlPattern = regexp.MustCompile(`(?i)\b[a-z][a-z0-9+.-]*://[^\s"'<>]+`)

// scrub removes credentials, query strings and fragments from every URL in
// text (an error message names the URL it failed on, query and all), and
// replaces the raw target, should it appear in another form.
func scrub(text, target string) string {
	if target != "" {
		if u, err := url.Parse(target); err == nil && u.Scheme != "" && u.Host != "" {
			text = strings.ReplaceAll(text, target, cleanURL(u))
		}
	}
	return urlPattern.ReplaceAllStringFunc(text, redactURL)
}

// redactURL is raw without credentials, query and fragment; a string that
// does not parse is cut at the first character that starts them.
func redactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return cleanURL(u)
	}
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		raw = raw[:i]
	}
	if scheme, rest, ok := strings.Cut(raw, "://"); ok {
		if i := strings.LastIndex(rest, "@"); i >= 0 {
			raw = scheme + "://" + rest[i+1:]
		}
	}
	return raw
}

// failureText is the status description of a failed probe.
func failureText(rec results.Record) string {
	switch {
	case rec.Target == "":
		return hiddenDetails
	case rec.Error != "":
		return scrub(rec.Error, rec.Target)
	case rec.ErrorClass != "":
		return rec.ErrorClass
	}
	return "probe failed"
}

// fixedIDs are the ids the probe span must have: the trace id the probe
// sent and the span id it named as the parent.
type fixedIDs struct {
	trace trace.TraceID
	span  trace.SpanID
}

// idsOf returns the ids of a record's probe span, or the zero fixedIDs
// (random ids) when the record has no valid trace id.
func idsOf(traceID string) fixedIDs {
	tid, err := trace.TraceIDFromHex(strings.ToLower(traceID))
	if err != nil {
		return fixedIDs{}
	}
	sid, err := trace.SpanIDFromHex(strings.ToLower(probes.ProbeSpanID(traceID)))
	if err != nil {
		return fixedIDs{trace: tid} // a random span id in the right trace
	}
	return fixedIDs{trace: tid, span: sid}
}

type idsKey struct{}

// withIDs makes the next root span started with ctx take ids.
func withIDs(ctx context.Context, ids fixedIDs) context.Context {
	return context.WithValue(ctx, idsKey{}, ids)
}

// idGenerator gives a root span the ids withIDs put in its context, and
// random ids otherwise. It implements sdktrace.IDGenerator.
type idGenerator struct{}

func (idGenerator) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	ids, _ := ctx.Value(idsKey{}).(fixedIDs)
	if !ids.trace.IsValid() {
		ids.trace = randomTraceID()
	}
	if !ids.span.IsValid() {
		ids.span = randomSpanID()
	}
	return ids.trace, ids.span
}

func (idGenerator) NewSpanID(context.Context, trace.TraceID) trace.SpanID { return randomSpanID() }

func randomTraceID() trace.TraceID {
	var t trace.TraceID
	for !t.IsValid() {
		binary.BigEndian.PutUint64(t[:8], rand.Uint64())
		binary.BigEndian.PutUint64(t[8:], rand.Uint64())
	}
	return t
}

func randomSpanID() trace.SpanID {
	var s trace.SpanID
	for !s.IsValid() {
		binary.BigEndian.PutUint64(s[:], rand.Uint64())
	}
	return s
}
