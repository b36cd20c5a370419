package server

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/vantageprobe/vantage/alerts"
	"github.com/vantageprobe/vantage/config"
	"github.com/vantageprobe/vantage/results"
	"github.com/vantageprobe/vantage/results/sqlite"
)

// listAlerts serves GET /api/v1/alerts: pending and firing alerts.
func (s *Server) listAlerts(w http.ResponseWriter, _ *http.Request) {
	out := []alerts.AlertView{}
	if eng := s.engine(); eng != nil {
		out = append(out, eng.Alerts()...)
	}
	writeJSON(w, http.StatusOK, map[string]any{"alerts": out})
}

// listSilences serves GET /api/v1/silences.
func (s *Server) listSilences(w http.ResponseWriter, _ *http.Request) {
	out := []alerts.Silence{}
	if eng := s.engine(); eng != nil {
		out = append(out, eng.Silences()...)
	}
	writeJSON(w, http.StatusOK, map[string]any{"silences": out})
}

// addSilence serves POST /api/v1/silences on the admin listener.
func (s *Server) addSilence(w http.ResponseWriter, r *http.Request) {
	eng := s.engine()
	if eng == nil {
		writeError(w, http.StatusServiceUnavailable, errors.New("alerting is not running"))
		return
	}
	var sil alerts.Silence
	if err := decodeBody(w, r, &sil); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("silence: %w", err))
		return
	}
	sil.ID = ""
	created, err := eng.AddSilence(r.Context(), sil)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	writeJSON(w, http.StatusCreated, created)
}

// deleteSilence serves DELETE /api/v1/silences/{id} on the admin listener.
func (s *Server) deleteSilence(w http.ResponseWriter, r *http.Request) {
	eng := s.engine()
	if eng == nil {
		writeError(w, http.StatusServiceUnavailable, errors.New("alerting is not running"))
		return
	}
	ok, err := eng.ExpireSilence(r.Context(), r.PathValue("id"))
	switch {
	case err != nil:
		writeError(w, http.StatusInternalServerError, err)
	case !ok:
		writeError(w, http.StatusNotFound, fmt.Errorf("no silence %q made through the API", r.PathValue("id")))
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// SLOView is one SLO in the API and in `vantage slo`.
type SLOView struct {
	Check              string             `json:"check"`
	Objective          string             `json:"objective"`
	Window             string             `json:"window"`
	SLI                string             `json:"sli"`
	ThresholdSeconds   float64            `json:"threshold_seconds,omitempty"`
	Good               int64              `json:"good"`
	Total              int64              `json:"total"`
	Ratio              float64            `json:"sli_ratio"`
	BudgetRemaining    float64            `json:"error_budget_remaining_ratio"`
	BudgetMinutes      float64            `json:"error_budget_minutes"`
	BurnRates          map[string]float64 `json:"burn_rates"`
	ExhaustionSeconds  *float64           `json:"time_to_exhaustion_seconds"` // null: not burning
	Alerts             []BurnView         `json:"burn_alerts"`
	EvaluatedAt        time.Time          `json:"evaluated_at"`
	ExcludeMaintenance bool               `json:"exclude_maintenance"`
}

// BurnView is one burn-rate window pair of an SLO.
type BurnView struct {
	Severity   string  `json:"severity"`
	Long       string  `json:"long_window"`
	Short      string  `json:"short_window"`
	Factor     float64 `json:"factor"`
	LongBurn   float64 `json:"long_burn_rate"`
	ShortBurn  float64 `json:"short_burn_rate"`
	Firing     bool    `json:"firing"`
	BudgetUsed float64 `json:"budget_percent"`
}

func sloView(st results.SLOStatus) SLOView {
	v := SLOView{
		Check: st.Check, Objective: st.Spec.Objective.String(), Window: results.WindowName(st.Spec.Window), SLI: string(st.Spec.SLI),
		ThresholdSeconds: st.Spec.Threshold.Seconds(), Good: st.Good, Total: st.Total, Ratio: st.SLI,
		BudgetRemaining: st.BudgetRemaining, BudgetMinutes: st.BudgetMinutes, BurnRates: map[string]float64{},
		EvaluatedAt: st.End, ExcludeMaintenance: st.Spec.ExcludeMaintenance,
	}
	for name, w := range st.Windows {
		v.BurnRates[name] = w.BurnRate
	}
	if st.TimeToExhaustion != results.Never {
		secs := st.TimeToExhaustion.Seconds()
		v.ExhaustionSeconds = &secs
	}
	for _, b := range results.BurnAlerts(st, results.BurnWindows(st.Spec.Window), alerts.DefaultMinBadEvents) {
		v.Alerts = append(v.Alerts, BurnView{Severity: string(b.Severity), Long: results.WindowName(b.Long), Short: results.WindowName(b.Short),
			Factor: round(b.Factor, 4), LongBurn: b.LongBurn, ShortBurn: b.ShortBurn, Firing: b.Firing, BudgetUsed: b.BudgetPercent})
	}
	return v
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

// listSLOs serves GET /api/v1/slo: every check's SLO, as last evaluated.
func (s *Server) listSLOs(w http.ResponseWriter, r *http.Request) {
	cfg := s.checks.Load().cfg
	out := []SLOView{}
	for _, chk := range cfg.Checks {
		if chk.SLO == nil {
			continue
		}
		st, ok := s.slos.get(chk.Name)
		if !ok {
			var err error
			if st, err = EvaluateSLO(r.Context(), s.store, s.maintenance(cfg), chk, time.Now()); err != nil {
				writeError(w, http.StatusInternalServerError, err)
				return
			}
		}
		out = append(out, sloView(st))
	}
	slices.SortFunc(out, func(a, b SLOView) int { return strings.Compare(a.Check, b.Check) })
	writeJSONList(w, "slos", len(out), func(i int) any { return out[i] })
}

// SLOReport evaluates every SLO of cfg now from the results database at
// dbPath (for `vantage slo`), in config order.
func SLOReport(ctx context.Context, cfg *config.Config, dbPath string, now time.Time) ([]SLOView, error) {
	if _, err := os.Stat(dbPath); err != nil { // a report never creates a database
		return nil, fmt.Errorf("results database: %w", err)
	}
	store, err := sqlite.Open(ctx, sqlite.Options{Path: dbPath, ReadOnly: true, RawRetention: cfg.Storage.Retention.Raw,
		RollupRetention: cfg.Storage.Retention.Rollups, HourRetention: cfg.Storage.Retention.Hourly, PruneInterval: -1})
	if err != nil {
		return nil, err
	}
	defer store.Close()
	maint := cfg.Maintenance
	if _, err := os.Stat(cfg.Storage.AlertsPath); err == nil { // the windows made through the API too
		as, err := alerts.OpenStore(ctx, cfg.Storage.AlertsPath)
		if err != nil {
			return nil, err
		}
		api, err := as.Maintenances(ctx)
		as.Close()
		if err != nil {
			return nil, err
		}
		maint = append(slices.Clip(maint), api...)
	}
	var out []SLOView
	for _, chk := range cfg.Checks {
		if chk.SLO == nil {
			continue
		}
		st, err := EvaluateSLO(ctx, store, maint, chk, now)
		if err != nil {
			return nil, err
		}
		out = append(out, sloView(st))
	}
	return out, nil
}
