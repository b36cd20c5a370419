package server_test

import (
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// otlpReceiver is an OTLP/HTTP collector on loopback that keeps the root
// spans it receives: span id → trace id, plus their attributes.
type otlpReceiver struct {
	mu    sync.Mutex
	spans map[string]receivedSpan
}

type receivedSpan struct {
	traceID string
	attrs   map[string]string
}

func (o *otlpReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var req coltrace.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			for _, sp := range ss.Spans {
				if len(sp.ParentSpanId) != 0 {
					continue // a phase span
				}
				attrs := map[string]string{}
				for _, kv := range sp.Attributes {
					attrs[kv.Key] = fmt.Sprint(kv.Value.GetStringValue(), kv.Value.GetIntValue(), kv.Value.GetBoolValue())
				}
				o.spans[hex.EncodeToString(sp.SpanId)] = receivedSpan{hex.EncodeToString(sp.TraceId), attrs}
			}
		}
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(nil)
}

func (o *otlpReceiver) get(spanID string) (receivedSpan, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	s, ok := o.spans[spanID]
	return s, ok
}

// TestServerExportsProbeSpans: with tracing.otlp set, the server exports a
// span per stored result whose ids are the traceparent the backend saw;
// a hide_target check's span carries no URL.
func TestServerExportsProbeSpans(t *testing.T) {
	recv := &otlpReceiver{spans: map[string]receivedSpan{}}
	collector := httptest.NewServer(recv)
	t.Cleanup(collector.Close)
	var mu sync.Mutex
	var parents []string // traceparents the backend received
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		parents = append(parents, r.URL.Path+" "+r.Header.Get("Traceparent"))
		mu.Unlock()
		fmt.Fprint(w, "ok")
	}))
	t.Cleanup(backend.Close)
	top := fmt.Sprintf("tracing: {otlp: {endpoint: %q, compression: none}}\n", collector.URL+"/v1/traces")
	startWith(t, top, fmt.Sprintf("  - {name: api, http: {url: %q}}\n  - {name: secret, hide_target: true, http: {url: %q}}\n",
		backend.URL+"/api", backend.URL+"/secret?token=s3cret"))
	matched := map[string]bool{}
	waitFor(t, "a span for each check matching the backend's traceparent", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range parents {
			path, tp, _ := strings.Cut(p, " ")
			parts := strings.Split(tp, "-")
			if len(parts) != 4 {
				t.Fatalf("traceparent %q", tp)
			}
			sp, ok := recv.get(parts[2])
			if !ok {
				continue
			}
			if sp.traceID != parts[1] {
				t.Fatalf("span %s has trace %s, the backend saw %s", parts[2], sp.traceID, parts[1])
			}
			switch path {
			case "/api":
				if !strings.Contains(sp.attrs["url.full"], backend.URL+"/api") || !strings.Contains(sp.attrs["vantage.check"], "api") {
					t.Fatalf("api span attributes %v", sp.attrs)
				}
			case "/secret":
				for k, v := range sp.attrs {
					if strings.Contains(v, "s3cret") || strings.Contains(v, "/secret") || k == "url.full" {
						t.Fatalf("hide_target span leaks the target: %s=%s", k, v)
					}
				}
			}
			matched[path] = true
		}
		return matched["/api"] && matched["/secret"]
	})
}
