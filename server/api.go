package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vantageprobe/vantage/config"
	"github.com/vantageprobe/vantage/probes"
	"github.com/vantageprobe/vantage/results"
)

// Handler serves the public routes: the status page (or, with
// server.public_api, the internal overview), health, the agent API,
// /probe, /metrics unless server.public_metrics is false, and the JSON
// API's reads only with server.public_api.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for pattern, h := range s.apiReads() {
		mux.HandleFunc(pattern, s.publicAPIOnly(h))
	}
	mux.HandleFunc("GET /api/v1/agent/checks", s.agentAuth(s.agentChecks))
	mux.HandleFunc("POST /api/v1/agent/results", s.agentAuth(s.agentResults))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	metrics := s.metricsHandler()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		if !s.checks.Load().cfg.Server.MetricsPublic() {
			writeError(w, http.StatusNotFound, errors.New("/metrics is served on the admin listener (server.admin_listen); server.public_metrics is false"))
			return
		}
		metrics.ServeHTTP(w, r)
	})
	mux.HandleFunc("GET /probe", s.handleProbe)
	// The public status page (status_page), or the internal overview at /.
	for _, pattern := range []string{"/{$}", "/history", "/incidents/", "/components/", "/feed.atom", "/feed.rss",
		"/api/v2/", "/badge/", "/static/"} {
		mux.HandleFunc(pattern, s.statusPageHandler)
	}
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Errorf("no API route %s %s", r.Method, r.URL.Path))
	})
	return secureHeaders(s.rateLimited(mux))
}

// apiReads are the JSON API's reads and the internal overview: the admin
// listener serves them, the public one only with server.public_api (they
// show targets, error texts and screenshots).
func (s *Server) apiReads() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		"GET /api/v1/checks":                  s.listChecks,
		"GET /api/v1/checks/{name}":           s.getCheck,
		"GET /api/v1/checks/{name}/results":   s.checkResults,
		"GET /api/v1/results/{id}/screenshot": s.screenshot,
		"GET /api/v1/regions":                 s.listRegions,
		"GET /api/v1/alerts":                  s.listAlerts,
		"GET /api/v1/silences":                s.listSilences,
		"GET /api/v1/slo":                     s.listSLOs,
		"GET /api/v1/incidents":               s.listIncidents,
		"GET /api/v1/incidents/{id}":          s.getIncident,
		"GET /api/v1/maintenance":             s.listMaintenance,
		"GET /overview":                       s.overview,
	}
}

// errAdminOnly answers a read of the JSON API on the public listener
// without server.public_api.
var errAdminOnly = errors.New("the JSON API's reads are served on the admin listener (server.admin_listen); set server.public_api to serve them here")

// publicAPIOnly serves h on the public listener only with
// server.public_api.
func (s *Server) publicAPIOnly(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.checks.Load().cfg.Server.PublicAPI {
			writeError(w, http.StatusNotFound, errAdminOnly)
			return
		}
		h(w, r)
	}
}

// AdminHandler serves the admin routes: reload, silences, incidents,
// maintenance, the /admin view and Go's profiler (/debug/pprof/), plus the
// JSON API's reads, the overview and /metrics. With server.admin_token
// set, each needs it as a bearer token.
func (s *Server) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	for pattern, h := range s.apiReads() {
		mux.HandleFunc(pattern, h)
	}
	mux.Handle("GET /metrics", s.metricsHandler())
	mux.HandleFunc("POST /-/reload", func(w http.ResponseWriter, r *http.Request) {
		if err := s.Reload(r.Context()); err != nil {
			writeError(w, http.StatusBadRequest, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "reloaded"})
	})
	mux.HandleFunc("POST /api/v1/silences", s.addSilence)
	mux.HandleFunc("DELETE /api/v1/silences/{id}", s.deleteSilence)
	mux.HandleFunc("POST /api/v1/incidents", s.createIncident)
	mux.HandleFunc("PATCH /api/v1/incidents/{id}", s.patchIncident)
	mux.HandleFunc("POST /api/v1/incidents/{id}/updates", s.addIncidentUpdate)
	mux.HandleFunc("DELETE /api/v1/incidents/{id}", s.deleteIncident)
	mux.HandleFunc("POST /api/v1/maintenance", s.createMaintenance)
	mux.HandleFunc("DELETE /api/v1/maintenance/{id}", s.deleteMaintenance)
	mux.HandleFunc("GET /admin", s.adminView)
	// Go's profiler, for finding where the CPU and memory go under load
	// (`go tool pprof http://ADMIN/debug/pprof/profile?seconds=30`).
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return secureHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if want := s.checks.Load().adminToken; want != nil {
			if tok, ok := bearerToken(r); !ok || !hashEqual(tok, want) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="vantage admin"`)
				writeError(w, http.StatusUnauthorized, errors.New("admin token required"))
				return
			}
		}
		mux.ServeHTTP(w, r)
	}))
}

// checkJSON is a check in the API.
type checkJSON struct {
	Name            string         `json:"name"`
	Type            probes.Kind    `json:"type"`
	Target          string         `json:"target,omitempty"`
	IntervalSeconds float64        `json:"interval_seconds"`
	TimeoutSeconds  float64        `json:"timeout_seconds"`
	State           string         `json:"state"`
	LastResult      *probes.Report `json:"last_result"`
	Regions         []regionJSON   `json:"regions"`
	Uptime          map[string]any `json:"uptime,omitempty"`
	Latency         *latencyJSON   `json:"latency_seconds,omitempty"`
	NextRun         *time.Time     `json:"next_run,omitempty"`
}

type regionJSON struct {
	Region     string         `json:"region"`
	State      string         `json:"state"`
	LastResult *probes.Report `json:"last_result"`
	Uptime24h  *float64       `json:"uptime_24h,omitempty"` // in GET /api/v1/checks/{name}
}

type latencyJSON struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
}

// latestByCheck groups the newest record of each check × region by check.
func (s *Server) latestByCheck(ctx context.Context) (map[string][]results.Record, error) {
	recs, err := s.store.Latest(ctx)
	if err != nil {
		return nil, fmt.Errorf("read latest results: %w", err)
	}
	return byCheck(recs), nil
}

// byCheck groups recs by check. The store lists them by check, so each
// check's records are a run of recs, used in place (a copy each was a
// third of a GET / at 1,000 checks); a check met again later (a store
// that does not sort) gets a slice of its own.
func byCheck(recs []results.Record) map[string][]results.Record {
	out := make(map[string][]results.Record)
	for i := 0; i < len(recs); {
		j := i + 1
		for j < len(recs) && recs[j].Check == recs[i].Check {
			j++
		}
		if prev, ok := out[recs[i].Check]; ok {
			out[recs[i].Check] = append(prev[:len(prev):len(prev)], recs[i:j]...)
		} else {
			out[recs[i].Check] = recs[i:j:j]
		}
		i = j
	}
	return out
}

func describe(c config.Check, latest []results.Record, now time.Time) checkJSON {
	j := checkJSON{
		Name: c.Name, Type: c.Kind(), IntervalSeconds: c.Interval.Seconds(), TimeoutSeconds: c.Timeout.Seconds(),
		State: checkState(c, latest, now), Regions: []regionJSON{},
	}
	if !c.HideTarget {
		j.Target = c.Target()
	}
	slices.SortFunc(latest, func(a, b results.Record) int { return b.Started.Compare(a.Started) })
	for i, rec := range latest {
		rep := report(c, rec)
		if i == 0 {
			j.LastResult = &rep
		}
		st := recordState(rec)
		if !fresh(c, rec, now) {
			st = StateUnknown
		}
		j.Regions = append(j.Regions, regionJSON{Region: rec.Region, State: st, LastResult: &rep})
	}
	slices.SortFunc(j.Regions, func(a, b regionJSON) int { return strings.Compare(a.Region, b.Region) })
	return j
}

// report is rec as the API shows it. For a check with hide_target, every
// field that can carry the target is dropped: the target, the error text
// (which names addresses and URLs; the class stays), the final URL, the
// remote address, DNS answers and certificate names.
// hiddenText stands for a hide_target check's error and warning texts,
// which can name the target.
const hiddenText = "details hidden (hide_target)"

func report(c config.Check, rec results.Record) probes.Report {
	rep := rec.Report()
	if !c.HideTarget {
		return rep
	}
	rep.Target = ""
	if rep.Error != "" {
		rep.Error = hiddenText
	}
	if rep.Warning != "" {
		rep.Warning = hiddenText
	}
	if rep.HTTP != nil {
		rep.HTTP.FinalURL = ""
	}
	rep.TLS, rep.DNS, rep.TCP = nil, nil, nil
	return rep
}

func (s *Server) listChecks(w http.ResponseWriter, r *http.Request) {
	cs := s.checks.Load()
	latest, err := s.latestByCheck(r.Context())
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	now := time.Now()
	writeJSONList(w, "checks", len(cs.cfg.Checks), func(i int) any {
		c := cs.cfg.Checks[i]
		return describe(c, latest[c.Name], now)
	})
}

func (s *Server) getCheck(w http.ResponseWriter, r *http.Request) {
	c, ok := s.checks.Load().byName[r.PathValue("name")]
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Errorf("no check named %q", r.PathValue("name")))
		return
	}
	latest, err := s.latestByCheck(r.Context())
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	now := time.Now()
	j := describe(c, latest[c.Name], now)
	if err := s.addHistory(r.Context(), &j, now); err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	if next := s.sched.NextRun(c.Name, LocalRegion); !next.IsZero() {
		next = next.UTC()
		j.NextRun = &next
	}
	writeJSON(w, http.StatusOK, j)
}

// addHistory adds uptime over 24h/7d/30d and latency quantiles over 24h,
// all from rollups.
func (s *Server) addHistory(ctx context.Context, j *checkJSON, now time.Time) error {
	j.Uptime = map[string]any{}
	for _, w := range []struct {
		name string
		d    time.Duration
	}{{"24h", 24 * time.Hour}, {"7d", 7 * 24 * time.Hour}, {"30d", 30 * 24 * time.Hour}} {
		agg, err := results.Window(ctx, s.store, j.Name, "", now.Add(-w.d), now.Add(time.Minute))
		if err != nil {
			return err
		}
		if up, ok := results.Uptime([]results.Rollup{agg}); ok {
			j.Uptime[w.name] = up
		} else {
			j.Uptime[w.name] = nil // no data: unknown, not 100 %
		}
		if w.name == "24h" {
			if err := s.regionUptimes(ctx, j, now); err != nil {
				return err
			}
		}
		if w.name == "24h" && agg.Total > 0 {
			j.Latency = &latencyJSON{
				P50: agg.Hist.Quantile(0.50).Seconds(), P95: agg.Hist.Quantile(0.95).Seconds(), P99: agg.Hist.Quantile(0.99).Seconds(),
			}
		}
	}
	return nil
}

// regionUptimes adds each region's uptime over the last 24 hours.
func (s *Server) regionUptimes(ctx context.Context, j *checkJSON, now time.Time) error {
	for i := range j.Regions {
		agg, err := results.Window(ctx, s.store, j.Name, j.Regions[i].Region, now.Add(-24*time.Hour), now.Add(time.Minute))
		if err != nil {
			return err
		}
		if up, ok := results.Uptime([]results.Rollup{agg}); ok {
			j.Regions[i].Uptime24h = &up
		}
	}
	return nil
}

func (s *Server) checkResults(w http.ResponseWriter, r *http.Request) {
	c, ok := s.checks.Load().byName[r.PathValue("name")]
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Errorf("no check named %q", r.PathValue("name")))
		return
	}
	q, err := parseQuery(r, c.Name)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	recs, err := s.store.Results(r.Context(), q)
	if err != nil {
		writeError(w, http.StatusInternalServerError, fmt.Errorf("read results: %w", err))
		return
	}
	writeJSONList(w, "results", len(recs), func(i int) any { return report(c, recs[i]) })
}

func parseQuery(r *http.Request, check string) (results.Query, error) {
	v := r.URL.Query()
	q := results.Query{Check: check, Region: v.Get("region")}
	var err error
	for _, p := range []struct {
		key string
		t   *time.Time
	}{{"since", &q.Since}, {"until", &q.Until}} {
		if s := v.Get(p.key); s != "" {
			if *p.t, err = time.Parse(time.RFC3339Nano, s); err != nil {
				return q, fmt.Errorf("%s: %q is not an RFC 3339 time", p.key, s)
			}
		}
	}
	if s := v.Get("limit"); s != "" {
		if q.Limit, err = strconv.Atoi(s); err != nil || q.Limit < 1 {
			return q, fmt.Errorf("limit: %q is not a positive integer", s)
		}
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
		return q, errors.New("since must be before until")
	}
	return q, nil
}

// screenshot serves the PNG a browser check stored with a result.
func (s *Server) screenshot(w http.ResponseWriter, r *http.Request) {
	png, err := s.store.Screenshot(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, results.ErrNotFound):
		writeError(w, http.StatusNotFound, fmt.Errorf("no screenshot for result %q", r.PathValue("id")))
		return
	case err != nil:
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Content-Length", strconv.Itoa(len(png)))
	w.Header().Set("Cache-Control", "private, max-age=86400, immutable")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(png)
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if !s.ready.Load() {
		writeError(w, http.StatusServiceUnavailable, errors.New("scheduler not running"))
		return
	}
	if err := s.store.Healthy(); err != nil {
		writeError(w, http.StatusServiceUnavailable, fmt.Errorf("results store: %w", err))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // the client went away: nothing to do
}

// writeJSONList answers 200 with {"key": [item(0), …, item(n-1)]},
// indented as writeJSON indents. The items are encoded one at a time into
// one reused buffer and streamed: a list of 1,000 checks encoded whole
// and then indented took 15 MB of memory a request.
func writeJSONList(w http.ResponseWriter, key string, n int, item func(i int) any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 32<<10)
	name, _ := json.Marshal(key)
	_, _ = fmt.Fprintf(bw, "{\n  %s: [", name)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("    ", "  ")
	for i := range n {
		buf.Reset()
		if err := enc.Encode(item(i)); err != nil {
			// Cannot happen for the API's types. The status is sent: abort
			// the connection, so that no client takes a cut list for whole.
			panic(http.ErrAbortHandler)
		}
		if i > 0 {
			_ = bw.WriteByte(',')
		}
		_, _ = bw.WriteString("\n    ")
		if _, err := bw.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))); err != nil {
			return // the client went away
		}
	}
	if n > 0 {
		_, _ = bw.WriteString("\n  ")
	}
	_, _ = bw.WriteString("]\n}\n")
	_ = bw.Flush()
}

func writeError(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, map[string]string{"error": err.Error()})
}
