package alerts

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"time"
)

// AlertView is an active alert as the API shows it.
type AlertView struct {
	Rule      string    `json:"rule"`
	Check     string    `json:"check"`
	Condition string    `json:"condition"`
	Severity  Severity  `json:"severity"`
	State     string    `json:"state"` // pending or firing
	Since     time.Time `json:"since"`
	StartsAt  time.Time `json:"starts_at,omitzero"`
	Summary   string    `json:"summary"`
	Regions   []string  `json:"regions,omitempty"`
	Muted     bool      `json:"muted"` // silenced, in maintenance or flapping
}

// Alerts returns the pending and firing alerts, firing first.
func (e *Engine) Alerts() []AlertView {
	now := e.now()
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []AlertView
	for _, a := range e.alerts {
		if a.Status != statusPending && a.Status != statusFiring {
			continue
		}
		out = append(out, AlertView{Rule: a.Rule, Check: a.Check, Condition: a.Condition, Severity: a.Severity,
			State: a.Status, Since: a.Since, StartsAt: a.StartsAt, Summary: a.Summary, Regions: a.Failing,
			Muted: a.Status == statusFiring && e.muted(a, now)})
	}
	slices.SortFunc(out, func(x, y AlertView) int {
		if x.State != y.State {
			if x.State == statusFiring {
				return -1
			}
			return 1
		}
		return x.Since.Compare(y.Since)
	})
	return out
}

// Silences returns the silences that have not ended: the config's and
// those made through the API (with an id).
func (e *Engine) Silences() []Silence {
	now := e.now()
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Silence
	for _, s := range append(slices.Clip(e.o.Silences), e.apiSilent...) {
		if now.Before(s.EndsAt) {
			out = append(out, s)
		}
	}
	return out
}

// AddSilence stores a silence (starting now unless it says otherwise)
// and returns it with its id.
func (e *Engine) AddSilence(ctx context.Context, s Silence) (Silence, error) {
	now := e.now()
	if s.StartsAt.IsZero() {
		s.StartsAt = now
	}
	if err := s.Validate(); err != nil {
		return Silence{}, err
	}
	if !s.EndsAt.After(now) {
		return Silence{}, fmt.Errorf("ends_at: %s is in the past", s.EndsAt.Format(time.RFC3339))
	}
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	s.ID = hex.EncodeToString(b[:])
	if err := e.o.Store.SaveSilence(ctx, s); err != nil {
		return Silence{}, err
	}
	e.mu.Lock()
	e.apiSilent = append(e.apiSilent, s)
	e.mu.Unlock()
	return s, nil
}

// ExpireSilence ends an API silence now; it reports whether it existed.
func (e *Engine) ExpireSilence(ctx context.Context, id string) (bool, error) {
	ok, err := e.o.Store.DeleteSilence(ctx, id)
	if err != nil {
		return false, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.apiSilent = slices.DeleteFunc(e.apiSilent, func(s Silence) bool { return s.ID == id })
	// Alerts it muted may need their notification now.
	for _, g := range e.groups {
		if g.nextFlush.IsZero() {
			g.nextFlush = e.now()
		}
	}
	return ok, nil
}

// Maintenance returns every maintenance window: the config's and those
// made through the API (with an id).
func (e *Engine) Maintenance() []Maintenance {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append(slices.Clip(e.o.Maintenance), e.apiMaint...)
}

// AddMaintenance stores a window made through the API and returns it with
// its id; its checks are muted while it is active.
func (e *Engine) AddMaintenance(ctx context.Context, m Maintenance) (Maintenance, error) {
	m, err := e.o.Store.CreateMaintenance(ctx, m)
	if err != nil {
		return Maintenance{}, err
	}
	e.mu.Lock()
	e.apiMaint = append(e.apiMaint, m)
	e.mu.Unlock()
	return m, nil
}

// DeleteMaintenance removes a window made through the API.
func (e *Engine) DeleteMaintenance(ctx context.Context, id string) error {
	if err := e.o.Store.DeleteMaintenance(ctx, id); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.apiMaint = slices.DeleteFunc(e.apiMaint, func(m Maintenance) bool { return m.ID == id })
	for _, g := range e.groups {
		if g.nextFlush.IsZero() {
			g.nextFlush = e.now()
		}
	}
	return nil
}
