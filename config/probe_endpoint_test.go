package config_test

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vantageprobe/vantage/config"
	"github.com/vantageprobe/vantage/probes"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestProbeEndpointConfig(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"blackbox.yml": "modules:\n  http_2xx: {prober: http}\n  dns_a: {prober: dns, dns: {query_name: example.com}}\n",
		"probe.token":  "tok-abc\n",
		"vantage.yaml": "probe_endpoint:\n  enabled: true\n  modules_file: blackbox.yml\n  allow_targets: [10.0.0.0/8, \"*.example.com\"]\n  auth: {bearer_token_file: probe.token}\n",
	})
	cfg, err := config.Load(filepath.Join(dir, "vantage.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	pe := cfg.ProbeEndpoint
	if !pe.Enabled || pe.Modules == nil || len(pe.Modules.Modules) != 2 || pe.MaxConcurrent != config.DefaultProbeConcurrency {
		t.Fatalf("endpoint %+v", pe)
	}
	if pe.Auth.BearerToken.Reveal() != "tok-abc" || !pe.Auth.Required() {
		t.Fatalf("token %q", pe.Auth.BearerToken.Reveal())
	}
	if pe.ModulesFile != filepath.Join(dir, "blackbox.yml") {
		t.Fatalf("modules_file %s: want it relative to the config", pe.ModulesFile)
	}
	// The guard: the allow list; loopback and the private ranges denied by
	// default, even where the allow list names them; link-local and
	// metadata always; decided without dialling.
	for addr, allowed := range map[string]bool{
		"10.1.2.3": false, "192.168.1.1": false, "127.0.0.1": false, "::1": false, "100.64.0.1": false, "fd12:3456::1": false,
		"169.254.169.254": false, "::ffff:169.254.169.254": false, "fd00:ec2::254": false, "10.255.255.255": false, "::ffff:10.0.0.1": false,
	} {
		err := pe.Guard.Check("host", netip.MustParseAddr(addr))
		if (err == nil) != allowed {
			t.Errorf("guard on %s: %v, want allowed=%v", addr, err, allowed)
		}
	}
	if err := pe.Guard.Check("api.example.com", netip.MustParseAddr("203.0.113.9")); err != nil {
		t.Errorf("a host matching *.example.com: %v", err)
	}
	if err := pe.Guard.Check("example.org", netip.MustParseAddr("203.0.113.9")); err == nil {
		t.Error("a host outside the allow list passed")
	}

	// deny_targets replaces the loopback default; private ranges can be denied.
	dir = writeFiles(t, map[string]string{
		"blackbox.yml": "modules:\n  http_2xx: {prober: http}\n",
		"vantage.yaml": "probe_endpoint:\n  enabled: true\n  modules_file: blackbox.yml\n  deny_targets: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16]\n",
	})
	cfg, err = config.Load(filepath.Join(dir, "vantage.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for addr, allowed := range map[string]bool{"127.0.0.1": true, "10.0.0.1": false, "172.20.0.1": false, "192.168.0.1": false, "::ffff:10.0.0.1": false, "8.8.8.8": true} {
		if err := cfg.ProbeEndpoint.Guard.Check("h", netip.MustParseAddr(addr)); (err == nil) != allowed {
			t.Errorf("guard on %s: %v, want allowed=%v", addr, err, allowed)
		}
	}
	if !errors.Is(cfg.ProbeEndpoint.Guard.Check("h", netip.MustParseAddr("10.0.0.1")), probes.ErrAddressDenied) {
		t.Error("a denied address is not ErrAddressDenied")
	}
}

func TestProbeEndpointProblems(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"bad.yml": "modules:\n  ping:\n    prober: icmp\n",
		"a.yaml":  "probe_endpoint:\n  enabled: true\n",
		"b.yaml":  "probe_endpoint:\n  enabled: true\n  modules_file: missing.yml\n",
		"c.yaml":  "probe_endpoint:\n  enabled: true\n  modules_file: bad.yml\n  allow_targets: [\"not a cidr/\"]\n  max_concurrent: -1\n  auth: {basic_auth: {username: u}}\n",
	})
	tests := map[string][]string{
		"a.yaml": {"a.yaml:2:3: probe_endpoint.modules_file: required when the endpoint is enabled"},
		"b.yaml": {"b.yaml:3:17: probe_endpoint.modules_file:", "missing.yml"},
		"c.yaml": {"c.yaml:3:17: probe_endpoint.modules_file:", `bad.yml:3:13: modules.ping.prober: "icmp"`,
			"c.yaml:4:18: probe_endpoint.allow_targets:", "c.yaml:5:19: probe_endpoint.max_concurrent: must be positive",
			"probe_endpoint.auth.basic_auth: needs username and password"},
	}
	for file, want := range tests {
		_, err := config.Load(filepath.Join(dir, file))
		if err == nil {
			t.Fatalf("%s loaded", file)
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error lacks %q:\n%v", file, w, err)
			}
		}
	}
}
