package server

import (
	"bufio"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// metricsHandler serves /metrics. A scraper that asks for protobuf (the
// only format with native histograms) gets client_golang's exposition of
// both registries; the text format, which most scrapes use, is written
// directly from the series table, because building a client_golang metric
// per series costs ~70 µs per check × region at 10,000 checks.
func (s *Server) metricsHandler() http.Handler {
	full := promhttp.HandlerFor(prometheus.Gatherers{s.metrics.core, s.metrics.checks, prometheus.GathererFunc(s.metrics.gatherAlerts)},
		promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelError)})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if expfmt.Negotiate(r.Header).FormatType() != expfmt.TypeTextPlain {
			full.ServeHTTP(w, r)
			return
		}
		s.serveText(w, r)
	})
}

// parallelGzipSeries is the number of check × regions above which the
// text exposition is compressed on two cores (memberWriter): at 2,000 it
// is about 5 MB. Below, one gzip stream compresses it as it is written,
// holding one compressor (about 1 MB) and no chunks: at 1,000 checks
// scraped every 2 s the chunks and the second compressor stayed in their
// pools between scrapes, a third of the server's live heap.
const parallelGzipSeries = 2000

// serveText writes the text exposition (format 0.0.4), gzipped when the
// scraper accepts it (Prometheus always does); a large one is rendered
// and compressed at once, on two cores (see memberWriter).
func (s *Server) serveText(w http.ResponseWriter, r *http.Request) {
	core, err := prometheus.Gatherers{s.metrics.core, prometheus.GathererFunc(s.metrics.gatherAlerts)}.Gather()
	if err != nil {
		s.log.Error("gather metrics", "err", err)
		http.Error(w, "gather metrics: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", string(expfmt.NewFormat(expfmt.TypeTextPlain)))
	h.Add("Vary", "Accept-Encoding")
	if !acceptsGzip(r) {
		s.renderText(w, core)
		return
	}
	h.Set("Content-Encoding", "gzip")
	if s.checks.Load().series <= parallelGzipSeries {
		gz := pooledGzip(&s.gzips, w)
		s.renderText(gz, core)
		_ = gz.Close() // an error means the scraper went away
		putGzip(&s.gzips, gz)
		return
	}
	mw := newMemberWriter(w, &s.gzips, &s.chunks)
	s.renderText(mw, core)
	_ = mw.Close() // an error means the scraper went away
}

// textBuffer is the size of the chunks the text exposition is written in.
const textBuffer = 64 << 10

// renderText writes the core registry's families, then the per-check ones.
func (s *Server) renderText(w io.Writer, core []*dto.MetricFamily) {
	bw := bufio.NewWriterSize(w, textBuffer)
	defer bw.Flush()
	for _, mf := range core {
		if _, err := expfmt.MetricFamilyToText(bw, mf); err != nil {
			return // the scraper went away
		}
	}
	s.writeChecks(bw)
}

func acceptsGzip(r *http.Request) bool {
	for part := range strings.SplitSeq(r.Header.Get("Accept-Encoding"), ",") {
		if enc, _, _ := strings.Cut(strings.TrimSpace(part), ";"); enc == "gzip" {
			return true
		}
	}
	return false
}

// leLabels are the le values of durationBuckets as the text format writes them.
var leLabels = func() [len(durationBuckets)]string {
	var out [len(durationBuckets)]string
	for i, le := range durationBuckets {
		out[i] = strconv.FormatFloat(le, 'g', -1, 64)
	}
	return out
}()

// chunk is how many check × regions are formatted under one read lock of
// the series table; writing to the scraper happens outside the lock, so a
// slow scraper never holds up recording.
const chunk = 256

// textWriter formats samples into a scratch buffer.
type textWriter struct {
	w   *bufio.Writer
	buf []byte
	// the HELP and TYPE lines of the family being written, put out with
	// its first sample, so a family without samples is left out.
	name, help, typ string
	// the family and labels emit writes samples of.
	metric, extra, labels string
}

// emit writes one sample of the current family and labels.
func (t *textWriter) emit(extraValue string, v float64) {
	t.sample(t.metric, t.labels, t.extra, extraValue, v)
}

// header starts a family.
func (t *textWriter) header(name, help, typ string) { t.name, t.help, t.typ = name, help, typ }

func (t *textWriter) writeHeader() {
	name, help, typ := t.name, t.help, t.typ
	t.name = ""
	t.buf = append(t.buf, "# HELP "...)
	t.buf = append(t.buf, name...)
	t.buf = append(t.buf, ' ')
	t.buf = append(t.buf, help...)
	t.buf = append(t.buf, "\n# TYPE "...)
	t.buf = append(t.buf, name...)
	t.buf = append(t.buf, ' ')
	t.buf = append(t.buf, typ...)
	t.buf = append(t.buf, '\n')
}

// sample appends `name{labels,extra="value"} v`.
func (t *textWriter) sample(name, labels, extra, extraValue string, v float64) {
	if t.name != "" {
		t.writeHeader()
	}
	t.buf = append(t.buf, name...)
	t.buf = append(t.buf, '{')
	t.buf = append(t.buf, labels...)
	if extra != "" {
		t.buf = append(t.buf, ',')
		t.buf = append(t.buf, extra...)
		t.buf = append(t.buf, `="`...)
		t.buf = append(t.buf, escapeLabel(extraValue)...)
		t.buf = append(t.buf, '"')
	}
	t.buf = append(t.buf, "} "...)
	t.buf = appendValue(t.buf, v)
	t.buf = append(t.buf, '\n')
}

// flush hands the scratch buffer to the writer.
func (t *textWriter) flush() error {
	_, err := t.w.Write(t.buf)
	t.buf = t.buf[:0]
	return err
}

// appendValue formats v as the text format expects, integers without an
// exponent or fraction.
func appendValue(b []byte, v float64) []byte {
	switch {
	case v == math.Trunc(v) && math.Abs(v) < 1<<53:
		return strconv.AppendInt(b, int64(v), 10)
	case math.IsInf(v, 1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	case math.IsNaN(v):
		return append(b, "NaN"...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// writeChecks writes every per-check family for the configured checks.
func (s *Server) writeChecks(w *bufio.Writer) {
	cs := s.checks.Load()
	view := s.view(time.Now())
	t := &s.series
	var pairs []*series
	t.mu.RLock()
	for _, chk := range cs.cfg.Checks {
		for _, region := range chk.Regions {
			if e, ok := t.m[[2]string{chk.Name, region}]; ok {
				pairs = append(pairs, e)
			}
		}
	}
	t.mu.RUnlock()
	tw := &textWriter{w: w, buf: make([]byte, 0, 64<<10)}
	// each runs fn on every pair, a chunk at a time under the read lock.
	each := func(fn func(e *series)) error {
		for i := 0; i < len(pairs); i += chunk {
			t.mu.RLock()
			for _, e := range pairs[i:min(i+chunk, len(pairs))] {
				fn(e)
			}
			t.mu.RUnlock()
			if err := tw.flush(); err != nil {
				return err
			}
		}
		return nil
	}
	emit := tw.emit // one method value for every sample, not a closure per series
	for _, f := range resultFamilies {
		tw.header(f.name, f.help, "gauge")
		tw.metric, tw.extra = f.name, f.extra
		err := each(func(e *series) {
			if e.hasResult {
				tw.labels = e.typed
				f.values(e, emit)
			}
		})
		if err != nil {
			return
		}
	}
	tw.header("vantage_probes_total", "Probe results recorded, by check, region and result (success or failure).", "counter")
	if each(func(e *series) {
		tw.sample("vantage_probes_total", e.labels, "result", "success", float64(e.ok))
		tw.sample("vantage_probes_total", e.labels, "result", "failure", float64(e.fail))
	}) != nil {
		return
	}
	tw.header("vantage_probe_duration_seconds", "Duration of every recorded probe.", "histogram")
	if each(func(e *series) {
		var n uint64
		for i, c := range e.buckets {
			n += c
			tw.sample("vantage_probe_duration_seconds_bucket", e.labels, "le", leLabels[i], float64(n))
		}
		total := e.ok + e.fail
		tw.sample("vantage_probe_duration_seconds_bucket", e.labels, "le", "+Inf", float64(total))
		tw.sample("vantage_probe_duration_seconds_sum", e.labels, "", "", e.sum)
		tw.sample("vantage_probe_duration_seconds_count", e.labels, "", "", float64(total))
	}) != nil {
		return
	}
	for _, f := range checkFamilies {
		tw.header(f.name, f.help, "gauge")
		tw.metric, tw.extra = f.name, f.extra
		for i, chk := range cs.cfg.Checks {
			tw.labels = cs.checkLabels[i]
			f.values(view, chk.Name, emit)
			if len(tw.buf) > 32<<10 && tw.flush() != nil {
				return
			}
		}
		if tw.flush() != nil {
			return
		}
	}
}
