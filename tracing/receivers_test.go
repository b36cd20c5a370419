package tracing

import (
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// gotSpan is a span as a receiver decoded it, in one form for OTLP and
// Zipkin: ids in lowercase hex, kind and status in lowercase, every
// attribute (Zipkin tag) as a string.
type gotSpan struct {
	TraceID, SpanID, ParentID string
	Name                      string
	Kind                      string // "client", "internal", …
	Start, End                time.Time
	Attrs                     map[string]string
	Status, StatusDesc        string // status "error", "ok" or ""
	Service                   string // service.name
	Resource                  map[string]string
}

// receiver is an in-test collector on loopback: it keeps every span and the
// raw (decompressed) bodies and headers of the requests.
type receiver struct {
	srv     *httptest.Server
	mu      sync.Mutex
	spans   []gotSpan
	bodies  [][]byte
	headers []http.Header
}

func (r *receiver) Spans() []gotSpan {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]gotSpan(nil), r.spans...)
}

// Raw is every request body received, decompressed, concatenated.
func (r *receiver) Raw() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Join(r.bodies, nil)
}

func (r *receiver) Headers() []http.Header {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]http.Header(nil), r.headers...)
}

func (r *receiver) keep(h http.Header, body []byte, spans []gotSpan) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.headers = append(r.headers, h.Clone())
	r.bodies = append(r.bodies, body)
	r.spans = append(r.spans, spans...)
}

// readBody reads a request body, gunzipping it when it says so.
func readBody(req *http.Request) ([]byte, error) {
	var rd io.Reader = req.Body
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		rd = zr
	}
	return io.ReadAll(rd)
}

// newOTLPReceiver serves OTLP/HTTP protobuf at /v1/traces.
func newOTLPReceiver(t *testing.T) *receiver { return newOTLPReceiverTLS(t, false) }

// newOTLPReceiverTLS serves OTLP/HTTP protobuf at /v1/traces, over https
// with a generated certificate when useTLS is set (see caFile).
func newOTLPReceiverTLS(t *testing.T, useTLS bool) *receiver {
	t.Helper()
	r := &receiver{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", func(w http.ResponseWriter, req *http.Request) {
		body, err := readBody(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if ct := req.Header.Get("Content-Type"); ct != "application/x-protobuf" {
			http.Error(w, "content type "+ct, http.StatusUnsupportedMediaType)
			return
		}
		var msg coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(body, &msg); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.keep(req.Header, body, otlpSpans(&msg))
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	})
	r.srv = httptest.NewUnstartedServer(mux)
	if useTLS {
		r.srv.StartTLS()
	} else {
		r.srv.Start()
	}
	t.Cleanup(r.srv.Close)
	return r
}

// caFile writes the certificate of r's https server to a PEM file.
func (r *receiver) caFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	block := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: r.srv.Certificate().Raw})
	if err := os.WriteFile(path, block, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func otlpSpans(msg *coltracepb.ExportTraceServiceRequest) []gotSpan {
	var out []gotSpan
	for _, rs := range msg.GetResourceSpans() {
		res := otlpAttrs(rs.GetResource().GetAttributes())
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				g := gotSpan{
					TraceID:  hex.EncodeToString(s.GetTraceId()),
					SpanID:   hex.EncodeToString(s.GetSpanId()),
					ParentID: hex.EncodeToString(s.GetParentSpanId()),
					Name:     s.GetName(),
					Kind:     strings.ToLower(strings.TrimPrefix(s.GetKind().String(), "SPAN_KIND_")),
					Start:    time.Unix(0, int64(s.GetStartTimeUnixNano())).UTC(),
					End:      time.Unix(0, int64(s.GetEndTimeUnixNano())).UTC(),
					Attrs:    otlpAttrs(s.GetAttributes()),
					Service:  res["service.name"],
					Resource: res,
				}
				switch s.GetStatus().GetCode() {
				case tracepb.Status_STATUS_CODE_ERROR:
					g.Status = "error"
				case tracepb.Status_STATUS_CODE_OK:
					g.Status = "ok"
				}
				g.StatusDesc = s.GetStatus().GetMessage()
				out = append(out, g)
			}
		}
	}
	return out
}

func otlpAttrs(kvs []*commonpb.KeyValue) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		v := kv.GetValue()
		switch x := v.GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			m[kv.GetKey()] = x.StringValue
		case *commonpb.AnyValue_BoolValue:
			m[kv.GetKey()] = fmt.Sprint(x.BoolValue)
		case *commonpb.AnyValue_IntValue:
			m[kv.GetKey()] = fmt.Sprint(x.IntValue)
		case *commonpb.AnyValue_DoubleValue:
			m[kv.GetKey()] = fmt.Sprint(x.DoubleValue)
		default:
			m[kv.GetKey()] = v.String()
		}
	}
	return m
}

// zipkinSpan is a span of the Zipkin v2 JSON API.
type zipkinSpan struct {
	TraceID       string `json:"traceId"`
	ID            string `json:"id"`
	ParentID      string `json:"parentId"`
	Name          string `json:"name"`
	Kind          string `json:"kind"`
	Timestamp     int64  `json:"timestamp"` // µs since the epoch
	Duration      int64  `json:"duration"`  // µs
	LocalEndpoint struct {
		ServiceName string `json:"serviceName"`
	} `json:"localEndpoint"`
	RemoteEndpoint *struct {
		ServiceName string `json:"serviceName"`
	} `json:"remoteEndpoint"`
	Tags map[string]string `json:"tags"`
}

// newZipkinReceiver serves the Zipkin v2 JSON API at /api/v2/spans.
func newZipkinReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v2/spans", func(w http.ResponseWriter, req *http.Request) {
		body, err := readBody(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var spans []zipkinSpan
		if err := json.Unmarshal(body, &spans); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		out := make([]gotSpan, 0, len(spans))
		for _, s := range spans {
			start := time.UnixMicro(s.Timestamp).UTC()
			g := gotSpan{
				TraceID: s.TraceID, SpanID: s.ID, ParentID: s.ParentID, Name: s.Name,
				Kind: strings.ToLower(s.Kind), Start: start, End: start.Add(time.Duration(s.Duration) * time.Microsecond),
				Attrs: s.Tags, Service: s.LocalEndpoint.ServiceName, Resource: s.Tags,
				Status: strings.ToLower(s.Tags["otel.status_code"]), StatusDesc: s.Tags["error"],
			}
			if g.Kind == "" {
				g.Kind = "internal" // Zipkin has no kind for internal spans
			}
			if g.Attrs == nil {
				g.Attrs = map[string]string{}
			}
			out = append(out, g)
		}
		r.keep(req.Header, body, out)
		w.WriteHeader(http.StatusAccepted)
	})
	r.srv = httptest.NewServer(mux)
	t.Cleanup(r.srv.Close)
	return r
}

// backend is the service under probe: it keeps the trace headers it got.
type backend struct {
	srv    *httptest.Server
	status int
	mu     sync.Mutex
	seen   []http.Header
}

func newBackend(t *testing.T, status int) *backend {
	t.Helper()
	b := &backend{status: status}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b.mu.Lock()
		b.seen = append(b.seen, req.Header.Clone())
		b.mu.Unlock()
		w.WriteHeader(b.status)
		_, _ = io.WriteString(w, "hello")
	}))
	t.Cleanup(b.srv.Close)
	return b
}

// only returns the headers of the one request the backend got.
func (b *backend) only(t *testing.T) http.Header {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.seen) != 1 {
		t.Fatalf("backend got %d requests, want 1", len(b.seen))
	}
	return b.seen[0]
}
