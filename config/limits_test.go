package config_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/config"
)

// TestLargeConfigs: 100,000 checks load; a 50 MB file is refused by its
// size without being read whole; a document cut short by a limit gets that
// one problem, not a problem for every check the cut left empty.
func TestLargeConfigs(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("checks:\n")
	for i := range 100_000 {
		fmt.Fprintf(&b, "  - {name: c%d, interval: 60s, tcp: {address: \"h%d.example:443\"}}\n", i, i)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(big)
	if err != nil {
		t.Fatalf("100,000 checks: %.300v", err)
	}
	if len(cfg.Checks) != 100_000 || cfg.Checks[99_999].Name != "c99999" {
		t.Fatalf("%d checks", len(cfg.Checks))
	}

	huge := filepath.Join(dir, "huge.yaml")
	if err := os.WriteFile(huge, []byte("checks:\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(huge, 50<<20); err != nil { // sparse: 50 MB on paper
		t.Fatal(err)
	}
	start := time.Now()
	_, err = config.Load(huge)
	if err == nil || err.Error() != huge+": the file is 52428800 bytes, more than the limit of 33554432 (32 MiB)" {
		t.Fatalf("50 MB file: %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("refusing a 50 MB file took %v", took)
	}

	// A check with 1,000 headers, repeated by alias 200 times.
	b.Reset()
	b.WriteString("checks:\n  - &big {name: c, http: {url: \"http://h.example/\", headers: {")
	for i := range 1000 {
		fmt.Fprintf(&b, "h%d: v, ", i)
	}
	b.WriteString("}}}\n" + strings.Repeat("  - *big\n", 200))
	_, err = config.Parse("bomb.yaml", []byte(b.String()), noEnv)
	if err == nil || strings.Count(err.Error(), "\n") != 0 || !strings.Contains(err.Error(), "too complex") {
		t.Fatalf("alias bomb: want exactly one problem, got %.500v", err)
	}
}
