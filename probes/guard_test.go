package probes_test

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/probes"
	"github.com/vantageprobe/vantage/probes/probestest"
)

func TestGuardDecisions(t *testing.T) {
	loopback, err := probes.NewGuard([]string{"127.0.0.1/32", "*.example.com"}, []string{"10.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	open, err := probes.NewGuard(nil, []string{"10.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		guard   *probes.Guard
		host    string
		ip      string
		allowed bool
	}{
		{loopback, "127.0.0.1", "127.0.0.1", true},
		{loopback, "127.0.0.3", "127.0.0.3", false},
		{loopback, "x", "::ffff:127.0.0.1", true},
		{loopback, "x", "::ffff:127.0.0.3", false},
		{loopback, "api.example.com", "203.0.113.5", true},
		{loopback, "API.Example.COM.", "203.0.113.5", true},
		{loopback, "example.com", "203.0.113.5", false},
		{loopback, "api.example.com", "169.254.169.254", false}, // an allowed name pointing at the metadata service
		{open, "metadata", "169.254.169.254", false},
		{open, "metadata", "::ffff:169.254.169.254", false},
		{open, "metadata", "fd00:ec2::254", false},
		{open, "x", "10.1.2.3", false},
		{open, "x", "fe80::1%eth0", false},
		{open, "x", "0.0.0.0", false},
		{open, "x", "203.0.113.5", true},
		{nil, "x", "169.254.169.254", true},
	}
	for _, tt := range tests {
		err := tt.guard.Check(tt.host, netip.MustParseAddr(tt.ip))
		if (err == nil) != tt.allowed {
			t.Errorf("Check(%s, %s) = %v, want allowed %v", tt.host, tt.ip, err, tt.allowed)
		}
		if err != nil && probes.ErrorClass(err) != "address_denied" {
			t.Errorf("class %q", probes.ErrorClass(err))
		}
	}
	for _, bad := range [][2][]string{{{"10.0.0.0/33"}, nil}, {{"a b"}, nil}, {nil, {"example.com"}}, {{"[x"}, nil}} {
		if _, err := probes.NewGuard(bad[0], bad[1]); err == nil {
			t.Errorf("NewGuard(%q, %q) accepted", bad[0], bad[1])
		}
	}
}

// TestGuardNeverDials: with only 127.0.0.1 allowed, a listener on
// 127.0.0.3 is never reached, directly, as an IPv4-mapped IPv6 address,
// or through a redirect from an allowed target.
func TestGuardNeverDials(t *testing.T) {
	port, reached := probestest.Tripwire(t, "127.0.0.3")
	allowed := startHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://127.0.0.3:"+port+"/", http.StatusFound)
	}))
	g, err := probes.NewGuard([]string{"127.0.0.1/32"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, url := range []string{"http://127.0.0.3:" + port + "/", "http://[::ffff:127.0.0.3]:" + port + "/", allowed.URL + "/"} {
		p, err := probes.NewHTTP(probes.HTTPSpec{URL: url}, probes.WithGuard(g))
		if err != nil {
			t.Fatal(err)
		}
		r := probeOnce(t, p, 2*time.Second)
		wantOutcome(t, r, false, probes.ErrAddressDenied)
		if !strings.Contains(r.Err.Error(), "127.0.0.3") {
			t.Errorf("%s: %v", url, r.Err)
		}
	}
	for _, build := range []func() (probes.Prober, error){
		func() (probes.Prober, error) {
			return probes.NewTCP(probes.TCPSpec{Address: "127.0.0.3:" + port}, probes.WithGuard(g))
		},
		func() (probes.Prober, error) {
			return probes.NewTLS(probes.TLSSpec{Address: "127.0.0.3:" + port}, probes.WithGuard(g))
		},
	} {
		p, err := build()
		if err != nil {
			t.Fatal(err)
		}
		wantOutcome(t, probeOnce(t, p, 2*time.Second), false, probes.ErrAddressDenied)
	}
	// Numeric shorthands of 127.0.0.3 (decimal, hex, "127.3") are refused
	// before any name resolution: the error is ours, not a DNS one, so no
	// query left the machine.
	for _, host := range []string{"2130706435", "0x7f000003", "127.3", "0x7f.0.0.3", "2130706435."} {
		p, err := probes.NewHTTP(probes.HTTPSpec{URL: "http://" + host + ":" + port + "/"}, probes.WithGuard(g))
		if err != nil {
			t.Fatal(err)
		}
		r := probeOnce(t, p, 2*time.Second)
		wantOutcome(t, r, false, probes.ErrAddressDenied)
		if !strings.Contains(r.Err.Error(), "standard form") || r.Phases.Resolve > 50*time.Millisecond {
			t.Errorf("%s: %v (resolve %s)", host, r.Err, r.Phases.Resolve)
		}
	}
	if n := reached(); n != 0 {
		t.Fatalf("the denied listener was reached %d times", n)
	}
}

// TestNumericHostNeedsNoGuard: even unguarded, a numeric shorthand is
// refused before name resolution.
func TestNumericHostNeedsNoGuard(t *testing.T) {
	p, err := probes.NewTCP(probes.TCPSpec{Address: "2130706433:1"})
	if err != nil {
		t.Fatal(err)
	}
	wantOutcome(t, probeOnce(t, p, 2*time.Second), false, probes.ErrAddressDenied)
}
