package config_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vantageprobe/vantage/config"
	"github.com/vantageprobe/vantage/probes"
)

func TestFingerprint(t *testing.T) {
	load := func(src string) config.Check {
		t.Helper()
		cfg, err := config.Parse("v.yaml", []byte("checks:\n"+src), noEnv)
		if err != nil {
			t.Fatal(err)
		}
		return cfg.Checks[0]
	}
	base := load(`  - {name: a, http: {url: "https://x/", basic_auth: {username: u, password: p1}, expect: {body: "ok", status: [200]}}}`)
	same := load(`  - name: a
    http:
      url: "https://x/"
      basic_auth: {username: u, password: p1}
      expect: {status: [200], body: "ok"}`)
	if base.Fingerprint() != same.Fingerprint() {
		t.Fatal("the same check written differently has another fingerprint")
	}
	for _, changed := range []string{
		`  - {name: a, http: {url: "https://x/", basic_auth: {username: u, password: p2}, expect: {body: "ok", status: [200]}}}`,
		`  - {name: a, http: {url: "https://x/", basic_auth: {username: u, password: p1}, expect: {body: "ok!", status: [200]}}}`,
		`  - {name: a, interval: 30s, http: {url: "https://x/", basic_auth: {username: u, password: p1}, expect: {body: "ok", status: [200]}}}`,
		`  - {name: a, http: {url: "https://x/", basic_auth: {username: u, password: p1}, expect: {body: "ok", status: [201]}}}`,
	} {
		if load(changed).Fingerprint() == base.Fingerprint() {
			t.Errorf("change not seen by the fingerprint: %s", changed)
		}
	}
}

func TestFingerprintFollowsReferencedFiles(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	load := func() string {
		t.Helper()
		// Parse does not read ca_file; the prober does, so the file need not be a real CA here.
		var c config.Check
		c.Name = "a"
		c.TLS = &probes.TLSSpec{Address: "x:443", TLSOptions: probes.TLSOptions{CAFile: ca}}
		return c.Fingerprint()
	}
	before := load()
	if err := os.WriteFile(ca, []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	if load() == before {
		t.Fatal("a replaced ca_file does not change the fingerprint")
	}
}
