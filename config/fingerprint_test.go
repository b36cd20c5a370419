package config_test

import (
	"testing"

	"github.com/vantageprobe/vantage/config"
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
