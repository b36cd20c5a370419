package tracing

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// The OTLP/HTTP exporter is written here rather than taken from
// go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp: that
// module's request type comes from a package that also holds the gRPC
// service, and so links gRPC and grpc-gateway into the binary. That was
// 3.1 MB of the static binary and 1.3-1.6 MiB of every server's resident
// memory (idle, tracing off), for a POST of one protobuf message. The message is built from the OTLP
// protobuf types (go.opentelemetry.io/proto/otlp/trace/v1): TracesData is
// ExportTraceServiceRequest on the wire (both are field 1, repeated
// ResourceSpans), as the OTLP specification intends.

// Retries of one batch. OTLP/HTTP: 429, 502, 503 and 504 are transient,
// and so is a request that got no answer (a timeout, a refused or dropped
// connection; not a certificate the client refuses). Retry-After is
// honoured.
const (
	otlpRetryFor    = 30 * time.Second // a batch gives up after this long
	otlpFirstWait   = time.Second      // then doubling, with jitter
	otlpMaxWait     = 10 * time.Second
	otlpMaxResponse = 64 << 10 // bytes of a response read
)

var errExporterStopped = errors.New("exporter is shut down")

// otlpExporter posts spans to an OTLP/HTTP collector as protobuf.
type otlpExporter struct {
	url       string
	client    *http.Client
	headers   map[string]string // revealed
	gzip      bool
	retryFor  time.Duration
	firstWait time.Duration
	gzips     sync.Pool // *gzip.Writer: a compressor is 800 KB, and there is a batch every few seconds

	stopped context.Context // done once Shutdown is called: ends exports in flight
	stop    context.CancelFunc
}

func newOTLPExporter(url string, client *http.Client, headers map[string]string, gzip bool) *otlpExporter {
	e := &otlpExporter{url: url, client: client, headers: headers, gzip: gzip, retryFor: otlpRetryFor, firstWait: otlpFirstWait}
	e.stopped, e.stop = context.WithCancel(context.Background())
	return e
}

// partialError is a collector's answer that it took some spans only
// (rejected > 0), or took all of them with a warning (rejected 0).
type partialError struct {
	rejected int64
	message  string
}

func (e *partialError) Error() string {
	if e.rejected == 0 {
		return "collector took every span, with a warning: " + e.message
	}
	if e.message == "" {
		return fmt.Sprintf("collector rejected %d spans", e.rejected)
	}
	return fmt.Sprintf("collector rejected %d spans: %s", e.rejected, e.message)
}

// ExportSpans posts spans as one request, retrying transient failures
// for up to retryFor, and until ctx ends or the exporter is shut down.
func (e *otlpExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if e.stopped.Err() != nil {
		return errExporterStopped
	}
	if len(spans) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(e.stopped, cancel)()
	body, err := proto.Marshal(&tracepb.TracesData{ResourceSpans: resourceSpans(spans)})
	if err != nil {
		return fmt.Errorf("encode spans: %w", err)
	}
	if e.gzip {
		var b bytes.Buffer
		zw, _ := e.gzips.Get().(*gzip.Writer)
		if zw == nil {
			zw = gzip.NewWriter(&b)
		} else {
			zw.Reset(&b)
		}
		_, _ = zw.Write(body) // writes to a bytes.Buffer do not fail
		_ = zw.Close()
		zw.Reset(io.Discard)
		e.gzips.Put(zw)
		body = b.Bytes()
	}
	giveUp := time.Now().Add(e.retryFor)
	wait := e.firstWait
	for attempt := 1; ; attempt++ {
		after, err := e.post(ctx, body)
		if err == nil || after < 0 {
			return err
		}
		if after == 0 {
			after = wait/2 + rand.N(wait) // jitter: 0.5-1.5 times the back-off
			wait = min(2*wait, otlpMaxWait)
		}
		if time.Now().Add(after).After(giveUp) {
			return fmt.Errorf("%w (gave up after %d attempts)", err, attempt)
		}
		t := time.NewTimer(after)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (after %d attempts)", err, attempt)
		}
	}
}

// post sends body once. after says what to do on failure: < 0 do not
// retry, 0 retry after the back-off, > 0 retry after that long.
func (e *otlpExporter) post(ctx context.Context, body []byte) (after time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, bytes.NewReader(body))
	if err != nil {
		return -1, fmt.Errorf("build request: %w", err)
	}
	for k, v := range e.headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("User-Agent", "Vantage/1 (OTLP exporter)")
	if e.gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := e.client.Do(req)
	if err != nil {
		if ctx.Err() != nil || refusedCertificate(err) {
			return -1, err
		}
		return 0, err // no answer: the spec's "SHOULD retry"
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, otlpMaxResponse))
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		ct := resp.Header.Get("Content-Type")
		if ct != "" && !strings.HasPrefix(ct, "application/x-protobuf") {
			return 0, nil // not an ExportTraceServiceResponse: nothing to read
		}
		if rejected, msg := partialSuccess(answer); rejected > 0 || msg != "" {
			return -1, &partialError{rejected: rejected, message: msg}
		}
		return 0, nil
	case code == http.StatusTooManyRequests || code == http.StatusBadGateway ||
		code == http.StatusServiceUnavailable || code == http.StatusGatewayTimeout:
		return retryAfter(resp.Header.Get("Retry-After")), fmt.Errorf("collector answered %s", resp.Status)
	default:
		if msg := statusMessage(resp.Header.Get("Content-Type"), answer); msg != "" {
			return -1, fmt.Errorf("collector answered %s: %s", resp.Status, msg)
		}
		return -1, fmt.Errorf("collector answered %s", resp.Status)
	}
}

// refusedCertificate reports whether the client refused the collector's
// certificate: retrying cannot help.
func refusedCertificate(err error) bool {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		verify   *tls.CertificateVerificationError
	)
	return errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &invalid) || errors.As(err, &verify)
}

// retryAfter reads a Retry-After header: seconds or an HTTP date, at
// most an hour (longer than any batch waits); 0 when absent or
// unreadable (the back-off applies).
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil && s >= 0 {
		return max(time.Duration(min(s, 3600))*time.Second, time.Millisecond)
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(time.Until(t), time.Millisecond), time.Hour)
	}
	return 0
}

// partialSuccess reads ExportTraceServiceResponse.partial_success
// (field 1: rejected_spans = 1, error_message = 2); zero and "" when the
// collector took every span or the answer is not that message.
func partialSuccess(b []byte) (rejected int64, msg string) {
	ps := protoField(b, 1, protowire.BytesType)
	if ps == nil {
		return 0, ""
	}
	if v := protoField(ps, 1, protowire.VarintType); v != nil {
		n, _ := protowire.ConsumeVarint(v)
		rejected = int64(n)
	}
	return rejected, string(protoField(ps, 2, protowire.BytesType))
}

// statusMessage is the message of a google.rpc.Status answer (field 2),
// or the start of a plain-text one; "" otherwise.
func statusMessage(contentType string, b []byte) string {
	switch {
	case strings.HasPrefix(contentType, "application/x-protobuf"):
		return string(protoField(b, 2, protowire.BytesType))
	case strings.HasPrefix(contentType, "text/plain"):
		s := strings.TrimSpace(string(b))
		if len(s) > 200 {
			s = s[:200] + "…"
		}
		return strings.ToValidUTF8(s, "")
	}
	return ""
}

// protoField returns the last field num of type typ in the message b: the
// bytes of a length-delimited field, the varint's bytes otherwise; nil when
// absent or b does not parse.
func protoField(b []byte, num protowire.Number, typ protowire.Type) []byte {
	var out []byte
	for len(b) > 0 {
		n, t, k := protowire.ConsumeTag(b)
		if k < 0 {
			return nil
		}
		b = b[k:]
		m := protowire.ConsumeFieldValue(n, t, b)
		if m < 0 {
			return nil
		}
		if n == num && t == typ {
			if t == protowire.BytesType {
				out, _ = protowire.ConsumeBytes(b[:m])
				if out == nil {
					out = []byte{}
				}
			} else {
				out = b[:m]
			}
		}
		b = b[m:]
	}
	return out
}

// Shutdown ends exports in flight; later ones fail.
func (e *otlpExporter) Shutdown(ctx context.Context) error {
	e.stop()
	e.client.CloseIdleConnections()
	return ctx.Err()
}

// resourceSpans groups spans by resource and instrumentation scope, in
// the order they come.
func resourceSpans(spans []sdktrace.ReadOnlySpan) []*tracepb.ResourceSpans {
	var out []*tracepb.ResourceSpans
	var resources []*resource.Resource
	var scopes [][]instrumentation.Scope // per resource, as its ScopeSpans
	for _, s := range spans {
		i := 0
		for i < len(resources) && !sameResource(resources[i], s.Resource()) {
			i++
		}
		if i == len(resources) {
			resources = append(resources, s.Resource())
			rs := &tracepb.ResourceSpans{Resource: &resourcepb.Resource{}}
			if r := s.Resource(); r != nil {
				rs.Resource.Attributes = keyValues(r.Attributes())
				rs.SchemaUrl = r.SchemaURL()
			}
			out = append(out, rs)
			scopes = append(scopes, nil)
		}
		rs, scope := out[i], s.InstrumentationScope()
		j := 0
		for j < len(scopes[i]) && scopes[i][j] != scope {
			j++
		}
		if j == len(scopes[i]) {
			scopes[i] = append(scopes[i], scope)
			rs.ScopeSpans = append(rs.ScopeSpans, &tracepb.ScopeSpans{Scope: &commonpb.InstrumentationScope{
				Name: scope.Name, Version: scope.Version, Attributes: keyValues(scope.Attributes.ToSlice()),
			}, SchemaUrl: scope.SchemaURL})
		}
		ss := rs.ScopeSpans[j]
		ss.Spans = append(ss.Spans, spanProto(s))
	}
	return out
}

func sameResource(a, b *resource.Resource) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a == b || (a.Equivalent() == b.Equivalent() && a.SchemaURL() == b.SchemaURL())
}

// spanProto is s in OTLP.
func spanProto(s sdktrace.ReadOnlySpan) *tracepb.Span {
	sc, parent := s.SpanContext(), s.Parent()
	tid, sid := sc.TraceID(), sc.SpanID()
	p := &tracepb.Span{
		TraceId: tid[:], SpanId: sid[:], TraceState: sc.TraceState().String(),
		Flags: spanFlags(sc.TraceFlags(), parent),
		Name:  s.Name(), Kind: spanKind(s.SpanKind()),
		StartTimeUnixNano: unixNano(s.StartTime()), EndTimeUnixNano: unixNano(s.EndTime()),
		Attributes:             keyValues(s.Attributes()),
		DroppedAttributesCount: count32(s.DroppedAttributes()),
		DroppedEventsCount:     count32(s.DroppedEvents()),
		DroppedLinksCount:      count32(s.DroppedLinks()),
		Status:                 statusProto(s.Status()),
	}
	if parent.SpanID().IsValid() {
		psid := parent.SpanID()
		p.ParentSpanId = psid[:]
	}
	for _, ev := range s.Events() {
		p.Events = append(p.Events, &tracepb.Span_Event{
			TimeUnixNano: unixNano(ev.Time), Name: ev.Name,
			Attributes: keyValues(ev.Attributes), DroppedAttributesCount: count32(ev.DroppedAttributeCount),
		})
	}
	for _, l := range s.Links() {
		ltid, lsid := l.SpanContext.TraceID(), l.SpanContext.SpanID()
		p.Links = append(p.Links, &tracepb.Span_Link{
			TraceId: ltid[:], SpanId: lsid[:], TraceState: l.SpanContext.TraceState().String(),
			Attributes: keyValues(l.Attributes), DroppedAttributesCount: count32(l.DroppedAttributeCount),
			Flags: spanFlags(l.SpanContext.TraceFlags(), l.SpanContext),
		})
	}
	return p
}

// spanFlags are the W3C trace flags and whether the parent (or the linked
// span) is remote.
func spanFlags(f trace.TraceFlags, other trace.SpanContext) uint32 {
	flags := uint32(f) | uint32(tracepb.SpanFlags_SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK)
	if other.IsRemote() {
		flags |= uint32(tracepb.SpanFlags_SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK)
	}
	return flags
}

func spanKind(k trace.SpanKind) tracepb.Span_SpanKind {
	switch k {
	case trace.SpanKindInternal:
		return tracepb.Span_SPAN_KIND_INTERNAL
	case trace.SpanKindServer:
		return tracepb.Span_SPAN_KIND_SERVER
	case trace.SpanKindClient:
		return tracepb.Span_SPAN_KIND_CLIENT
	case trace.SpanKindProducer:
		return tracepb.Span_SPAN_KIND_PRODUCER
	case trace.SpanKindConsumer:
		return tracepb.Span_SPAN_KIND_CONSUMER
	}
	return tracepb.Span_SPAN_KIND_UNSPECIFIED
}

// statusProto maps the status; OTLP numbers OK and Error the other way
// round from the Go API.
func statusProto(s sdktrace.Status) *tracepb.Status {
	switch s.Code {
	case codes.Error:
		return &tracepb.Status{Code: tracepb.Status_STATUS_CODE_ERROR, Message: s.Description}
	case codes.Ok:
		return &tracepb.Status{Code: tracepb.Status_STATUS_CODE_OK}
	}
	return &tracepb.Status{Code: tracepb.Status_STATUS_CODE_UNSET}
}

func unixNano(t time.Time) uint64 {
	if t.IsZero() || t.Before(time.Unix(0, 0)) {
		return 0
	}
	return uint64(t.UnixNano())
}

func count32(n int) uint32 {
	return uint32(min(max(n, 0), 1<<32-1))
}

func keyValues(kvs []attribute.KeyValue) []*commonpb.KeyValue {
	if len(kvs) == 0 {
		return nil
	}
	out := make([]*commonpb.KeyValue, 0, len(kvs))
	for _, kv := range kvs {
		out = append(out, &commonpb.KeyValue{Key: string(kv.Key), Value: anyValue(kv.Value)})
	}
	return out
}

// anyValue is v in OTLP, slices and maps included.
func anyValue(v attribute.Value) *commonpb.AnyValue {
	switch v.Type() {
	case attribute.BOOL:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_BoolValue{BoolValue: v.AsBool()}}
	case attribute.INT64:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: v.AsInt64()}}
	case attribute.FLOAT64:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_DoubleValue{DoubleValue: v.AsFloat64()}}
	case attribute.STRING:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v.AsString()}}
	case attribute.BYTESLICE:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_BytesValue{BytesValue: v.AsByteSlice()}}
	case attribute.BOOLSLICE:
		return array(v.AsBoolSlice(), attribute.BoolValue)
	case attribute.INT64SLICE:
		return array(v.AsInt64Slice(), attribute.Int64Value)
	case attribute.FLOAT64SLICE:
		return array(v.AsFloat64Slice(), attribute.Float64Value)
	case attribute.STRINGSLICE:
		return array(v.AsStringSlice(), attribute.StringValue)
	case attribute.SLICE:
		return array(v.AsSlice(), func(v attribute.Value) attribute.Value { return v })
	case attribute.MAP:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_KvlistValue{KvlistValue: &commonpb.KeyValueList{Values: keyValues(v.AsMap())}}}
	}
	return &commonpb.AnyValue{} // EMPTY
}

func array[T any](vs []T, value func(T) attribute.Value) *commonpb.AnyValue {
	out := make([]*commonpb.AnyValue, 0, len(vs))
	for _, v := range vs {
		out = append(out, anyValue(value(v)))
	}
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{Values: out}}}
}
