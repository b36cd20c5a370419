package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"
)

// migrationFiles holds the schema, one numbered file per version:
// migrations/0001_name.sql, 0002_name.sql, … without gaps.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one schema version.
type migration struct {
	version int
	name    string
	sql     string
}

// SchemaTooNewError is returned by Open when the database was migrated by a
// newer vantage than this one; the database is left unchanged.
type SchemaTooNewError struct {
	Version   int // the database's schema version
	Supported int // the newest version this binary knows
}

func (e *SchemaTooNewError) Error() string {
	return fmt.Sprintf("database schema version %d is newer than this binary supports (%d); upgrade vantage",
		e.Version, e.Supported)
}

// loadMigrations reads and orders the embedded migrations, checking that
// their versions run 1, 2, 3 … without gaps or duplicates.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	ms := make([]migration, 0, len(names))
	for _, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v < 1 {
			return nil, fmt.Errorf("migration %s: name must start with a version number and '_'", base)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", base, err)
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	// fs.Glob returns names sorted; zero-padded numbers sort numerically.
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: expected version %d", m.name, i+1)
		}
	}
	return ms, nil
}

// migrate brings db up to the newest embedded schema version, one
// transaction per migration. A database newer than the binary is refused
// before anything is written.
func migrate(ctx context.Context, db *sql.DB, now func() time.Time) error {
	left, err := migrationsLeft(ctx, db)
	if err != nil {
		return err
	}
	for _, m := range left {
		if err := applyMigration(ctx, db, m, now().UTC()); err != nil {
			return err
		}
	}
	return nil
}

// checkSchema is migrate for a ReadOnly store: it changes nothing and
// refuses a database that is not at this binary's schema version (an older
// one would be upgraded under a server that still writes the old way).
func checkSchema(ctx context.Context, db *sql.DB) error {
	left, err := migrationsLeft(ctx, db)
	if err != nil {
		return err
	}
	if len(left) > 0 {
		newest := left[len(left)-1].version
		return fmt.Errorf("database schema version %d is older than this binary's (%d); start this version's vantage serve on it once to upgrade it", left[0].version-1, newest)
	}
	return nil
}

// migrationsLeft returns the migrations db lacks, in order; a database
// newer than the binary is a *SchemaTooNewError.
func migrationsLeft(ctx context.Context, db *sql.DB) ([]migration, error) {
	ms, err := loadMigrations(migrationFiles)
	if err != nil {
		return nil, err
	}
	current, err := schemaVersion(ctx, db)
	if err != nil {
		return nil, err
	}
	if current > len(ms) {
		return nil, &SchemaTooNewError{Version: current, Supported: len(ms)}
	}
	return ms[current:], nil
}

// schemaVersion returns the highest applied migration, 0 for a new database.
func schemaVersion(ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}) (int, error) {
	var n int
	err := q.QueryRowContext(ctx,
		`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if n == 0 {
		return 0, nil
	}
	var v int
	if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// applyMigration runs m and records it in schema_migrations in one
// transaction. It re-reads the version inside the (immediate, so locked)
// transaction, so two processes opening a new file at once do not both apply m.
func applyMigration(ctx context.Context, db *sql.DB, m migration, at time.Time) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %s: begin: %w", m.name, err)
	}
	defer tx.Rollback() // a no-op after Commit
	current, err := schemaVersion(ctx, tx)
	if err != nil {
		return fmt.Errorf("migration %s: %w", m.name, err)
	}
	if current >= m.version {
		return nil
	}
	const createTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at TEXT    NOT NULL
	)`
	if _, err := tx.ExecContext(ctx, createTable); err != nil {
		return fmt.Errorf("migration %s: create schema_migrations: %w", m.name, err)
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("migration %s: %w", m.name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
		m.version, at.Format(time.RFC3339)); err != nil {
		return fmt.Errorf("migration %s: record version: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %s: commit: %w", m.name, err)
	}
	return nil
}
