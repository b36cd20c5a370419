package sqlite

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCorruptDatabaseRefused: a database file that is not SQLite, or whose
// pages are damaged, is refused with a message that names the file, and
// is left exactly as it was.
func TestCorruptDatabaseRefused(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	s := openStore(t, Options{Path: good})
	if err := s.Write(t.Context(), records(500, time.Now().UTC())...); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	valid, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	damaged := bytes.Clone(valid)
	for i := 4096; i < len(damaged); i += 7 { // every page after the first
		damaged[i] ^= 0x5a
	}
	for name, content := range map[string][]byte{
		"text.db":      []byte("this is not a database\n" + strings.Repeat("x", 5000)),
		"truncated.db": valid[:100],
		"damaged.db":   damaged,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			st, err := Open(t.Context(), Options{Path: path})
			if err == nil {
				st.Close()
				t.Fatal("a corrupt database was opened")
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "damaged or not a SQLite database; it was left as it is") {
				t.Errorf("error %q does not name the file and say what is wrong", err)
			}
			after, rerr := os.ReadFile(path)
			if rerr != nil || !bytes.Equal(after, content) {
				t.Errorf("the file was changed (%d bytes before, %d after, %v)", len(content), len(after), rerr)
			}
			t.Logf("%s: %v", name, err)
		})
	}
}
