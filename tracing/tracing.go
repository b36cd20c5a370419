// Package tracing exports one span tree per probe result to an
// OpenTelemetry (OTLP/HTTP) collector and to Zipkin, so that a synthetic
// probe shows up as the root of the trace of the request it made.
//
// An HTTP probe sends a sampled traceparent whose trace id is the record's
// TraceID and whose parent span id is probes.ProbeSpanID(TraceID). The
// probe span exported here has exactly those ids, so the backend's server
// span is its child. Spans are built after the fact, from the stored
// record: a client span for the probe and one child per phase.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/zipkin"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/vantageprobe/vantage/results"
)

// Exporter names, as in Stats.
const (
	NameOTLP   = "otlp"
	NameZipkin = "zipkin"
)

const scopeName = "github.com/vantageprobe/vantage/tracing"

// dropLogInterval is how often, at most, a full queue is logged.
const dropLogInterval = time.Minute

// options are the sizes of the queues; tests make them small.
type options struct {
	queue        int           // records waiting per exporter
	spanQueue    int           // spans waiting in the batch processor per exporter
	batchTimeout time.Duration // longest a span waits for its batch
}

func defaultOptions() options {
	return options{queue: 1024, spanQueue: 2048, batchTimeout: 2 * time.Second}
}

// Exporter turns stored results into spans and exports them in the
// background. Its methods are safe for concurrent use; a nil *Exporter
// exports nothing.
type Exporter struct {
	sinks []*sink
}

// Stats are the counts of one exporter since New.
type Stats struct {
	Queued      uint64 // records accepted by Export
	Dropped     uint64 // records dropped by Export because the queue was full
	FailedSpans uint64 // spans the collector did not take (logged)
}

// New starts the exporters cfg configures, each with its own queue, worker
// and batching span processor, so that a slow Zipkin does not hold up OTLP.
// ctx bounds the setup only; Shutdown stops the exporters. With no
// exporter configured, New returns an Exporter that exports nothing.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*Exporter, error) {
	return newExporter(ctx, cfg, log, defaultOptions())
}

func newExporter(ctx context.Context, cfg Config, log *slog.Logger, o options) (*Exporter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	res := newResource(cfg)
	e := &Exporter{}
	if c := cfg.OTLP; c != nil {
		exp, err := newOTLP(*c)
		if err != nil {
			return nil, fmt.Errorf("otlp exporter: %w", err)
		}
		e.sinks = append(e.sinks, startSink(NameOTLP, c.Endpoint, exp, res, log, o))
	}
	if c := cfg.Zipkin; c != nil {
		exp, err := newZipkin(*c)
		if err != nil {
			e.stopNow()
			return nil, fmt.Errorf("zipkin exporter: %w", err)
		}
		e.sinks = append(e.sinks, startSink(NameZipkin, c.Endpoint, exp, res, log, o))
	}
	return e, nil
}

func newOTLP(c OTLPConfig) (sdktrace.SpanExporter, error) {
	client, err := httpClient(c.Timeout, c.TLS)
	if err != nil {
		return nil, err
	}
	return newOTLPExporter(c.Endpoint, client, revealHeaders(c.Headers), c.Compression != CompressionNone), nil
}

func newZipkin(c ZipkinConfig) (sdktrace.SpanExporter, error) {
	client, err := httpClient(c.Timeout, c.TLS)
	if err != nil {
		return nil, err
	}
	return zipkin.New(c.Endpoint, zipkin.WithClient(client), zipkin.WithHeaders(revealHeaders(c.Headers)))
}

// newResource describes the exporting service: service.name and the
// configured attributes (no environment variables, no host detection).
func newResource(cfg Config) *resource.Resource {
	name := cfg.ServiceName
	if name == "" {
		name = DefaultServiceName
	}
	keys := make([]string, 0, len(cfg.ResourceAttributes))
	for k := range cfg.ResourceAttributes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	attrs := []attribute.KeyValue{attribute.String("service.name", name)}
	for _, k := range keys {
		attrs = append(attrs, attribute.String(k, cfg.ResourceAttributes[k]))
	}
	return resource.NewSchemaless(attrs...)
}

// Export queues the span tree of rec for every exporter. It never waits:
// when an exporter's queue is full the record is dropped for it, counted in
// Stats, and a warning is logged (at most once a minute).
// Records exported during or after Shutdown are discarded.
func (e *Exporter) Export(rec results.Record) {
	if e == nil || len(e.sinks) == 0 {
		return
	}
	rec.Screenshot, rec.Detail = nil, nil // not exported; do not hold them in the queue
	for _, s := range e.sinks {
		s.offer(rec)
	}
}

// Stats returns the counts of every configured exporter, by name.
func (e *Exporter) Stats() map[string]Stats {
	out := map[string]Stats{}
	if e == nil {
		return out
	}
	for _, s := range e.sinks {
		out[s.name] = Stats{Queued: s.queued.Load(), Dropped: s.dropped.Load(), FailedSpans: s.exp.failed.Load()}
	}
	return out
}

// Shutdown stops accepting records, exports what is queued and stops the
// exporters, all of them at once. When ctx ends first, it returns ctx's
// error and what is still queued is abandoned.
func (e *Exporter) Shutdown(ctx context.Context) error {
	if e == nil {
		return nil
	}
	errs := make([]error, len(e.sinks))
	var wg sync.WaitGroup
	for i, s := range e.sinks {
		wg.Go(func() {
			if err := s.shutdown(ctx); err != nil {
				errs[i] = fmt.Errorf("shut down %s exporter: %w", s.name, err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// stopNow stops the exporters started so far, without waiting.
func (e *Exporter) stopNow() {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = e.Shutdown(ctx) // nothing was exported yet
}

// sink is one exporter: a queue of records, the worker that turns them
// into spans, and a tracer provider whose batch processor exports them.
type sink struct {
	name     string
	log      *slog.Logger
	provider *sdktrace.TracerProvider
	tracer   trace.Tracer
	exp      *loggedExporter

	queue    chan results.Record
	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}

	queued     atomic.Uint64
	dropped    atomic.Uint64
	dropLogged atomic.Int64 // when "queue full" was last logged, Unix ns
}

func startSink(name, endpoint string, exp sdktrace.SpanExporter, res *resource.Resource, log *slog.Logger, o options) *sink {
	log = log.With("kind", name, "target", redactURL(endpoint))
	le := &loggedExporter{SpanExporter: exp, endpoint: endpoint, log: log}
	// The processor blocks the worker (never Export's caller) when its own
	// queue is full, so every record that is not exported is counted in
	// Export's drops rather than lost silently inside the SDK.
	provider := sdktrace.NewTracerProvider(
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.AlwaysSample()),
		sdktrace.WithIDGenerator(idGenerator{}),
		sdktrace.WithBatcher(le,
			sdktrace.WithBlocking(),
			sdktrace.WithMaxQueueSize(o.spanQueue),
			sdktrace.WithMaxExportBatchSize(min(512, o.spanQueue)),
			sdktrace.WithBatchTimeout(o.batchTimeout),
		),
	)
	s := &sink{
		name: name, log: log, provider: provider, tracer: provider.Tracer(scopeName), exp: le,
		queue: make(chan results.Record, o.queue), stop: make(chan struct{}), done: make(chan struct{}),
	}
	go s.run()
	log.Info("exporting probe spans")
	return s
}

// offer queues rec without waiting.
func (s *sink) offer(rec results.Record) {
	select {
	case <-s.stop:
		return
	default:
	}
	select {
	case s.queue <- rec:
		s.queued.Add(1)
	default:
		s.dropped.Add(1)
		now, last := time.Now().UnixNano(), s.dropLogged.Load()
		if now-last >= int64(dropLogInterval) && s.dropLogged.CompareAndSwap(last, now) {
			s.log.Warn("span queue full, dropping records")
		}
	}
}

// run turns queued records into spans until stop, then drains the queue.
func (s *sink) run() {
	defer close(s.done)
	for {
		select {
		case rec := <-s.queue:
			s.emit(rec)
		case <-s.stop:
			for {
				select {
				case rec := <-s.queue:
					s.emit(rec)
				default:
					return
				}
			}
		}
	}
}

// emit starts and ends the spans of rec with their recorded times.
func (s *sink) emit(rec results.Record) {
	p := plan(rec)
	ctx, root := s.tracer.Start(withIDs(context.Background(), p.ids), p.name,
		trace.WithNewRoot(),
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithTimestamp(p.start),
		trace.WithAttributes(p.attrs...),
	)
	for _, ph := range p.phases {
		_, span := s.tracer.Start(ctx, ph.name,
			trace.WithSpanKind(trace.SpanKindInternal),
			trace.WithTimestamp(ph.start),
			trace.WithAttributes(keyPhase.String(ph.name)),
		)
		span.End(trace.WithTimestamp(ph.end))
	}
	if p.status == codes.Error {
		root.SetStatus(codes.Error, p.statusDesc)
	}
	root.End(trace.WithTimestamp(p.end))
}

// shutdown stops the worker, then flushes and stops the provider. When ctx
// ends while the worker still waits for the processor, the provider is
// shut down anyway: that releases the worker, which then drops the rest.
func (s *sink) shutdown(ctx context.Context) error {
	s.stopOnce.Do(func() { close(s.stop) })
	select {
	case <-s.done:
	case <-ctx.Done():
	}
	// The batch processor stops its exporter only after its last export,
	// which may be retrying a dead collector for a while yet: when ctx
	// ends, stop the exporter directly, which ends that export.
	defer context.AfterFunc(ctx, func() { _ = s.exp.SpanExporter.Shutdown(context.Background()) })()
	err := s.provider.Shutdown(ctx)
	if ctx.Err() != nil {
		s.exp.settle(time.Second) // the export just cut counts its spans before Stats is read
	}
	return err
}

// loggedExporter logs failed exports with slog, once per transition from
// working to failing and back, and counts the spans lost. It reports
// success to the SDK, which would otherwise print the error again through
// OpenTelemetry's global error handler.
type loggedExporter struct {
	sdktrace.SpanExporter
	endpoint string
	log      *slog.Logger
	failing  atomic.Bool
	warned   atomic.Bool // a collector's warning was logged
	failed   atomic.Uint64
	busy     atomic.Int64 // exports in flight
}

// settle waits until no export is in flight, for limit at most.
func (l *loggedExporter) settle(limit time.Duration) {
	for deadline := time.Now().Add(limit); l.busy.Load() > 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
}

func (l *loggedExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	l.busy.Add(1)
	defer l.busy.Add(-1)
	err := l.SpanExporter.ExportSpans(ctx, spans)
	var pe *partialError
	partial := errors.As(err, &pe)
	if partial && pe.rejected <= 0 {
		// Every span taken, with a warning: logged, once, not a failure.
		if !l.warned.Swap(true) {
			l.log.Warn("span export warning", "err", scrub(err.Error(), l.endpoint))
		}
		err = nil
	}
	if err != nil {
		lost := int64(len(spans))
		if partial {
			lost = min(pe.rejected, lost) // the collector took the rest
		}
		l.failed.Add(uint64(lost))
		if !l.failing.Swap(true) {
			l.log.Warn("span export failed", "err", scrub(err.Error(), l.endpoint))
		}
		return nil
	}
	if l.failing.Swap(false) {
		l.log.Info("span export recovered")
	}
	return nil
}
