package tracing

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/vantageprobe/vantage/probes"
	"github.com/vantageprobe/vantage/probes/probestest"
)

// collector is a loopback OTLP/HTTP endpoint whose answers a test scripts:
// answer is called for every request (n counts from 1).
type collector struct {
	srv      *httptest.Server
	requests atomic.Int64
	mu       sync.Mutex
	got      []*coltracepb.ExportTraceServiceRequest
	header   http.Header
}

func newCollector(t *testing.T, answer func(n int64, w http.ResponseWriter)) *collector {
	t.Helper()
	c := &collector{}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := c.requests.Add(1)
		body, err := readBody(r)
		var msg coltracepb.ExportTraceServiceRequest
		if err == nil {
			err = proto.Unmarshal(body, &msg)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		c.mu.Lock()
		c.got, c.header = append(c.got, &msg), r.Header.Clone()
		c.mu.Unlock()
		answer(n, w)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *collector) exporter(gzip bool) *otlpExporter {
	e := newOTLPExporter(c.srv.URL+"/v1/traces", &http.Client{Timeout: time.Second}, map[string]string{"X-Api-Key": "k1"}, gzip)
	e.firstWait = 10 * time.Millisecond
	return e
}

func ok(_ int64, w http.ResponseWriter) {
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

func stubSpans() []sdktrace.ReadOnlySpan {
	tid := trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	ts, _ := trace.ParseTraceState("vendor=x")
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: trace.SpanID{1}, TraceFlags: trace.FlagsSampled, TraceState: ts})
	parent := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: trace.SpanID{9}, TraceFlags: trace.FlagsSampled, Remote: true})
	linked := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{7}, SpanID: trace.SpanID{7}})
	start := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	res := resource.NewSchemaless(attribute.String("service.name", "vantage"))
	scope := instrumentation.Scope{Name: scopeName, Version: "1", SchemaURL: "https://opentelemetry.io/schemas/1.26.0",
		Attributes: attribute.NewSet(attribute.Bool("scoped", true))}
	probe := tracetest.SpanStub{
		Name: "GET", SpanContext: sc, Parent: parent, SpanKind: trace.SpanKindClient,
		StartTime: start, EndTime: start.Add(50 * time.Millisecond),
		Attributes: []attribute.KeyValue{
			attribute.String("s", "v"), attribute.Int64("i", -3), attribute.Float64("f", 1.5), attribute.Bool("b", true),
			attribute.StringSlice("ss", []string{"a", "b"}), attribute.Int64Slice("is", []int64{1, 2}),
			attribute.Float64Slice("fs", []float64{0.5}), attribute.BoolSlice("bs", []bool{false}),
		},
		Events:            []sdktrace.Event{{Name: "retry", Time: start.Add(time.Millisecond), Attributes: []attribute.KeyValue{attribute.Int("n", 1)}, DroppedAttributeCount: 2}},
		Links:             []sdktrace.Link{{SpanContext: linked, Attributes: []attribute.KeyValue{attribute.String("why", "follows")}}},
		Status:            sdktrace.Status{Code: codes.Error, Description: "status 503"},
		DroppedAttributes: 1, DroppedEvents: 2, DroppedLinks: 3,
		Resource: res, InstrumentationScope: scope,
	}
	phase := tracetest.SpanStub{
		Name: "connect", SpanContext: trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled}),
		Parent: sc, SpanKind: trace.SpanKindInternal, StartTime: start, EndTime: start.Add(time.Millisecond),
		Status: sdktrace.Status{Code: codes.Ok}, Resource: res, InstrumentationScope: scope,
	}
	return []sdktrace.ReadOnlySpan{probe.Snapshot(), phase.Snapshot()}
}

func str(s string) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: s}}
}

func arr(vs ...*commonpb.AnyValue) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{Values: vs}}}
}

// TestOTLPEncoding: what the collector decodes, as ExportTraceServiceRequest,
// is every field of the spans, with or without gzip.
func TestOTLPEncoding(t *testing.T) {
	intv := func(i int64) *commonpb.AnyValue {
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: i}}
	}
	boolv := func(b bool) *commonpb.AnyValue {
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_BoolValue{BoolValue: b}}
	}
	dbl := func(f float64) *commonpb.AnyValue {
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_DoubleValue{DoubleValue: f}}
	}
	start := uint64(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC).UnixNano())
	tid := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	want := &coltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{{
		Resource: &resourcepb.Resource{Attributes: []*commonpb.KeyValue{{Key: "service.name", Value: str("vantage")}}},
		ScopeSpans: []*tracepb.ScopeSpans{{
			Scope:     &commonpb.InstrumentationScope{Name: scopeName, Version: "1", Attributes: []*commonpb.KeyValue{{Key: "scoped", Value: boolv(true)}}},
			SchemaUrl: "https://opentelemetry.io/schemas/1.26.0",
			Spans: []*tracepb.Span{{
				TraceId: tid, SpanId: []byte{1, 0, 0, 0, 0, 0, 0, 0}, TraceState: "vendor=x", ParentSpanId: []byte{9, 0, 0, 0, 0, 0, 0, 0},
				Flags: 0x301, Name: "GET", Kind: tracepb.Span_SPAN_KIND_CLIENT,
				StartTimeUnixNano: start, EndTimeUnixNano: start + uint64(50*time.Millisecond),
				Attributes: []*commonpb.KeyValue{
					{Key: "s", Value: str("v")}, {Key: "i", Value: intv(-3)}, {Key: "f", Value: dbl(1.5)}, {Key: "b", Value: boolv(true)},
					{Key: "ss", Value: arr(str("a"), str("b"))}, {Key: "is", Value: arr(intv(1), intv(2))},
					{Key: "fs", Value: arr(dbl(0.5))}, {Key: "bs", Value: arr(boolv(false))},
				},
				DroppedAttributesCount: 1,
				Events: []*tracepb.Span_Event{{TimeUnixNano: start + uint64(time.Millisecond), Name: "retry",
					Attributes: []*commonpb.KeyValue{{Key: "n", Value: intv(1)}}, DroppedAttributesCount: 2}},
				DroppedEventsCount: 2,
				Links: []*tracepb.Span_Link{{TraceId: []byte{7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, SpanId: []byte{7, 0, 0, 0, 0, 0, 0, 0},
					Attributes: []*commonpb.KeyValue{{Key: "why", Value: str("follows")}}, Flags: 0x100}},
				DroppedLinksCount: 3,
				Status:            &tracepb.Status{Code: tracepb.Status_STATUS_CODE_ERROR, Message: "status 503"},
			}, {
				TraceId: tid, SpanId: []byte{2, 0, 0, 0, 0, 0, 0, 0}, ParentSpanId: []byte{1, 0, 0, 0, 0, 0, 0, 0},
				Flags: 0x101, Name: "connect", Kind: tracepb.Span_SPAN_KIND_INTERNAL,
				StartTimeUnixNano: start, EndTimeUnixNano: start + uint64(time.Millisecond),
				Status: &tracepb.Status{Code: tracepb.Status_STATUS_CODE_OK},
			}},
		}},
	}}}
	for _, gzip := range []bool{true, false} {
		c := newCollector(t, ok)
		if err := c.exporter(gzip).ExportSpans(t.Context(), stubSpans()); err != nil {
			t.Fatalf("gzip %v: %v", gzip, err)
		}
		c.mu.Lock()
		got, h := c.got, c.header
		c.mu.Unlock()
		if len(got) != 1 {
			t.Fatalf("gzip %v: %d requests", gzip, len(got))
		}
		if !proto.Equal(want, got[0]) {
			t.Errorf("gzip %v: request\n%s\nwant\n%s", gzip, prototext.Format(got[0]), prototext.Format(want))
		}
		if h.Get("Content-Type") != "application/x-protobuf" || h.Get("X-Api-Key") != "k1" || (h.Get("Content-Encoding") == "gzip") != gzip {
			t.Errorf("gzip %v: headers %v", gzip, h)
		}
	}
}

// TestOTLPRetries: 429, 502, 503 and 504 are retried, after Retry-After
// when the collector gives one; a timeout is retried too.
func TestOTLPRetries(t *testing.T) {
	tests := []struct {
		name   string
		answer func(n int64, w http.ResponseWriter)
		want   int64 // requests
	}{
		{"503 with Retry-After, then 429, then taken", func(n int64, w http.ResponseWriter) {
			switch n {
			case 1:
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(http.StatusServiceUnavailable)
			case 2:
				w.WriteHeader(http.StatusTooManyRequests)
			default:
				ok(n, w)
			}
		}, 3},
		{"502 and 504", func(n int64, w http.ResponseWriter) {
			switch n {
			case 1:
				w.WriteHeader(http.StatusBadGateway)
			case 2:
				w.WriteHeader(http.StatusGatewayTimeout)
			default:
				ok(n, w)
			}
		}, 3},
		{"a timeout", func(n int64, w http.ResponseWriter) {
			if n == 1 {
				time.Sleep(1500 * time.Millisecond) // the client's timeout is 1 s
			}
			ok(n, w)
		}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCollector(t, tt.answer)
			if err := c.exporter(true).ExportSpans(t.Context(), stubSpans()); err != nil {
				t.Fatal(err)
			}
			if got := c.requests.Load(); got != tt.want {
				t.Fatalf("%d requests, want %d", got, tt.want)
			}
		})
	}
}

// TestOTLPFailures: what is not transient fails at once, with what the
// collector said; a transient failure gives up after retryFor.
func TestOTLPFailures(t *testing.T) {
	// google.rpc.Status{code: 3, message: "span too large"}
	status := protowire.AppendString(protowire.AppendTag(protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 3),
		2, protowire.BytesType), "span too large")
	tests := []struct {
		name    string
		answer  func(n int64, w http.ResponseWriter)
		want    string
		retried bool
	}{
		{"400 with a google.rpc.Status", func(_ int64, w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/x-protobuf")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write(status)
		}, "collector answered 400 Bad Request: span too large", false},
		{"401 in plain text", func(_ int64, w http.ResponseWriter) {
			http.Error(w, "bad api key", http.StatusUnauthorized)
		}, "collector answered 401 Unauthorized: bad api key", false},
		{"500", func(_ int64, w http.ResponseWriter) {
			w.WriteHeader(http.StatusInternalServerError)
		}, "collector answered 500 Internal Server Error", false},
		{"413", func(_ int64, w http.ResponseWriter) {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
		}, "collector answered 413 Request Entity Too Large", false},
		{"always 503", func(_ int64, w http.ResponseWriter) {
			w.WriteHeader(http.StatusServiceUnavailable)
		}, "collector answered 503 Service Unavailable (gave up after", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCollector(t, tt.answer)
			e := c.exporter(false)
			e.retryFor = 300 * time.Millisecond
			start := time.Now()
			err := e.ExportSpans(t.Context(), stubSpans())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			if n := c.requests.Load(); (n > 1) != tt.retried {
				t.Fatalf("%d requests (retried: want %v)", n, tt.retried)
			}
			if took := time.Since(start); took > 2*time.Second {
				t.Fatalf("took %s", took)
			}
		})
	}
}

// TestOTLPPartialSuccess: spans the collector rejects are an error and
// are counted, the rest not.
func TestOTLPPartialSuccess(t *testing.T) {
	c := newCollector(t, func(_ int64, w http.ResponseWriter) {
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{PartialSuccess: &coltracepb.ExportTracePartialSuccess{RejectedSpans: 1, ErrorMessage: "too old"}})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	})
	err := c.exporter(true).ExportSpans(t.Context(), stubSpans())
	var pe *partialError
	if !errors.As(err, &pe) || pe.rejected != 1 || err.Error() != "collector rejected 1 spans: too old" {
		t.Fatalf("error %v", err)
	}
	le := &loggedExporter{SpanExporter: c.exporter(true), log: slog.New(slog.DiscardHandler)}
	_ = le.ExportSpans(t.Context(), stubSpans())
	if le.failed.Load() != 1 {
		t.Fatalf("%d failed spans counted, want the 1 rejected", le.failed.Load())
	}
}

// TestOTLPShutdown ends an export that waits on a hanging collector; the
// exporter takes nothing after.
func TestOTLPShutdown(t *testing.T) {
	release := make(chan struct{})
	c := newCollector(t, func(_ int64, w http.ResponseWriter) { <-release })
	t.Cleanup(func() { close(release) })
	e := c.exporter(true)
	e.client.Timeout = time.Minute
	done := make(chan error, 1)
	go func() { done <- e.ExportSpans(context.Background(), stubSpans()) }()
	for c.requests.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	if err := e.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("an export cut by Shutdown reported success")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Shutdown did not end the export in flight")
	}
	if err := e.ExportSpans(t.Context(), stubSpans()); !errors.Is(err, errExporterStopped) {
		t.Fatalf("export after Shutdown: %v", err)
	}
}

// TestOTLPNoAnswer: a refused connection, and one dropped without an
// answer, are retried (the spec's SHOULD) until the batch gives up.
func TestOTLPNoAnswer(t *testing.T) {
	t.Run("refused", func(t *testing.T) {
		e := newOTLPExporter("http://"+deadAddr(t)+"/v1/traces", &http.Client{Timeout: time.Second}, nil, false)
		e.firstWait, e.retryFor = 20*time.Millisecond, 300*time.Millisecond
		err := e.ExportSpans(t.Context(), stubSpans())
		if err == nil || !strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "after 1 attempts") {
			t.Fatalf("error %v, want connection refused after retries", err)
		}
	})
	t.Run("dropped, then taken", func(t *testing.T) {
		c := newCollector(t, func(n int64, w http.ResponseWriter) {
			if n == 1 {
				conn, _, err := w.(http.Hijacker).Hijack()
				if err == nil {
					conn.Close() // no answer at all
				}
				return
			}
			ok(n, w)
		})
		if err := c.exporter(true).ExportSpans(t.Context(), stubSpans()); err != nil {
			t.Fatal(err)
		}
		if n := c.requests.Load(); n != 2 {
			t.Fatalf("%d requests, want 2", n)
		}
	})
}

// TestOTLPRetryAfterWaits: a Retry-After longer than the back-off is what
// the exporter waits.
func TestOTLPRetryAfterWaits(t *testing.T) {
	c := newCollector(t, func(n int64, w http.ResponseWriter) {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		ok(n, w)
	})
	start := time.Now()
	if err := c.exporter(false).ExportSpans(t.Context(), stubSpans()); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < time.Second {
		t.Fatalf("retried after %s, before the collector's Retry-After of 1 s", took)
	}
}

func TestRetryAfter(t *testing.T) {
	soon := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		in       string
		min, max time.Duration
	}{
		{"", 0, 0},
		{"garbage", 0, 0},
		{"-5", 0, 0},
		{"0", time.Millisecond, time.Millisecond},
		{"7", 7 * time.Second, 7 * time.Second},
		{"99999999999", time.Hour, time.Hour}, // capped, not wrapped negative
		{soon, 85 * time.Second, 90 * time.Second},
		{"Mon, 02 Jan 2006 15:04:05 GMT", time.Millisecond, time.Millisecond}, // past
	}
	for _, tt := range tests {
		if got := retryAfter(tt.in); got < tt.min || got > tt.max {
			t.Errorf("retryAfter(%q) = %s, want %s-%s", tt.in, got, tt.min, tt.max)
		}
	}
}

// TestOTLPWarning: a partial success that rejected nothing is a warning,
// logged once, neither a failure nor counted.
func TestOTLPWarning(t *testing.T) {
	c := newCollector(t, func(_ int64, w http.ResponseWriter) {
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{PartialSuccess: &coltracepb.ExportTracePartialSuccess{ErrorMessage: "attribute truncated"}})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	})
	var logs probestest.SyncBuffer
	le := &loggedExporter{SpanExporter: c.exporter(true), log: slog.New(slog.NewTextHandler(&logs, nil))}
	for range 2 {
		if err := le.ExportSpans(t.Context(), stubSpans()); err != nil {
			t.Fatal(err)
		}
	}
	if le.failed.Load() != 0 || le.failing.Load() {
		t.Fatalf("a warning counted as a failure: %d failed", le.failed.Load())
	}
	if n := strings.Count(logs.String(), "attribute truncated"); n != 1 {
		t.Fatalf("warning logged %d times, want once:\n%s", n, logs.String())
	}
}

// TestOTLPGrouping: spans of two resources and two scopes go out grouped,
// in the order they came, with the schema URLs, every kind of attribute
// value, a link's trace state and remoteness, and every span kind and
// status.
func TestOTLPGrouping(t *testing.T) {
	resA := resource.NewWithAttributes("https://opentelemetry.io/schemas/1.26.0", attribute.String("service.name", "a"))
	resB := resource.NewSchemaless(attribute.String("service.name", "b"))
	scope1, scope2 := instrumentation.Scope{Name: "one"}, instrumentation.Scope{Name: "two", Version: "2"}
	ts, _ := trace.ParseTraceState("k=v")
	remote := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{3}, SpanID: trace.SpanID{3}, TraceState: ts, Remote: true})
	kinds := []trace.SpanKind{trace.SpanKindServer, trace.SpanKindProducer, trace.SpanKindConsumer, trace.SpanKindUnspecified}
	var spans []sdktrace.ReadOnlySpan
	for i, k := range kinds {
		stub := tracetest.SpanStub{
			Name: fmt.Sprint(i), SpanKind: k, Resource: resA, InstrumentationScope: scope1,
			SpanContext: trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{byte(i + 1)}}),
		}
		if i%2 == 1 {
			stub.InstrumentationScope = scope2
		}
		if i == 3 {
			stub.Resource = resB
			stub.Links = []sdktrace.Link{{SpanContext: remote}}
			stub.Attributes = []attribute.KeyValue{
				attribute.ByteSlice("raw", []byte{0, 1}),
				attribute.Slice("mixed", attribute.StringValue("x"), attribute.Int64Value(2)),
				attribute.Map("m", attribute.Bool("b", false)),
				{Key: "none"},
			}
		}
		spans = append(spans, stub.Snapshot())
	}
	got := resourceSpans(spans)
	if len(got) != 2 || got[0].SchemaUrl != "https://opentelemetry.io/schemas/1.26.0" || got[1].SchemaUrl != "" {
		t.Fatalf("resources: %v", got)
	}
	a := got[0].ScopeSpans
	if len(a) != 2 || a[0].Scope.Name != "one" || a[1].Scope.Name != "two" || a[1].Scope.Version != "2" ||
		len(a[0].Spans) != 2 || a[0].Spans[0].Name != "0" || a[0].Spans[1].Name != "2" || len(a[1].Spans) != 1 {
		t.Fatalf("scopes of the first resource: %v", a)
	}
	wantKinds := []tracepb.Span_SpanKind{tracepb.Span_SPAN_KIND_SERVER, tracepb.Span_SPAN_KIND_CONSUMER, tracepb.Span_SPAN_KIND_PRODUCER}
	for i, sp := range []*tracepb.Span{a[0].Spans[0], a[0].Spans[1], a[1].Spans[0]} {
		if sp.Kind != wantKinds[i] || sp.Status.GetCode() != tracepb.Status_STATUS_CODE_UNSET || sp.Flags != 0x100 {
			t.Errorf("span %s: kind %v, status %v, flags %#x", sp.Name, sp.Kind, sp.Status, sp.Flags)
		}
	}
	last := got[1].ScopeSpans[0].Spans[0]
	if last.Kind != tracepb.Span_SPAN_KIND_UNSPECIFIED || len(last.Links) != 1 || last.Links[0].TraceState != "k=v" || last.Links[0].Flags != 0x300 {
		t.Fatalf("last span: %v", last)
	}
	wantAttrs := &tracepb.Span{Attributes: []*commonpb.KeyValue{
		{Key: "raw", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_BytesValue{BytesValue: []byte{0, 1}}}},
		{Key: "mixed", Value: arr(str("x"), &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: 2}})},
		{Key: "m", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_KvlistValue{KvlistValue: &commonpb.KeyValueList{Values: []*commonpb.KeyValue{
			{Key: "b", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_BoolValue{BoolValue: false}}}}}}}},
		{Key: "none", Value: &commonpb.AnyValue{}},
	}}
	if !proto.Equal(wantAttrs, &tracepb.Span{Attributes: last.Attributes}) {
		t.Fatalf("attributes\n%s\nwant\n%s", prototext.Format(&tracepb.Span{Attributes: last.Attributes}), prototext.Format(wantAttrs))
	}
}

// TestShutdownCutsExportInFlight: Exporter.Shutdown with a deadline ends
// an export that waits on a hanging collector (the batch processor would
// only stop the exporter after that export), and counts its spans lost.
func TestShutdownCutsExportInFlight(t *testing.T) {
	cut := make(chan struct{})
	var once sync.Once
	c := newCollector(t, func(_ int64, w http.ResponseWriter) {})
	c.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.requests.Add(1)
		_, _ = io.Copy(io.Discard, r.Body) // then the server watches the connection
		<-r.Context().Done()               // hangs until the client gives up
		once.Do(func() { close(cut) })
	})
	b := newBackend(t, http.StatusOK)
	rec := probeHTTP(t, probes.HTTPSpec{URL: b.srv.URL})
	e, err := newExporter(t.Context(), Config{OTLP: &OTLPConfig{Endpoint: c.srv.URL + "/v1/traces", Timeout: time.Minute}},
		slog.New(slog.DiscardHandler), options{queue: 4, spanQueue: 8, batchTimeout: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e.Export(rec)
	for c.requests.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := e.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v, want the deadline", err)
	}
	select {
	case <-cut:
	case <-time.After(2 * time.Second):
		t.Fatal("the export in flight still waits on the collector after Shutdown")
	}
	if st := e.Stats()[NameOTLP]; st.FailedSpans == 0 {
		t.Fatalf("the cut export's spans are not counted: %+v", st)
	}
}
