package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vantageprobe/vantage/config"
)

// TestSecretFileLimit: a *_file secret that is not a secret (a large file,
// /dev/zero) is refused with the line, the key and the limit, having read
// no more than the limit; a blackbox modules file the same.
func TestSecretFileLimit(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.log")
	if err := os.WriteFile(big, make([]byte, 2<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{big, "/dev/zero"} {
		if file == "/dev/zero" {
			if _, err := os.Stat(file); err != nil {
				continue
			}
		}
		src := "regions:\n  - name: eu\n    token_file: " + file + "\nchecks: [{name: a, tcp: {address: \"x:1\"}}]\n"
		_, err := config.Parse(filepath.Join(dir, "v.yaml"), []byte(src), nil)
		if err == nil || !strings.Contains(err.Error(), "v.yaml:3:") || !strings.Contains(err.Error(), "token_file") ||
			!strings.Contains(err.Error(), "more than the limit of 1048576") {
			t.Errorf("token_file: %s: %v", file, err)
		}
	}
	if _, err := config.LoadBlackbox("/dev/zero"); err == nil || !strings.Contains(err.Error(), "more than the limit") {
		t.Errorf("blackbox modules from /dev/zero: %v", err)
	}
}
