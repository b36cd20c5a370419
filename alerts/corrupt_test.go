package alerts_test

import (
	"bytes"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vantageprobe/vantage/alerts"
)

// TestStoreRefusesDamage: an alert store that is not SQLite, is cut
// short, has damaged pages or comes from a newer vantage is refused with a
// message naming the file, and left exactly as it was.
func TestStoreRefusesDamage(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	s, err := alerts.OpenStore(t.Context(), good)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Fill it with pages of rows, through SQLite, to damage afterwards.
	db, err := sql.Open("sqlite", good)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE filler (v TEXT); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 2000)
		INSERT INTO filler SELECT printf('%0100d', i) FROM n; PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	valid, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	damaged := bytes.Clone(valid)
	for i := 8192; i < len(damaged); i += 5 {
		damaged[i] ^= 0xa5
	}
	newer := bytes.Clone(valid)
	newer[60], newer[61], newer[62], newer[63] = 0, 0, 0, 99 // PRAGMA user_version = 99

	for name, c := range map[string]struct {
		content []byte
		want    string
	}{
		"text.db":      {[]byte("not a database\n" + strings.Repeat("x", 5000)), "damaged or not a SQLite database"},
		"truncated.db": {valid[:200], "damaged or not a SQLite database"},
		"damaged.db":   {damaged, "damaged or not a SQLite database"},
		"newer.db":     {newer, "schema version 99 is newer than this binary supports"},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, c.content, 0o600); err != nil {
				t.Fatal(err)
			}
			st, err := alerts.OpenStore(t.Context(), path)
			if err == nil {
				st.Close()
				t.Fatal("opened")
			}
			if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, c.want) {
				t.Errorf("error %q: want the file and %q", msg, c.want)
			}
			after, rerr := os.ReadFile(path)
			if rerr != nil || !bytes.Equal(after, c.content) {
				t.Errorf("the file was changed: %s", fmt.Sprint(len(c.content), " bytes before, ", len(after), " after, ", rerr))
			}
		})
	}
}
