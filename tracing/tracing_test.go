package tracing

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/probes"
	"github.com/vantageprobe/vantage/probes/probestest"
	"github.com/vantageprobe/vantage/results"
)

// exporterCase is one way of exporting: a receiver and the config that
// points at it.
type exporterCase struct {
	name   string
	start  func(t *testing.T) *receiver
	config func(t *testing.T, r *receiver) Config
}

const apiKey = "s3cret-api-key"

func exporterCases() []exporterCase {
	return []exporterCase{
		{"otlp", newOTLPReceiver, func(_ *testing.T, r *receiver) Config {
			return Config{
				ServiceName:        "vantage-test",
				ResourceAttributes: map[string]string{"deployment.environment": "test"},
				OTLP: &OTLPConfig{
					Endpoint: r.srv.URL + "/v1/traces",
					Headers:  map[string]probes.Secret{"Authorization": "Bearer " + apiKey},
				},
			}
		}},
		{"otlp https ca_file uncompressed", func(t *testing.T) *receiver { return newOTLPReceiverTLS(t, true) }, func(t *testing.T, r *receiver) Config {
			return Config{
				ServiceName:        "vantage-test",
				ResourceAttributes: map[string]string{"deployment.environment": "test"},
				OTLP: &OTLPConfig{
					Endpoint:    r.srv.URL + "/v1/traces",
					Headers:     map[string]probes.Secret{"Authorization": "Bearer " + apiKey},
					Compression: CompressionNone,
					TLS:         TLSConfig{CAFile: r.caFile(t)},
				},
			}
		}},
		{"zipkin", newZipkinReceiver, func(_ *testing.T, r *receiver) Config {
			return Config{
				ServiceName:        "vantage-test",
				ResourceAttributes: map[string]string{"deployment.environment": "test"},
				Zipkin: &ZipkinConfig{
					Endpoint: r.srv.URL + "/api/v2/spans",
					Headers:  map[string]probes.Secret{"Authorization": "Bearer " + apiKey},
				},
			}
		}},
	}
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// probeHTTP runs one real HTTP probe and stores its result as the server
// would.
func probeHTTP(t *testing.T, spec probes.HTTPSpec) results.Record {
	t.Helper()
	p, err := probes.NewHTTP(spec)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	res, err := p.Probe(ctx)
	if err != nil {
		t.Fatalf("probe could not run: %v", err)
	}
	return results.FromResult("checkout", "eu-west", res)
}

// export sends recs through a new Exporter and shuts it down, so that
// everything is at the receiver when it returns.
func export(t *testing.T, cfg Config, recs ...results.Record) *Exporter {
	t.Helper()
	e, err := New(t.Context(), cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		e.Export(rec)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := e.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	return e
}

// tree splits the received spans into the one root and its children.
func tree(t *testing.T, spans []gotSpan) (gotSpan, []gotSpan) {
	t.Helper()
	var roots, children []gotSpan
	for _, s := range spans {
		if s.ParentID == "" {
			roots = append(roots, s)
		} else {
			children = append(children, s)
		}
	}
	if len(roots) != 1 {
		t.Fatalf("got %d root spans, want 1: %+v", len(roots), spans)
	}
	return roots[0], children
}

var traceparentRE = regexp.MustCompile(`^00-([0-9a-f]{32})-([0-9a-f]{16})-01$`)

// sameTime compares times as Zipkin keeps them: a start and a duration,
// each truncated to microseconds.
func sameTime(a, b time.Time) bool { return a.Sub(b).Abs() < 2*time.Microsecond }

// TestExportProbeSpanIsParentOfBackendSpan runs a real HTTP probe against a
// backend, exports the stored record, and checks that the probe span at the
// collector has the ids the backend received as its parent.
func TestExportProbeSpanIsParentOfBackendSpan(t *testing.T) {
	for _, ec := range exporterCases() {
		t.Run(ec.name, func(t *testing.T) {
			b := newBackend(t, http.StatusOK)
			rec := probeHTTP(t, probes.HTTPSpec{URL: b.srv.URL + "/health", B3: true})
			if !rec.OK || rec.TraceID == "" {
				t.Fatalf("probe: ok=%v trace=%q err=%q", rec.OK, rec.TraceID, rec.Error)
			}
			h := b.only(t)
			m := traceparentRE.FindStringSubmatch(h.Get("Traceparent"))
			if m == nil {
				t.Fatalf("backend got traceparent %q", h.Get("Traceparent"))
			}
			traceID, parentID := m[1], m[2]
			if got, want := h.Get("B3"), traceID+"-"+parentID+"-1"; got != want {
				t.Fatalf("backend got B3 %q, want %q", got, want)
			}

			r := ec.start(t)
			export(t, ec.config(t, r), rec)

			root, children := tree(t, r.Spans())
			if root.TraceID != traceID || root.SpanID != parentID {
				t.Errorf("probe span ids %s/%s, want the backend's parent %s/%s", root.TraceID, root.SpanID, traceID, parentID)
			}
			if root.Name != "probe http" || root.Kind != "client" {
				t.Errorf("probe span %q kind %q, want %q kind client", root.Name, root.Kind, "probe http")
			}
			if !sameTime(root.Start, rec.Started) || !sameTime(root.End, rec.Started.Add(rec.Duration)) {
				t.Errorf("probe span %s → %s, want %s for %s", root.Start, root.End, rec.Started, rec.Duration)
			}
			_, port, _ := net.SplitHostPort(strings.TrimPrefix(b.srv.URL, "http://"))
			wantAttrs(t, root.Attrs, map[string]string{
				"vantage.check": "checkout", "vantage.region": "eu-west", "vantage.probe.kind": "http",
				"vantage.result.ok": "true", "vantage.result.degraded": "false", "vantage.result.id": rec.ID,
				"http.response.status_code": "200",
				"url.full":                  b.srv.URL + "/health", "server.address": "127.0.0.1", "server.port": port,
			})
			noAttrs(t, root.Attrs, "error.type")
			if root.Status == "error" {
				t.Errorf("passing probe has status error %q", root.StatusDesc)
			}
			if root.Service != "vantage-test" || root.Resource["deployment.environment"] != "test" {
				t.Errorf("service %q, resource %v: want vantage-test with deployment.environment=test", root.Service, root.Resource)
			}
			wantPhases(t, rec, root, children)
			for _, hdr := range r.Headers() {
				if hdr.Get("Authorization") != "Bearer "+apiKey {
					t.Errorf("collector got Authorization %q, want the configured header", hdr.Get("Authorization"))
				}
			}
		})
	}
}

// wantPhases checks one child per phase that took time, in order, laid
// end to end from the probe's start, in the probe's trace.
func wantPhases(t *testing.T, rec results.Record, root gotSpan, children []gotSpan) {
	t.Helper()
	var want []string
	rec.Phases.Each(func(name string, d time.Duration) {
		if d > 0 {
			want = append(want, name)
		}
	})
	if len(want) < 3 {
		t.Fatalf("record has phases %v: a real HTTP probe has at least connect, processing, transfer", want)
	}
	byName := map[string]gotSpan{}
	for _, c := range children {
		byName[c.Name] = c
		if c.TraceID != root.TraceID || c.ParentID != root.SpanID || c.Kind != "internal" || c.SpanID == root.SpanID {
			t.Errorf("phase span %q: trace %s parent %s kind %s, want trace %s parent %s kind internal", c.Name, c.TraceID, c.ParentID, c.Kind, root.TraceID, root.SpanID)
		}
		if c.Attrs["vantage.phase"] != c.Name {
			t.Errorf("phase span %q has vantage.phase %q", c.Name, c.Attrs["vantage.phase"])
		}
	}
	if len(children) != len(want) {
		t.Fatalf("got %d phase spans, want %v", len(children), want)
	}
	at := root.Start
	for _, name := range want {
		c, ok := byName[name]
		if !ok {
			t.Fatalf("no span for phase %s (got %v)", name, children)
		}
		if !sameTime(c.Start, at) || c.End.Before(c.Start) || c.End.Sub(root.End) >= 2*time.Microsecond {
			t.Errorf("phase %s spans %s → %s, want it to start at %s and end within the probe (%s)", name, c.Start, c.End, at, root.End)
		}
		at = c.End
	}
}

func wantAttrs(t *testing.T, got map[string]string, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("attribute %s = %q, want %q", k, got[k], v)
		}
	}
}

func noAttrs(t *testing.T, got map[string]string, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if v, ok := got[k]; ok {
			t.Errorf("attribute %s = %q is exported, want none", k, v)
		}
	}
}

// TestExportFailedProbe: a failing probe exports status Error with the
// failure as the description, and its error class.
func TestExportFailedProbe(t *testing.T) {
	for _, ec := range exporterCases() {
		t.Run(ec.name, func(t *testing.T) {
			b := newBackend(t, http.StatusServiceUnavailable)
			rec := probeHTTP(t, probes.HTTPSpec{URL: b.srv.URL})
			if rec.OK || rec.Error == "" {
				t.Fatalf("probe of a 503 passed: %+v", rec)
			}
			r := ec.start(t)
			export(t, ec.config(t, r), rec)
			root, _ := tree(t, r.Spans())
			if root.Status != "error" || root.StatusDesc != rec.Error {
				t.Errorf("status %q %q, want error %q", root.Status, root.StatusDesc, rec.Error)
			}
			wantAttrs(t, root.Attrs, map[string]string{
				"vantage.result.ok": "false", "error.type": "status", "http.response.status_code": "503",
			})
			if m := traceparentRE.FindStringSubmatch(b.only(t).Get("Traceparent")); m == nil || root.TraceID != m[1] || root.SpanID != m[2] {
				t.Errorf("failed probe span %s/%s does not match the traceparent the backend got", root.TraceID, root.SpanID)
			}
		})
	}
}

// deadAddr returns a loopback address nothing listens on.
func deadAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestExportHiddenTarget: a record whose target the operator hid exports
// nothing that names the target, not even in the error text.
func TestExportHiddenTarget(t *testing.T) {
	addr := deadAddr(t)
	rec := probeHTTP(t, probes.HTTPSpec{URL: "http://" + addr + "/private/path"})
	if rec.OK || !strings.Contains(rec.Error, addr) {
		t.Fatalf("want a failure naming %s, got ok=%v %q", addr, rec.OK, rec.Error)
	}
	rec.Target = "" // what the server records export for a check with hide_target
	for _, ec := range exporterCases() {
		t.Run(ec.name, func(t *testing.T) {
			r := ec.start(t)
			export(t, ec.config(t, r), rec)
			root, _ := tree(t, r.Spans())
			noAttrs(t, root.Attrs, "url.full", "server.address", "server.port", "dns.question.name", "vantage.result.warning")
			if root.Status != "error" || root.StatusDesc != hiddenDetails {
				t.Errorf("status %q %q, want error %q", root.Status, root.StatusDesc, hiddenDetails)
			}
			wantAttrs(t, root.Attrs, map[string]string{"error.type": "conn_refused", "vantage.check": "checkout"})
			if raw := r.Raw(); bytes.Contains(raw, []byte(addr)) || bytes.Contains(raw, []byte("/private/path")) {
				t.Errorf("the collector received the hidden target %s", addr)
			}
		})
	}
}

// TestExportStripsCredentials: user info and query strings (tokens) never
// leave Vantage, neither in url.full nor in an error text.
func TestExportStripsCredentials(t *testing.T) {
	const secret = "s3cret-token"
	b := newBackend(t, http.StatusOK)
	addr := deadAddr(t)
	refused := probeHTTP(t, probes.HTTPSpec{URL: "http://" + addr + "/path?token=" + secret})
	if refused.OK || !strings.Contains(refused.Error, secret) {
		t.Fatalf("want an error text that carries the token, got %q", refused.Error)
	}
	// The HTTP spec refuses user info, but a record can come from any
	// source (an agent, another kind): the exporter must not trust it.
	userinfo := probeHTTP(t, probes.HTTPSpec{URL: b.srv.URL + "/path?token=" + secret + "#frag"})
	userinfo.Target = strings.Replace(b.srv.URL, "http://", "http://user:"+secret+"@", 1) + "/path?token=" + secret + "#frag"
	userinfo.OK, userinfo.ErrorClass = false, "other"
	userinfo.Error = `Get "` + userinfo.Target + `": redirect to https://admin:` + secret + `@example.com/x?sig=` + secret
	tests := []struct {
		name    string
		rec     results.Record
		wantURL string
		wantErr string
	}{
		{"token in query and error text", refused, "http://" + addr + "/path", "http://" + addr + "/path"},
		{"user info, query, fragment", userinfo, b.srv.URL + "/path", `Get "` + b.srv.URL + `/path": redirect to https://example.com/x`},
	}
	for _, ec := range exporterCases() {
		for _, tt := range tests {
			t.Run(ec.name+"/"+tt.name, func(t *testing.T) {
				r := ec.start(t)
				export(t, ec.config(t, r), tt.rec)
				root, _ := tree(t, r.Spans())
				if root.Attrs["url.full"] != tt.wantURL {
					t.Errorf("url.full = %q, want %q", root.Attrs["url.full"], tt.wantURL)
				}
				if !strings.Contains(root.StatusDesc, tt.wantErr) {
					t.Errorf("status description %q, want it to contain %q", root.StatusDesc, tt.wantErr)
				}
				if raw := r.Raw(); bytes.Contains(raw, []byte(secret)) || bytes.Contains(raw, []byte("user:")) {
					t.Errorf("the collector received a credential: %q", raw)
				}
			})
		}
	}
}

// TestExportWithoutTraceID: a probe that sent no traceparent (TCP) gets a
// fresh random trace, with the phases inside it.
func TestExportWithoutTraceID(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	p, err := probes.NewTCP(probes.TCPSpec{Address: ln.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Probe(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	rec := results.FromResult("db", "local", res)
	if rec.TraceID != "" || !rec.OK {
		t.Fatalf("tcp record: trace %q ok %v %s", rec.TraceID, rec.OK, rec.Error)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	for _, ec := range exporterCases() {
		t.Run(ec.name, func(t *testing.T) {
			r := ec.start(t)
			export(t, ec.config(t, r), rec, rec)
			var roots []gotSpan
			for _, s := range r.Spans() {
				if s.ParentID == "" {
					roots = append(roots, s)
				}
			}
			if len(roots) != 2 || roots[0].TraceID == roots[1].TraceID {
				t.Fatalf("want two roots in two fresh traces, got %+v", roots)
			}
			for _, root := range roots {
				if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(root.TraceID) || strings.Trim(root.TraceID, "0") == "" {
					t.Errorf("trace id %q is not a valid random id", root.TraceID)
				}
				if root.Name != "probe tcp" {
					t.Errorf("name %q, want probe tcp", root.Name)
				}
				wantAttrs(t, root.Attrs, map[string]string{"server.address": "127.0.0.1", "server.port": port, "vantage.probe.kind": "tcp"})
				noAttrs(t, root.Attrs, "url.full", "http.response.status_code")
			}
			for _, s := range r.Spans() {
				if s.ParentID != "" && s.TraceID != roots[0].TraceID && s.TraceID != roots[1].TraceID {
					t.Errorf("phase span %q is in trace %s, outside both probes", s.Name, s.TraceID)
				}
			}
		})
	}
}

// TestExportDeadEndpoint: a collector that hangs or refuses never holds up
// Export; what does not fit the queue is dropped and counted, Shutdown
// respects its deadline, and failures are logged without secrets.
func TestExportDeadEndpoint(t *testing.T) {
	const records = 2000
	const secret = "s3cret-key"
	tests := []struct {
		name      string
		endpoint  func(t *testing.T) string
		wantDrops bool // the exporter stalls: the queue must overflow
	}{
		{"hangs", func(t *testing.T) string {
			release := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
				case <-release:
				}
			}))
			t.Cleanup(srv.Close)
			t.Cleanup(func() { close(release) })
			return srv.URL
		}, true},
		{"refuses", func(t *testing.T) string { return "http://" + deadAddr(t) }, false},
		{"rejects", func(t *testing.T) string {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
			}))
			t.Cleanup(srv.Close)
			return srv.URL
		}, false},
	}
	b := newBackend(t, http.StatusOK)
	rec := probeHTTP(t, probes.HTTPSpec{URL: b.srv.URL})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := tt.endpoint(t)
			cfg := Config{
				OTLP: &OTLPConfig{Endpoint: base + "/v1/traces?api_key=" + secret, Timeout: time.Second,
					Headers: map[string]probes.Secret{"X-Api-Key": secret}},
				Zipkin: &ZipkinConfig{Endpoint: base + "/api/v2/spans?api_key=" + secret, Timeout: time.Second,
					Headers: map[string]probes.Secret{"X-Api-Key": secret}},
			}
			var logs probestest.SyncBuffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			e, err := newExporter(t.Context(), cfg, log, options{queue: 4, spanQueue: 8, batchTimeout: 10 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			for range records {
				e.Export(rec)
			}
			if took := time.Since(start); took > time.Second {
				t.Errorf("%d Export calls took %s: Export waits on the network", records, took)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
			defer cancel()
			start = time.Now()
			err = e.Shutdown(ctx)
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("Shutdown took %s with a 300ms deadline", took)
			}
			if tt.wantDrops && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Shutdown against a hanging collector: %v, want the deadline", err)
			}
			for name, st := range e.Stats() {
				if st.Queued+st.Dropped != records {
					t.Errorf("%s: queued %d + dropped %d != %d exported", name, st.Queued, st.Dropped, records)
				}
				if tt.wantDrops && st.Dropped == 0 {
					t.Errorf("%s: nothing dropped although the collector hangs", name)
				}
				if !tt.wantDrops && st.FailedSpans == 0 {
					t.Errorf("%s: no failed spans counted", name)
				}
			}
			if len(e.Stats()) != 2 {
				t.Errorf("stats of %d exporters, want 2", len(e.Stats()))
			}
			out := logs.String()
			t.Logf("stats %+v, log:\n%s", e.Stats(), out)
			if strings.Contains(out, secret) {
				t.Errorf("the log shows a secret:\n%s", out)
			}
			if tt.wantDrops && !strings.Contains(out, "span queue full") {
				t.Errorf("no log line about the full queue:\n%s", out)
			}
			if !tt.wantDrops && strings.Count(out, "span export failed") != 2 {
				t.Errorf("want one failure line per exporter:\n%s", out)
			}
			e.Export(rec) // after Shutdown: ignored, must not panic or block
		})
	}
}

// TestNewWithoutExporters: tracing off is an Exporter that does nothing;
// so is a nil one.
func TestNewWithoutExporters(t *testing.T) {
	e, err := New(t.Context(), Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var none *Exporter
	for _, x := range []*Exporter{e, none} {
		x.Export(results.Record{Check: "a"})
		if err := x.Shutdown(t.Context()); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if len(x.Stats()) != 0 {
			t.Errorf("stats %v, want none", x.Stats())
		}
	}
}

// TestNewErrors: New refuses an invalid config and an unusable ca_file.
func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"invalid", Config{OTLP: &OTLPConfig{}}, "otlp.endpoint: required"},
		{"missing ca_file", Config{OTLP: &OTLPConfig{Endpoint: "https://127.0.0.1:1/v1/traces", TLS: TLSConfig{CAFile: "/nonexistent/ca.pem"}}}, "read ca_file"},
		{"zipkin ca_file not PEM", Config{
			OTLP:   &OTLPConfig{Endpoint: "http://127.0.0.1:1/v1/traces"},
			Zipkin: &ZipkinConfig{Endpoint: "https://127.0.0.1:1/api/v2/spans", TLS: TLSConfig{CAFile: writeFile(t, "junk")}},
		}, "zipkin exporter: ca_file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := New(t.Context(), tt.cfg, testLogger(t))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: %v, want an error containing %q", err, tt.want)
			}
			if e != nil {
				t.Fatalf("New returned an exporter with its error")
			}
		})
	}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
