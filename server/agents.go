package server

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vantageprobe/vantage/config"
	"github.com/vantageprobe/vantage/probes"
	"github.com/vantageprobe/vantage/results"
)

// Agent API limits.
const (
	MaxIngestBytes = 10 << 20        // a larger batch is refused with 413
	MaxFutureSkew  = 5 * time.Minute // results stamped further ahead are refused
	maxBatch       = 50000
)

// agentStatus is what the server knows of one region's agent.
type agentStatus struct {
	LastSeen     time.Time
	Version      string
	Skew         time.Duration // agent clock − server clock
	SpoolDepth   int64
	SpoolDropped int64 // results the agent's full spool dropped since it started
}

// agents keeps the status of every agent, by region.
type agents struct {
	mu     sync.Mutex
	status map[string]agentStatus
}

func (a *agents) seen(region string, update func(*agentStatus)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.status == nil {
		a.status = map[string]agentStatus{}
	}
	st := a.status[region]
	update(&st)
	a.status[region] = st
}

func (a *agents) get(region string) (agentStatus, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	st, ok := a.status[region]
	return st, ok
}

// authenticate returns the region whose token the request carries. Every
// token is compared, in constant time, as a fixed-length hash.
func authenticate(cfg *config.Config, r *http.Request) (string, bool) {
	tok, ok := bearerToken(r)
	if !ok {
		return "", false
	}
	region, found := "", 0
	for _, reg := range cfg.Regions {
		if reg.Token != "" && secretEqual(tok, reg.Token.Reveal()) {
			region, found = reg.Name, found+1
		}
	}
	return region, found == 1
}

// agentAuth wraps an agent route: 401 without a valid token.
func (s *Server) agentAuth(next func(w http.ResponseWriter, r *http.Request, cs *checkSet, region string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cs := s.checks.Load()
		region, ok := authenticate(cs.cfg, r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="vantage-agent"`)
			writeError(w, http.StatusUnauthorized, errors.New("missing or unknown agent token"))
			return
		}
		s.agents.seen(region, func(st *agentStatus) {
			st.LastSeen = time.Now()
			st.Version = r.Header.Get("User-Agent")
		})
		next(w, r, cs, region)
	}
}

// agentChecks serves the region's assignment, with an ETag so that an
// unchanged assignment costs a 304.
func (s *Server) agentChecks(w http.ResponseWriter, r *http.Request, cs *checkSet, region string) {
	doc, err := cs.cfg.Assignment(region)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	sum := sha256.Sum256(doc)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "no-cache")
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write(doc)
}

// IngestBatch is what an agent pushes.
type IngestBatch struct {
	Agent   AgentInfo        `json:"agent"`
	Results []results.Record `json:"results"`
}

// AgentInfo describes the pushing agent.
type AgentInfo struct {
	Version      string    `json:"version"`
	Now          time.Time `json:"now"` // the agent's clock when it sent the batch
	SpoolDepth   int64     `json:"spool_depth"`
	SpoolDropped int64     `json:"spool_dropped"`
}

// IngestResponse answers a push.
type IngestResponse struct {
	Accepted    int     `json:"accepted"`     // stored (a duplicate id is stored once)
	Ignored     int     `json:"ignored"`      // checks no longer assigned to the region
	Future      int     `json:"future"`       // stamped more than 5 minutes ahead: refused
	SkewSeconds float64 `json:"skew_seconds"` // agent clock − server clock
}

// agentResults stores a batch: all of it or, on any error, nothing.
func (s *Server) agentResults(w http.ResponseWriter, r *http.Request, cs *checkSet, region string) {
	var b IngestBatch
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxIngestBytes))
	dec.DisallowUnknownFields()
	if err := decodeOne(dec, &b); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Errorf("batch larger than %d bytes", MaxIngestBytes))
			return
		}
		writeError(w, http.StatusBadRequest, fmt.Errorf("malformed batch: %w", err))
		return
	}
	now := time.Now()
	keep, resp, err := sortBatch(cs, region, b.Results, now)
	if err != nil {
		code := http.StatusBadRequest
		if errors.Is(err, errWrongRegion) {
			code = http.StatusForbidden
		}
		writeError(w, code, err)
		return
	}
	// Answer only once the batch is committed: the agent deletes what the
	// server acknowledged, so an acknowledged result must survive a crash.
	// A full queue is answered at once (503): the agent keeps the batch in
	// its spool and retries.
	if q := s.store.QueueSize(); len(keep) > q {
		// It could never fit; 413 makes the agent split it.
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Errorf("batch of %d results: the results queue holds %d", len(keep), q))
		return
	}
	// While commits fail, queueing the batch would only fill the queue
	// with copies of it at every retry: refuse it whole.
	err = s.store.Healthy()
	if err == nil {
		err = s.store.TryWrite(keep...)
	}
	if err == nil {
		err = s.store.Flush(r.Context())
	}
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, fmt.Errorf("store results: %w", err))
		return
	}
	for _, rec := range keep {
		s.observe(rec, nil)
	}
	if !b.Agent.Now.IsZero() {
		resp.SkewSeconds = b.Agent.Now.Sub(now).Seconds()
	}
	s.agents.seen(region, func(st *agentStatus) {
		st.Skew, st.SpoolDepth = time.Duration(resp.SkewSeconds*float64(time.Second)), b.Agent.SpoolDepth
		st.SpoolDropped = b.Agent.SpoolDropped
		if b.Agent.Version != "" {
			st.Version = b.Agent.Version
		}
	})
	writeJSON(w, http.StatusOK, resp)
}

var errWrongRegion = errors.New("wrong region")

// sortBatch validates every record (any invalid one refuses the batch) and
// keeps those of checks the region probes and not stamped in the future.
func sortBatch(cs *checkSet, region string, recs []results.Record, now time.Time) ([]results.Record, IngestResponse, error) {
	var resp IngestResponse
	if len(recs) > maxBatch {
		return nil, resp, fmt.Errorf("batch of %d results: at most %d", len(recs), maxBatch)
	}
	keep := make([]results.Record, 0, len(recs))
	for i, rec := range recs {
		if err := validRecord(rec); err != nil {
			return nil, resp, fmt.Errorf("results[%d]: %w", i, err)
		}
		if rec.Region != region {
			return nil, resp, fmt.Errorf("results[%d]: region %q, but the token is %q's: %w", i, rec.Region, region, errWrongRegion)
		}
		c, ok := cs.byName[rec.Check]
		switch {
		case !ok || !c.InRegion(region):
			resp.Ignored++
		case rec.Started.After(now.Add(MaxFutureSkew)):
			resp.Future++
		default:
			rec.Started = rec.Started.UTC()
			keep = append(keep, rec)
		}
	}
	resp.Accepted = len(keep)
	return keep, resp, nil
}

var kinds = []probes.Kind{probes.KindHTTP, probes.KindTCP, probes.KindDNS, probes.KindTLS, probes.KindBrowser}

func validRecord(rec results.Record) error {
	switch {
	case len(rec.ID) < 16 || len(rec.ID) > 64 || strings.Trim(rec.ID, "0123456789abcdef") != "":
		return fmt.Errorf("id %q: want 16-64 lower-case hex digits", rec.ID)
	case rec.Check == "" || rec.Region == "":
		return errors.New("check and region are required")
	case !slices.Contains(kinds, rec.Kind):
		return fmt.Errorf("kind %q is not a probe kind", rec.Kind)
	case rec.Started.IsZero():
		return errors.New("started is required")
	case rec.Started.Year() < 1700: // the store's range (a later one than now+5 min is refused as future)
		return fmt.Errorf("started %s is out of range", rec.Started.Format(time.RFC3339))
	case rec.Duration < 0:
		return errors.New("duration must not be negative")
	}
	return nil
}

// regionJSON is a region in GET /api/v1/regions.
type regionInfo struct {
	Name           string     `json:"name"`
	Kind           string     `json:"kind"` // "server" or "agent"
	Online         bool       `json:"online"`
	LastSeen       *time.Time `json:"last_seen,omitempty"`
	AgentVersion   string     `json:"agent_version,omitempty"`
	SkewSeconds    float64    `json:"clock_skew_seconds"`
	SpoolDepth     int64      `json:"spool_depth"`
	SpoolDropped   int64      `json:"spool_dropped"`
	ChecksAssigned int        `json:"checks_assigned"`
}

// agentOffline is how long an agent may stay silent before it is offline:
// it pulls its assignment every 15 s.
const agentOffline = time.Minute

func (s *Server) listRegions(w http.ResponseWriter, r *http.Request) {
	cfg := s.checks.Load().cfg
	now := time.Now()
	out := make([]regionInfo, 0, len(cfg.Regions))
	for _, reg := range cfg.Regions {
		ri := regionInfo{Name: reg.Name, Kind: "agent"}
		for _, c := range cfg.Checks {
			if c.InRegion(reg.Name) {
				ri.ChecksAssigned++
			}
		}
		if reg.Name == LocalRegion {
			ri.Kind, ri.Online = "server", s.ready.Load()
		} else if st, ok := s.agents.get(reg.Name); ok {
			seen := st.LastSeen.UTC()
			ri.LastSeen, ri.Online = &seen, now.Sub(st.LastSeen) < agentOffline
			ri.AgentVersion, ri.SkewSeconds, ri.SpoolDepth, ri.SpoolDropped = st.Version, st.Skew.Seconds(), st.SpoolDepth, st.SpoolDropped
		}
		out = append(out, ri)
	}
	writeJSON(w, http.StatusOK, map[string]any{"regions": out})
}
