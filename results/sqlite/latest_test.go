package sqlite

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/results"
)

// TestLatestAfterUpgrade: a schema-4 database, whose latest table held
// copies of the rows, keeps its newest records through the upgrade to
// pointers, and later writes move them on.
func TestLatestAfterUpgrade(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vantage.db")
	db := schemaAt(t, path, 4)
	start := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	insert := `INSERT INTO %s (` + recordColumnList() + `) VALUES (` + placeholders(len(recordColumns)) + `)`
	for i, r := range []results.Record{rec(1, "web", "eu", start), rec(2, "web", "eu", start.Add(time.Minute)), rec(3, "api", "us", start)} {
		if _, err := db.Exec(fmt.Sprintf(insert, "results"), recordArgs(&r)...); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			continue // an older record: not the latest of web/eu
		}
		if _, err := db.Exec(fmt.Sprintf(insert, "latest"), recordArgs(&r)...); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s := openStore(t, Options{Path: path, PruneInterval: -1})
	latest, err := s.Latest(t.Context())
	if err != nil || len(latest) != 2 || latest[0].Check != "api" || latest[1].ID != rec(2, "", "", start).ID || !latest[1].Started.Equal(start.Add(time.Minute)) {
		t.Fatalf("Latest after the upgrade = %+v, %v", latest, err)
	}
	// A newer record moves web/eu on; an older one, arriving late, does not.
	if err := s.Write(t.Context(), rec(4, "web", "eu", start.Add(2*time.Minute)), rec(5, "api", "us", start.Add(-time.Minute))); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	latest, err = s.Latest(t.Context())
	if err != nil || len(latest) != 2 || latest[0].ID != rec(3, "", "", start).ID || latest[1].ID != rec(4, "", "", start).ID {
		t.Fatalf("Latest after new writes = %+v, %v", latest, err)
	}
}
