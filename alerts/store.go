package alerts

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"modernc.org/sqlite" // the database/sql driver "sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// schema is the alert store, versioned with PRAGMA user_version (the file
// holds nothing else). Times are unix milliseconds.
var schema = []string{
	// version 1
	`CREATE TABLE alert_state (
		fingerprint TEXT PRIMARY KEY,
		state       BLOB NOT NULL -- the alert as JSON
	);
	CREATE TABLE notify_log (
		group_key TEXT NOT NULL,
		receiver  TEXT NOT NULL,
		sent_at   INTEGER NOT NULL,
		firing    BLOB NOT NULL, -- fingerprints notified as firing, JSON
		PRIMARY KEY (group_key, receiver)
	);
	CREATE TABLE outbox (
		id           INTEGER PRIMARY KEY,
		receiver     TEXT NOT NULL,
		key          TEXT NOT NULL,
		notification BLOB NOT NULL, -- JSON
		created_at   INTEGER NOT NULL,
		attempts     INTEGER NOT NULL DEFAULT 0,
		next_at      INTEGER NOT NULL,
		sent_at      INTEGER,
		given_up_at  INTEGER,
		last_error   TEXT NOT NULL DEFAULT '',
		UNIQUE (receiver, key)
	);
	CREATE INDEX outbox_due ON outbox (receiver, next_at) WHERE sent_at IS NULL AND given_up_at IS NULL;
	CREATE TABLE silences (
		id      TEXT PRIMARY KEY,
		silence BLOB NOT NULL, -- JSON
		ends_at INTEGER NOT NULL
	);`,
	// version 2: incidents (config and API) and maintenance windows made
	// through the API
	`CREATE TABLE incidents (
		id          TEXT PRIMARY KEY,
		source      TEXT NOT NULL CHECK (source IN ('config', 'api')),
		started_at  INTEGER NOT NULL, -- the first update's time
		resolved_at INTEGER,          -- NULL while open
		incident    BLOB NOT NULL     -- JSON
	);
	CREATE INDEX incidents_started ON incidents (started_at);
	CREATE TABLE maintenances (
		id          TEXT PRIMARY KEY,
		created_at  INTEGER NOT NULL,
		maintenance BLOB NOT NULL -- JSON
	);`,
}

// Store keeps alert state, the notification log, the outbox and the
// silences made through the API in one SQLite file, written with
// synchronous=FULL: a notification written to the outbox survives a power
// cut.
type Store struct {
	db *sql.DB
}

// OpenStore opens (creating and migrating) the alert store at path. A file
// from a newer vantage is refused and left unchanged.
func OpenStore(ctx context.Context, path string) (*Store, error) {
	dsn := path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open alert store %s: %w", path, err)
	}
	db.SetMaxOpenConns(1) // one writer; the tables are small
	s := &Store{db: db}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open alert store %s: %w%s", path, err, damageHint(err))
	}
	// The store is small (state, outbox, log): checking every page at
	// start-up costs milliseconds and keeps alerting off a damaged file.
	var check string
	err = db.QueryRowContext(ctx, `PRAGMA quick_check(1)`).Scan(&check)
	if err == nil && check != "ok" {
		err = errors.New(check)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open alert store %s: integrity check: %w%s", path, err, damagedHint)
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

func (s *Store) migrate(ctx context.Context) error {
	var v int
	if err := s.db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if v > len(schema) {
		return fmt.Errorf("schema version %d is newer than this binary supports (%d); upgrade vantage", v, len(schema))
	}
	for i := v; i < len(schema); i++ {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, schema[i]); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("migrate to version %d: %w", i+1, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, i+1)); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("migrate to version %d: %w", i+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrate to version %d: %w", i+1, err)
		}
	}
	return nil
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// saveAlert writes an alert's state.
func (s *Store) saveAlert(ctx context.Context, a *alertState) error {
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO alert_state (fingerprint, state) VALUES (?, ?)
		ON CONFLICT (fingerprint) DO UPDATE SET state = excluded.state`, a.Fingerprint, b)
	if err != nil {
		return fmt.Errorf("save alert %s: %w", a.Fingerprint, err)
	}
	return nil
}

// deleteAlert forgets an alert.
func (s *Store) deleteAlert(ctx context.Context, fingerprint string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM alert_state WHERE fingerprint = ?`, fingerprint); err != nil {
		return fmt.Errorf("delete alert %s: %w", fingerprint, err)
	}
	return nil
}

// alerts loads every stored alert.
func (s *Store) alerts(ctx context.Context) ([]*alertState, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT state FROM alert_state`)
	if err != nil {
		return nil, fmt.Errorf("load alerts: %w", err)
	}
	defer rows.Close()
	var out []*alertState
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, fmt.Errorf("load alerts: %w", err)
		}
		var a alertState
		if err := json.Unmarshal(b, &a); err != nil {
			return nil, fmt.Errorf("load alerts: %w", err)
		}
		out = append(out, &a)
	}
	return out, rows.Err()
}

// upsertLog records what a receiver was last told about a group.
const upsertLog = `INSERT INTO notify_log (group_key, receiver, sent_at, firing) VALUES (?, ?, ?, ?)
	ON CONFLICT (group_key, receiver) DO UPDATE SET sent_at = excluded.sent_at, firing = excluded.firing`

// logEntry is what a receiver was last told about a group.
type logEntry struct {
	SentAt time.Time
	Firing []string // fingerprints
}

// notifyLog loads the notification log: group key → receiver → entry.
func (s *Store) notifyLog(ctx context.Context) (map[string]map[string]logEntry, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT group_key, receiver, sent_at, firing FROM notify_log`)
	if err != nil {
		return nil, fmt.Errorf("load notification log: %w", err)
	}
	defer rows.Close()
	out := map[string]map[string]logEntry{}
	for rows.Next() {
		var group, receiver string
		var sent int64
		var firing []byte
		if err := rows.Scan(&group, &receiver, &sent, &firing); err != nil {
			return nil, fmt.Errorf("load notification log: %w", err)
		}
		e := logEntry{SentAt: fromMS(sent)}
		if err := json.Unmarshal(firing, &e.Firing); err != nil {
			return nil, fmt.Errorf("load notification log: %w", err)
		}
		if out[group] == nil {
			out[group] = map[string]logEntry{}
		}
		out[group][receiver] = e
	}
	return out, rows.Err()
}

// enqueue writes a notification to the outbox and records it in the
// notification log, in one transaction: a restart neither loses it nor
// sends it twice.
func (s *Store) enqueue(ctx context.Context, n Notification, e logEntry) error {
	b, err := json.Marshal(n)
	if err != nil {
		return err
	}
	firing, _ := json.Marshal(e.Firing)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("enqueue notification: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (receiver, key, notification, created_at, next_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (receiver, key) DO NOTHING`, n.Receiver, n.Key, b, ms(n.Time), ms(n.Time)); err != nil {
		return fmt.Errorf("enqueue notification: %w", err)
	}
	if _, err := tx.ExecContext(ctx, upsertLog, n.GroupKey, n.Receiver, ms(e.SentAt), firing); err != nil {
		return fmt.Errorf("enqueue notification: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("enqueue notification: %w", err)
	}
	return nil
}

// pending is one outbox row due for delivery.
type pending struct {
	ID       int64
	Attempts int
	Created  time.Time
	N        Notification
}

// due returns the receiver's oldest undelivered notification due by now,
// or ok false with the time the next one is due (zero when none waits).
func (s *Store) due(ctx context.Context, receiver string, now time.Time) (p pending, ok bool, next time.Time, err error) {
	var b []byte
	var created, nextAt int64
	err = s.db.QueryRowContext(ctx, `SELECT id, attempts, created_at, next_at, notification FROM outbox
		WHERE receiver = ? AND sent_at IS NULL AND given_up_at IS NULL ORDER BY next_at, id LIMIT 1`, receiver).
		Scan(&p.ID, &p.Attempts, &created, &nextAt, &b)
	if errors.Is(err, sql.ErrNoRows) {
		return p, false, time.Time{}, nil
	}
	if err != nil {
		return p, false, time.Time{}, fmt.Errorf("read outbox: %w", err)
	}
	if fromMS(nextAt).After(now) {
		return p, false, fromMS(nextAt), nil
	}
	if err := json.Unmarshal(b, &p.N); err != nil {
		return p, false, time.Time{}, fmt.Errorf("read outbox row %d: %w", p.ID, err)
	}
	p.Created = fromMS(created)
	return p, true, time.Time{}, nil
}

// markSent records a delivery.
func (s *Store) markSent(ctx context.Context, id int64, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE outbox SET sent_at = ?, attempts = attempts + 1, last_error = '' WHERE id = ?`, ms(at), id)
	return err
}

// markFailed records a failed attempt and when to try again.
func (s *Store) markFailed(ctx context.Context, id int64, next time.Time, cause error) error {
	_, err := s.db.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1, next_at = ?, last_error = ? WHERE id = ?`,
		ms(next), cause.Error(), id)
	return err
}

// markGivenUp records that a notification will not be delivered.
func (s *Store) markGivenUp(ctx context.Context, id int64, at time.Time, cause error) error {
	_, err := s.db.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1, given_up_at = ?, last_error = ? WHERE id = ?`,
		ms(at), cause.Error(), id)
	return err
}

// OutboxDepth returns how many notifications wait per receiver.
func (s *Store) OutboxDepth(ctx context.Context) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT receiver, count(*) FROM outbox WHERE sent_at IS NULL AND given_up_at IS NULL GROUP BY receiver`)
	if err != nil {
		return nil, fmt.Errorf("outbox depth: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var r string
		var n int
		if err := rows.Scan(&r, &n); err != nil {
			return nil, err
		}
		out[r] = n
	}
	return out, rows.Err()
}

// prune drops delivered and given-up notifications older than before.
func (s *Store) prune(ctx context.Context, before time.Time) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM outbox WHERE (sent_at IS NOT NULL AND sent_at < ?) OR (given_up_at IS NOT NULL AND given_up_at < ?)`,
		ms(before), ms(before))
	return err
}

// SaveSilence stores a silence made through the API.
func (s *Store) SaveSilence(ctx context.Context, sil Silence) error {
	b, err := json.Marshal(sil)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO silences (id, silence, ends_at) VALUES (?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET silence = excluded.silence, ends_at = excluded.ends_at`, sil.ID, b, ms(sil.EndsAt))
	if err != nil {
		return fmt.Errorf("save silence: %w", err)
	}
	return nil
}

// DeleteSilence expires a silence made through the API now.
func (s *Store) DeleteSilence(ctx context.Context, id string) (bool, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM silences WHERE id = ?`, id)
	if err != nil {
		return false, fmt.Errorf("delete silence: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// Silences returns the API-made silences that end after now.
func (s *Store) Silences(ctx context.Context, now time.Time) ([]Silence, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT silence FROM silences WHERE ends_at > ? ORDER BY ends_at`, ms(now))
	if err != nil {
		return nil, fmt.Errorf("load silences: %w", err)
	}
	defer rows.Close()
	var out []Silence
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, fmt.Errorf("load silences: %w", err)
		}
		var sil Silence
		if err := json.Unmarshal(b, &sil); err != nil {
			return nil, fmt.Errorf("load silences: %w", err)
		}
		out = append(out, sil)
	}
	return out, rows.Err()
}

// setLog records what a receiver knows of a group without a message
// (a resolved alert of a receiver that wants no resolved notifications).
func (s *Store) setLog(ctx context.Context, group, receiver string, e logEntry) error {
	firing, _ := json.Marshal(e.Firing)
	_, err := s.db.ExecContext(ctx, upsertLog, group, receiver, ms(e.SentAt), firing)
	if err != nil {
		return fmt.Errorf("record notification log: %w", err)
	}
	return nil
}

// damagedHint follows the error of a damaged or foreign file.
const damagedHint = " (the file is damaged or not a SQLite database; it was left as it is: restore it from a backup, or move it away to start afresh)"

// damageHint is damagedHint after SQLite's "file is not a database" and
// "database disk image is malformed".
func damageHint(err error) string {
	var se *sqlite.Error
	if errors.As(err, &se) && (se.Code()&0xff == sqlite3.SQLITE_CORRUPT || se.Code()&0xff == sqlite3.SQLITE_NOTADB) {
		return damagedHint
	}
	return ""
}
