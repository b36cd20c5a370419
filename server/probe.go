package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"

	"github.com/vantageprobe/vantage/config"
	"github.com/vantageprobe/vantage/probes"
)

// Timeouts of /probe, as blackbox_exporter has them.
const (
	// probeTimeoutOffset is left of the scraper's timeout for the answer
	// to travel back.
	probeTimeoutOffset = 500 * time.Millisecond
	// minProbeTimeout is the least time a probe gets.
	minProbeTimeout = 100 * time.Millisecond
)

// probeLimiter caps the concurrent /probe requests; it is sized when the
// server starts (a reload does not resize it).
type probeLimiter chan struct{}

// handleProbe serves GET /probe?module=M&target=T: one fresh probe of a
// blackbox_exporter module against the target, answered as metrics in
// blackbox_exporter's names. Only configured modules run (a request cannot
// add headers, bodies or credentials), every connection passes the
// endpoint's guard, and an optional token or password is required.
func (s *Server) handleProbe(w http.ResponseWriter, r *http.Request) {
	pe := s.checks.Load().cfg.ProbeEndpoint
	if !pe.Enabled || pe.Modules == nil {
		writeError(w, http.StatusNotFound, errors.New("the /probe endpoint is not enabled (probe_endpoint.enabled)"))
		return
	}
	authed := probeAuthorized(pe.Auth, r)
	if pe.Auth.Required() && !authed {
		w.Header().Set("WWW-Authenticate", probeChallenge(pe.Auth))
		writeError(w, http.StatusUnauthorized, errors.New("authentication required"))
		return
	}
	q := r.URL.Query()
	name := q.Get("module")
	if name == "" {
		name = "http_2xx" // blackbox_exporter's default
	}
	mod, ok := pe.Modules.Modules[name]
	if !ok {
		writeError(w, http.StatusBadRequest, fmt.Errorf("unknown module %q", name))
		return
	}
	target := q.Get("target")
	if target == "" {
		writeError(w, http.StatusBadRequest, errors.New("target parameter is missing"))
		return
	}
	debug := q.Get("debug") == "true"
	if debug && !(pe.Auth.Required() && authed) {
		writeError(w, http.StatusForbidden, errors.New("debug output is only for authenticated callers (set probe_endpoint.auth)"))
		return
	}
	timeout, err := probeTimeout(r, mod.Timeout)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	// The answer may come later than the listener's write timeout allows.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(timeout + 5*time.Second))
	select {
	case s.probeSlots <- struct{}{}:
		defer func() { <-s.probeSlots }()
	case <-ctx.Done():
		writeError(w, http.StatusServiceUnavailable, fmt.Errorf("%d probes already running (probe_endpoint.max_concurrent)", cap(s.probeSlots)))
		return
	}
	res, err := probeOnce(ctx, mod, target, pe.Guard)
	if err != nil {
		s.log.Warn("probe endpoint: prober failed", "kind", mod.Kind, "err", err)
		writeError(w, http.StatusInternalServerError, fmt.Errorf("probe: %w", err))
		return
	}
	reg := prometheus.NewRegistry()
	registerBlackbox(reg, mod, res)
	if debug {
		writeProbeDebug(w, name, mod, res, reg)
		return
	}
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(w, r)
}

// probeOnce runs one probe of mod against target. A target the module
// cannot probe at all (not host:port, credentials in the URL …) is a
// failed probe, as blackbox_exporter answers it, not a bad request.
func probeOnce(ctx context.Context, mod config.BlackboxModule, target string, guard *probes.Guard) (probes.Result, error) {
	prober, err := mod.Prober(target, probes.WithGuard(guard))
	if err != nil {
		return probes.Result{Kind: mod.Kind, Target: target, Started: time.Now(), Err: fmt.Errorf("target %q: %w", target, err)}, nil
	}
	return prober.Probe(ctx)
}

// probeTimeout is the module's timeout, bounded by the scraper's
// X-Prometheus-Scrape-Timeout-Seconds less an offset (120 s without one).
func probeTimeout(r *http.Request, module time.Duration) (time.Duration, error) {
	limit := config.DefaultProbeTimeout
	if v := r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds"); v != "" {
		secs, err := strconv.ParseFloat(v, 64)
		if err != nil || secs <= 0 || secs > 1e6 {
			return 0, fmt.Errorf("X-Prometheus-Scrape-Timeout-Seconds %q is not a positive number of seconds", v)
		}
		limit = time.Duration(secs * float64(time.Second))
	}
	limit = max(limit-probeTimeoutOffset, minProbeTimeout)
	if module > 0 && module < limit {
		return module, nil
	}
	return limit, nil
}

// probeAuthorized reports whether r carries a configured credential,
// compared in constant time.
func probeAuthorized(a config.ProbeAuth, r *http.Request) bool {
	if a.BearerToken != "" {
		if tok, ok := bearerToken(r); ok && secretEqual(tok, a.BearerToken.Reveal()) {
			return true
		}
	}
	if b := a.BasicAuth; b != nil {
		user, pass, ok := r.BasicAuth()
		u, p := secretEqual(user, b.Username), secretEqual(pass, b.Password.Reveal())
		if ok && u && p {
			return true
		}
	}
	return false
}

func probeChallenge(a config.ProbeAuth) string {
	if a.BasicAuth != nil {
		return `Basic realm="vantage probe", charset="UTF-8"`
	}
	return `Bearer realm="vantage probe"`
}

// writeProbeDebug answers debug=true: the probe's result, the metrics it
// would have returned and the module, as text.
func writeProbeDebug(w http.ResponseWriter, name string, mod config.BlackboxModule, res probes.Result, reg *prometheus.Registry) {
	var b bytes.Buffer
	report, _ := json.MarshalIndent(probes.NewReport(name, res), "", "  ")
	fmt.Fprintf(&b, "Probe result:\n%s\n\nMetrics that would have been returned:\n", report)
	if mfs, err := reg.Gather(); err == nil {
		for _, mf := range mfs {
			_, _ = expfmt.MetricFamilyToText(&b, mf)
		}
	}
	fmt.Fprintf(&b, "\nModule %s: prober %s, timeout %s\n", name, mod.Kind, mod.Timeout)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write(b.Bytes())
}
