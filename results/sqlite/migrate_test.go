package sqlite

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMigrationsRecorded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vantage.db")
	s := openStore(t, Options{Path: path, Now: func() time.Time { return time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC) }})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ms, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatalf("loadMigrations: %v", err)
	}
	if len(ms) < 2 {
		t.Fatalf("%d migrations embedded, want at least 2", len(ms))
	}
	rows, err := rawDB(t, path).Query(`SELECT version, applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var v int
		var at string
		if err := rows.Scan(&v, &at); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%d@%s", v, at))
	}
	if len(got) != len(ms) {
		t.Fatalf("schema_migrations = %v, want %d versions", got, len(ms))
	}
	for i, g := range got {
		if want := fmt.Sprintf("%d@2030-01-02T03:04:05Z", i+1); g != want {
			t.Errorf("schema_migrations row %d = %s, want %s", i, g, want)
		}
	}
	// Reopening applies nothing again.
	s2 := openStore(t, Options{Path: path})
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := rawDB(t, path).QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n != len(ms) {
		t.Errorf("after reopening: %d rows (%v), want %d", n, err, len(ms))
	}
}

func TestLoadMigrationsRejectsGaps(t *testing.T) {
	tests := []struct {
		name  string
		files []string
	}{
		{"gap", []string{"0001_a.sql", "0003_c.sql"}},
		{"duplicate", []string{"0001_a.sql", "0001_b.sql"}},
		{"no number", []string{"init.sql"}},
		{"starts at 2", []string{"0002_b.sql"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.Mkdir(filepath.Join(dir, "migrations"), 0o755); err != nil {
				t.Fatal(err)
			}
			for _, f := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, "migrations", f), []byte("SELECT 1;"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := loadMigrations(os.DirFS(dir)); err == nil {
				t.Errorf("loadMigrations(%v): no error", tt.files)
			}
		})
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vantage.db")
	s := openStore(t, Options{Path: path})
	if err := s.Write(t.Context(), records(10, time.Now().UTC())...); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, path)
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (7, '2031-01-01T00:00:00Z')`); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil { // checkpoints the WAL into the file
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	_, err = Open(t.Context(), Options{Path: path})
	var tooNew *SchemaTooNewError
	if !errors.As(err, &tooNew) || tooNew.Version != 7 {
		t.Fatalf("Open = %v, want a SchemaTooNewError for version 7", err)
	}
	want := fmt.Sprintf("database schema version 7 is newer than this binary supports (%d); upgrade vantage", tooNew.Supported)
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("refused Open changed the database file")
	}
}

// schemaAt creates a database at path with the first n migrations, as an
// older vantage left it, and returns it open.
func schemaAt(t *testing.T, path string, n int) *sql.DB {
	t.Helper()
	db := rawDB(t, path)
	ms, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms[:n] {
		if err := applyMigration(t.Context(), db, m, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	return db
}
