package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/vantageprobe/vantage/alerts"
)

// maxIncidentBody caps the incident and maintenance write bodies.
const maxIncidentBody = 256 << 10

// decodeBody reads a JSON body strictly (unknown fields refused).
func decodeBody(w http.ResponseWriter, r *http.Request, out any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxIncidentBody))
	dec.DisallowUnknownFields()
	if err := decodeOne(dec, out); err != nil {
		return fmt.Errorf("request body: %w", err)
	}
	return nil
}

// decodeOne decodes the one JSON value a body holds: anything after it but
// white space is an error, not ignored.
func decodeOne(dec *json.Decoder, out any) error {
	if err := dec.Decode(out); err != nil {
		return err
	}
	if err := dec.Decode(&json.RawMessage{}); err != io.EOF {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return err
		}
		return errors.New("data after the JSON value")
	}
	return nil
}

// writeStoreError maps the alert store's errors to status codes.
func writeStoreError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, alerts.ErrInvalid):
		writeError(w, http.StatusBadRequest, err)
	case errors.Is(err, alerts.ErrIncidentNotFound), errors.Is(err, alerts.ErrMaintenanceNotFound):
		writeError(w, http.StatusNotFound, err)
	case errors.Is(err, alerts.ErrConfigIncident):
		writeError(w, http.StatusConflict, err)
	default:
		writeError(w, http.StatusInternalServerError, err)
	}
}

// listIncidents serves GET /api/v1/incidents[?open=true&limit=N].
func (s *Server) listIncidents(w http.ResponseWriter, r *http.Request) {
	q := alerts.IncidentQuery{Open: r.URL.Query().Get("open") == "true"}
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, fmt.Errorf("limit %q is not a number", v))
			return
		}
		q.Limit = n
	}
	incs, err := s.alertStore.Incidents(r.Context(), q)
	if err != nil {
		writeStoreError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"incidents": orEmpty(incs)})
}

func orEmpty[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

// getIncident serves GET /api/v1/incidents/{id}.
func (s *Server) getIncident(w http.ResponseWriter, r *http.Request) {
	inc, err := s.alertStore.Incident(r.Context(), r.PathValue("id"))
	if err != nil {
		writeStoreError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, inc)
}

// createIncident serves POST /api/v1/incidents (admin).
func (s *Server) createIncident(w http.ResponseWriter, r *http.Request) {
	var inc alerts.Incident
	if err := decodeBody(w, r, &inc); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if err := s.knownChecks(inc.Checks); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	for i, u := range inc.Updates { // as addIncidentUpdate: a later update would be refused
		if inFuture(u) {
			writeError(w, http.StatusBadRequest, fmt.Errorf("updates[%d].at: an update cannot be in the future", i))
			return
		}
	}
	inc.ID = ""
	created, err := s.alertStore.CreateIncident(r.Context(), inc)
	if err != nil {
		writeStoreError(w, err)
		return
	}
	s.incidentsChanged()
	writeJSON(w, http.StatusCreated, created)
}

// patchIncident serves PATCH /api/v1/incidents/{id} (admin).
func (s *Server) patchIncident(w http.ResponseWriter, r *http.Request) {
	var p alerts.IncidentPatch
	if err := decodeBody(w, r, &p); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if p.Checks != nil {
		if err := s.knownChecks(*p.Checks); err != nil {
			writeError(w, http.StatusBadRequest, err)
			return
		}
	}
	inc, err := s.alertStore.UpdateIncident(r.Context(), r.PathValue("id"), p)
	if err != nil {
		writeStoreError(w, err)
		return
	}
	s.incidentsChanged()
	writeJSON(w, http.StatusOK, inc)
}

// addIncidentUpdate serves POST /api/v1/incidents/{id}/updates (admin).
func (s *Server) addIncidentUpdate(w http.ResponseWriter, r *http.Request) {
	var u alerts.IncidentUpdate
	if err := decodeBody(w, r, &u); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if inFuture(u) {
		writeError(w, http.StatusBadRequest, errors.New("at: an update cannot be in the future"))
		return
	}
	inc, err := s.alertStore.AddIncidentUpdate(r.Context(), r.PathValue("id"), u)
	if err != nil {
		writeStoreError(w, err)
		return
	}
	s.incidentsChanged()
	writeJSON(w, http.StatusOK, inc)
}

// deleteIncident serves DELETE /api/v1/incidents/{id} (admin).
func (s *Server) deleteIncident(w http.ResponseWriter, r *http.Request) {
	if err := s.alertStore.DeleteIncident(r.Context(), r.PathValue("id")); err != nil {
		writeStoreError(w, err)
		return
	}
	s.incidentsChanged()
	w.WriteHeader(http.StatusNoContent)
}

// listMaintenance serves GET /api/v1/maintenance.
func (s *Server) listMaintenance(w http.ResponseWriter, _ *http.Request) {
	var out []alerts.Maintenance
	if eng := s.engine(); eng != nil {
		out = eng.Maintenance()
	}
	writeJSON(w, http.StatusOK, map[string]any{"maintenance": orEmpty(out)})
}

// createMaintenance serves POST /api/v1/maintenance (admin).
func (s *Server) createMaintenance(w http.ResponseWriter, r *http.Request) {
	eng := s.engine()
	if eng == nil {
		writeError(w, http.StatusServiceUnavailable, errors.New("alerting is not running"))
		return
	}
	var m alerts.Maintenance
	if err := decodeBody(w, r, &m); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if err := s.knownChecks(m.Checks); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	created, err := eng.AddMaintenance(r.Context(), m)
	if err != nil {
		writeStoreError(w, err)
		return
	}
	s.incidentsChanged()
	writeJSON(w, http.StatusCreated, created)
}

// deleteMaintenance serves DELETE /api/v1/maintenance/{id} (admin).
func (s *Server) deleteMaintenance(w http.ResponseWriter, r *http.Request) {
	eng := s.engine()
	if eng == nil {
		writeError(w, http.StatusServiceUnavailable, errors.New("alerting is not running"))
		return
	}
	if err := eng.DeleteMaintenance(r.Context(), r.PathValue("id")); err != nil {
		writeStoreError(w, err)
		return
	}
	s.incidentsChanged()
	w.WriteHeader(http.StatusNoContent)
}

// knownChecks refuses names of checks the config does not have.
func (s *Server) knownChecks(names []string) error {
	byName := s.checks.Load().byName
	for i, n := range names {
		if _, ok := byName[n]; !ok {
			return fmt.Errorf("checks[%d]: no check is named %q", i, n)
		}
	}
	return nil
}

// incidentsChanged tells the status page that incidents or maintenance
// changed.
func (s *Server) incidentsChanged() { s.invalidatePage() }

// inFuture reports whether an update is dated more than a minute (of
// clock skew) ahead: the incident could take no later update.
func inFuture(u alerts.IncidentUpdate) bool { return u.At.After(time.Now().Add(time.Minute)) }
