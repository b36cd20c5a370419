package config_test

import (
	"strings"
	"testing"

	"github.com/vantageprobe/vantage/config"
)

// The admin listener (reload, silences, incidents, the profiler) is never
// reachable from other machines without a token, and a token is not
// guessable by its length alone.
func TestAdminExposure(t *testing.T) {
	const checks = "checks:\n  - name: api\n    http: {url: \"https://api.example.com/\"}\n"
	for _, tc := range []struct {
		server string
		want   string // "" when valid
	}{
		{`{admin_listen: "127.0.0.1:9091"}`, ""},
		{`{admin_listen: "[::1]:9091"}`, ""},
		{`{admin_listen: "localhost:9091"}`, ""},
		{`{admin_listen: ":9091"}`, `vantage.yaml:1:24: server.admin_listen: ":9091" is reachable from other machines and no admin_token is set`},
		{`{admin_listen: "0.0.0.0:9091"}`, `server.admin_listen: "0.0.0.0:9091" is reachable from other machines`},
		{`{admin_listen: "[::]:9091"}`, `server.admin_listen: "[::]:9091" is reachable`},
		{`{admin_listen: "10.0.0.5:9091"}`, `server.admin_listen: "10.0.0.5:9091" is reachable`},
		{`{admin_listen: "admin.internal:9091"}`, `server.admin_listen: "admin.internal:9091" is reachable`},
		{`{admin_listen: ":9091", admin_token: "0123456789abcdef"}`, ""},
		{`{admin_listen: ":9091", admin_token: "hunter2"}`, `server.admin_token: is 7 characters; use at least 16`},
		{`{admin_token: "short"}`, `server.admin_token: is 5 characters`},
	} {
		_, err := config.Parse("vantage.yaml", []byte("server: "+tc.server+"\n"+checks), noEnv)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.server, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want %q", tc.server, err, tc.want)
		case tc.want != "" && strings.Contains(err.Error(), "hunter2"):
			t.Errorf("%s: the error shows the token: %v", tc.server, err)
		}
	}
}

// The admin listener is on by default, on loopback; "off" turns it off;
// a server.listen on its default address says how to resolve the clash.
func TestAdminListenDefault(t *testing.T) {
	const checks = "checks:\n  - name: api\n    http: {url: \"https://api.example.com/\"}\n"
	cfg, err := config.Parse("vantage.yaml", []byte(checks), noEnv)
	if err != nil || cfg.Server.AdminListen != "127.0.0.1:8081" {
		t.Fatalf("default admin_listen %q (%v)", cfg.Server.AdminListen, err)
	}
	cfg, err = config.Parse("vantage.yaml", []byte("server: {admin_listen: \"off\"}\n"+checks), noEnv)
	if err != nil || cfg.Server.AdminListen != "" {
		t.Fatalf("admin_listen off: %q (%v)", cfg.Server.AdminListen, err)
	}
	_, err = config.Parse("vantage.yaml", []byte("server: {listen: \"127.0.0.1:8081\"}\n"+checks), noEnv)
	if err == nil || !strings.Contains(err.Error(), "vantage.yaml:1:18: server.listen: 127.0.0.1:8081 takes the admin listener's default address, 127.0.0.1:8081: set server.admin_listen to another address, or off") {
		t.Fatalf("listen on the admin default: %v", err)
	}
	_, err = config.Parse("vantage.yaml", []byte("server: {listen: \":8081\"}\n"+checks), noEnv)
	if err == nil || !strings.Contains(err.Error(), "takes the admin listener's default address") {
		t.Fatalf("listen on every address at the admin default's port: %v", err)
	}
	_, err = config.Parse("vantage.yaml", []byte("server: {listen: \"127.0.0.1:9000\", admin_listen: \"127.0.0.1:9000\"}\n"+checks), noEnv)
	if err == nil || !strings.Contains(err.Error(), "server.admin_listen: must differ from server.listen") {
		t.Fatalf("the same address twice: %v", err)
	}
}

func TestSameListener(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"127.0.0.1:8081", "127.0.0.1:8081", true},
		{":8081", "127.0.0.1:8081", true},
		{"0.0.0.0:8081", "127.0.0.1:8081", true},
		{"[::]:8081", "10.0.0.5:8081", true},
		{"localhost:8081", "127.0.0.1:8081", true},
		{"localhost:8081", "[::1]:8081", true},
		{"[::ffff:127.0.0.1]:8081", "127.0.0.1:8081", true},
		{"127.0.0.1:8080", "127.0.0.1:8081", false},
		{"127.0.0.1:8081", "127.0.0.2:8081", false},
		{"localhost:8081", "10.0.0.5:8081", false},
		{"10.0.0.5:8081", "10.0.0.6:8081", false},
		{"nonsense", "127.0.0.1:8081", false},
	} {
		if got := config.SameListener(tc.a, tc.b); got != tc.want {
			t.Errorf("SameListener(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
