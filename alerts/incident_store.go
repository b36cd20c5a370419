package alerts

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

func randomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// queryRower is a *sql.DB or a *sql.Tx.
type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// CreateIncident stores an incident made through the API and returns it
// with a random id, Source "api" and CreatedAt/UpdatedAt now; updates
// without a time are stamped now. Any id or source it carries is replaced.
// Validation failures are ErrInvalid.
func (s *Store) CreateIncident(ctx context.Context, inc Incident) (Incident, error) {
	now := time.Now().UTC()
	inc.ID, inc.Source = randomID(), SourceAPI
	inc.Checks = slices.Clone(inc.Checks)
	inc.Updates = slices.Clone(inc.Updates)
	for k := range inc.Updates {
		if inc.Updates[k].At.IsZero() {
			inc.Updates[k].At = now
		}
	}
	if err := inc.Validate(); err != nil {
		return Incident{}, invalid(err)
	}
	inc.CreatedAt, inc.UpdatedAt = now, now
	if err := writeIncident(ctx, s.db, inc); err != nil {
		return Incident{}, fmt.Errorf("create incident: %w", err)
	}
	return inc, nil
}

// UpdateIncident changes an API incident's title, impact or checks. An
// empty patch changes nothing (UpdatedAt included).
func (s *Store) UpdateIncident(ctx context.Context, id string, p IncidentPatch) (Incident, error) {
	return s.modifyIncident(ctx, "update incident", id, func(inc *Incident) (bool, error) {
		if p.Title == nil && p.Impact == nil && p.Checks == nil {
			return false, nil
		}
		if p.Title != nil {
			inc.Title = *p.Title
		}
		if p.Impact != nil {
			inc.Impact = *p.Impact
			if inc.Impact == "" {
				return false, errors.New("impact: required (none, minor, major, critical)")
			}
		}
		if p.Checks != nil {
			inc.Checks = slices.Clone(*p.Checks)
		}
		return true, inc.Validate()
	})
}

// AddIncidentUpdate appends an update to an API incident: without a time
// it is stamped now, without a status it keeps the incident's, and it may
// not be older than the newest update. The incident's status follows it:
// a resolved update resolves it (ResolvedAt), any other reopens it.
func (s *Store) AddIncidentUpdate(ctx context.Context, id string, u IncidentUpdate) (Incident, error) {
	return s.modifyIncident(ctx, "add incident update", id, func(inc *Incident) (bool, error) {
		if u.At.IsZero() {
			u.At = time.Now()
		}
		if u.Status == "" {
			u.Status = inc.Status
		}
		if errs := normalizeUpdate(&u); len(errs) > 0 {
			return false, errors.Join(errs...)
		}
		if newest := inc.Updates[len(inc.Updates)-1].At; u.At.Before(newest) {
			return false, fmt.Errorf("at: %s is before the incident's newest update (%s)",
				u.At.Format(time.RFC3339Nano), newest.Format(time.RFC3339Nano))
		}
		inc.Updates = append(inc.Updates, u)
		inc.Status = "" // it follows the new update
		return true, inc.Validate()
	})
}

// modifyIncident applies change to an API incident in one transaction and
// stores it with UpdatedAt now when change reports a change. Errors of
// change are validation failures.
func (s *Store) modifyIncident(ctx context.Context, op, id string, change func(*Incident) (bool, error)) (Incident, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Incident{}, fmt.Errorf("%s %s: %w", op, id, err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	inc, err := readIncident(ctx, tx, id)
	if err != nil {
		return Incident{}, fmt.Errorf("%s: %w", op, err)
	}
	if inc.Source != SourceAPI {
		return Incident{}, fmt.Errorf("%s %s: %w: edit the file", op, id, ErrConfigIncident)
	}
	changed, err := change(&inc)
	if err != nil {
		return Incident{}, invalid(err)
	}
	if !changed {
		return inc, nil
	}
	inc.UpdatedAt = time.Now().UTC()
	if err := writeIncident(ctx, tx, inc); err != nil {
		return Incident{}, fmt.Errorf("%s %s: %w", op, id, err)
	}
	if err := tx.Commit(); err != nil {
		return Incident{}, fmt.Errorf("%s %s: %w", op, id, err)
	}
	return inc, nil
}

// Incident returns one incident; a missing one is ErrIncidentNotFound.
func (s *Store) Incident(ctx context.Context, id string) (Incident, error) {
	inc, err := readIncident(ctx, s.db, id)
	if err != nil {
		return Incident{}, fmt.Errorf("load incident: %w", err)
	}
	return inc, nil
}

// Incidents returns the incidents q selects: open ones first, then by
// start (first update), newest first.
func (s *Store) Incidents(ctx context.Context, q IncidentQuery) ([]Incident, error) {
	query := `SELECT incident FROM incidents WHERE 1 = 1`
	var args []any
	if q.Open {
		query += ` AND resolved_at IS NULL`
	}
	if !q.Since.IsZero() {
		query += ` AND (resolved_at IS NULL OR resolved_at >= ?)`
		args = append(args, ms(q.Since))
	}
	query += ` ORDER BY resolved_at IS NOT NULL, started_at DESC, id`
	if q.Limit > 0 {
		query += ` LIMIT ?`
		args = append(args, q.Limit)
	}
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("load incidents: %w", err)
	}
	defer rows.Close()
	var out []Incident
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, fmt.Errorf("load incidents: %w", err)
		}
		var inc Incident
		if err := json.Unmarshal(b, &inc); err != nil {
			return nil, fmt.Errorf("load incidents: %w", err)
		}
		out = append(out, inc)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load incidents: %w", err)
	}
	return out, nil
}

// DeleteIncident deletes an API incident; a missing one is
// ErrIncidentNotFound, a config one ErrConfigIncident.
func (s *Store) DeleteIncident(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM incidents WHERE id = ? AND source = 'api'`, id)
	if err != nil {
		return fmt.Errorf("delete incident %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete incident %s: %w", id, err)
	} else if n > 0 {
		return nil
	}
	if _, err := readIncident(ctx, s.db, id); err != nil {
		return fmt.Errorf("delete incident: %w", err)
	}
	return fmt.Errorf("delete incident %s: %w: edit the file", id, ErrConfigIncident)
}

// SyncConfigIncidents makes the stored config incidents those of the
// config file: each is validated (ErrInvalid, problems prefixed with
// "incidents[i]."), stored by id with Source "config", CreatedAt its first
// update's time and UpdatedAt its newest's; config incidents no longer in
// the file are deleted. Incidents made through the API are never touched:
// a config incident with an API incident's id is refused. All or nothing.
func (s *Store) SyncConfigIncidents(ctx context.Context, incs []Incident) error {
	want, ids, err := configIncidents(incs)
	if err != nil {
		return invalid(err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sync config incidents: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	stored, err := storedIncidents(ctx, tx)
	if err != nil {
		return fmt.Errorf("sync config incidents: %w", err)
	}
	for _, inc := range want {
		old, ok := stored[inc.ID]
		if ok && old.source != SourceConfig {
			return invalid(fmt.Errorf("incidents[%d].id: %q is an incident made through the API", ids[inc.ID], inc.ID))
		}
		b, err := json.Marshal(inc)
		if err != nil {
			return fmt.Errorf("sync config incidents: %w", err)
		}
		if ok && bytes.Equal(old.blob, b) {
			continue
		}
		if err := writeIncident(ctx, tx, inc); err != nil {
			return fmt.Errorf("sync config incidents: %w", err)
		}
	}
	for id, old := range stored {
		if _, keep := ids[id]; keep || old.source != SourceConfig {
			continue
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM incidents WHERE id = ?`, id); err != nil {
			return fmt.Errorf("sync config incidents: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sync config incidents: %w", err)
	}
	return nil
}

// configIncidents validates the config's incidents and returns copies
// ready to store, with each id's index in incs.
func configIncidents(incs []Incident) ([]Incident, map[string]int, error) {
	var errs []error
	want := make([]Incident, 0, len(incs))
	ids := make(map[string]int, len(incs))
	for k, inc := range incs {
		inc.Checks = slices.Clone(inc.Checks)
		inc.Updates = slices.Clone(inc.Updates)
		if err := inc.Validate(); err != nil {
			errs = append(errs, prefixed(fmt.Sprintf("incidents[%d].", k), err))
			continue
		}
		if j, dup := ids[inc.ID]; dup {
			errs = append(errs, fmt.Errorf("incidents[%d].id: %q is also incidents[%d]'s", k, inc.ID, j))
			continue
		}
		ids[inc.ID] = k
		inc.Source = SourceConfig
		inc.CreatedAt = inc.Updates[0].At
		inc.UpdatedAt = inc.Updates[len(inc.Updates)-1].At
		want = append(want, inc)
	}
	return want, ids, errors.Join(errs...)
}

type storedIncident struct {
	source string
	blob   []byte
}

// storedIncidents loads every incident's source and JSON by id.
func storedIncidents(ctx context.Context, tx *sql.Tx) (map[string]storedIncident, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, source, incident FROM incidents`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]storedIncident{}
	for rows.Next() {
		var id string
		var st storedIncident
		if err := rows.Scan(&id, &st.source, &st.blob); err != nil {
			return nil, err
		}
		out[id] = st
	}
	return out, rows.Err()
}

// readIncident loads an incident; a missing one is ErrIncidentNotFound.
func readIncident(ctx context.Context, q queryRower, id string) (Incident, error) {
	var b []byte
	err := q.QueryRowContext(ctx, `SELECT incident FROM incidents WHERE id = ?`, id).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return Incident{}, fmt.Errorf("%w: %q", ErrIncidentNotFound, id)
	}
	if err != nil {
		return Incident{}, fmt.Errorf("read incident %s: %w", id, err)
	}
	var inc Incident
	if err := json.Unmarshal(b, &inc); err != nil {
		return Incident{}, fmt.Errorf("read incident %s: %w", id, err)
	}
	return inc, nil
}

// writeIncident inserts or replaces a validated incident.
func writeIncident(ctx context.Context, db interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}, inc Incident) error {
	b, err := json.Marshal(inc)
	if err != nil {
		return err
	}
	var resolved sql.NullInt64
	if !inc.Open() {
		resolved = sql.NullInt64{Int64: ms(inc.ResolvedAt), Valid: true}
	}
	_, err = db.ExecContext(ctx, `INSERT INTO incidents (id, source, started_at, resolved_at, incident) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET source = excluded.source, started_at = excluded.started_at,
			resolved_at = excluded.resolved_at, incident = excluded.incident`,
		inc.ID, inc.Source, ms(inc.Updates[0].At), resolved, b)
	return err
}

// CreateMaintenance stores a maintenance window made through the API and
// returns it with a random id (any id it carries is replaced). Besides
// Maintenance.Validate, the name must be one line of at most 200
// characters and the description at most 10,000 without control
// characters but newlines and tabs. Validation failures are ErrInvalid.
func (s *Store) CreateMaintenance(ctx context.Context, m Maintenance) (Maintenance, error) {
	m.ID = randomID()
	m.Checks = slices.Clone(m.Checks)
	if m.Weekly != nil {
		w := *m.Weekly
		w.Days = slices.Clone(w.Days)
		m.Weekly = &w
	}
	m.Start, m.End = m.Start.UTC(), m.End.UTC()
	errs := []error{m.Validate()}
	if m.Name != "" {
		if err := checkText(m.Name, maxIncidentTitle, false); err != nil {
			errs = append(errs, fmt.Errorf("name: %w", err))
		}
	}
	if m.Description != "" {
		if err := checkText(m.Description, maxIncidentBody, true); err != nil {
			errs = append(errs, fmt.Errorf("description: %w", err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Maintenance{}, invalid(err)
	}
	b, err := json.Marshal(m)
	if err != nil {
		return Maintenance{}, fmt.Errorf("create maintenance: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO maintenances (id, created_at, maintenance) VALUES (?, ?, ?)`,
		m.ID, ms(time.Now()), b); err != nil {
		return Maintenance{}, fmt.Errorf("create maintenance: %w", err)
	}
	return m, nil
}

// DeleteMaintenance deletes a maintenance window made through the API; a
// missing one is ErrMaintenanceNotFound.
func (s *Store) DeleteMaintenance(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM maintenances WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete maintenance %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete maintenance %s: %w", id, err)
	} else if n == 0 {
		return fmt.Errorf("delete maintenance: %w: %q", ErrMaintenanceNotFound, id)
	}
	return nil
}

// Maintenances returns every maintenance window made through the API,
// oldest first, validated again (which loads weekly windows' time zones).
// Past windows stay until deleted.
func (s *Store) Maintenances(ctx context.Context) ([]Maintenance, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, maintenance FROM maintenances ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("load maintenances: %w", err)
	}
	defer rows.Close()
	var out []Maintenance
	for rows.Next() {
		var id string
		var b []byte
		if err := rows.Scan(&id, &b); err != nil {
			return nil, fmt.Errorf("load maintenances: %w", err)
		}
		var m Maintenance
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("load maintenance %s: %w", id, err)
		}
		if err := m.Validate(); err != nil {
			return nil, fmt.Errorf("load maintenance %s: %w", id, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load maintenances: %w", err)
	}
	return out, nil
}
