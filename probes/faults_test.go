package probes_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/probes"
	"github.com/vantageprobe/vantage/probes/probestest"
)

// TestResetMidHandshake: a target that resets the connection after the
// ClientHello fails the run at once with class tls, for the TLS, HTTPS and
// TCP-with-TLS probes alike; the probe neither hangs to its timeout nor
// takes the reset for a connect failure.
func TestResetMidHandshake(t *testing.T) {
	addr, resets := probestest.ResetMidHandshake(t)
	mk := map[string]func() (probes.Prober, error){
		"tls":   func() (probes.Prober, error) { return probes.NewTLS(probes.TLSSpec{Address: addr}) },
		"https": func() (probes.Prober, error) { return probes.NewHTTP(probes.HTTPSpec{URL: "https://" + addr + "/"}) },
		"tcp":   func() (probes.Prober, error) { return probes.NewTCP(probes.TCPSpec{Address: addr, TLS: true}) },
	}
	for name, newProber := range mk {
		t.Run(name, func(t *testing.T) {
			p, err := newProber()
			if err != nil {
				t.Fatal(err)
			}
			before := resets()
			start := time.Now()
			r := probeOnce(t, p, 5*time.Second)
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("took %v: the reset was not noticed", took)
			}
			wantOutcome(t, r, false, probes.ErrTLSHandshake)
			if !strings.Contains(r.Err.Error(), "reset") {
				t.Errorf("error %q does not say the connection was reset", r.Err)
			}
			if resets() == before {
				t.Error("the target saw no ClientHello")
			}
			if r.Phases.Connect <= 0 || r.Phases.TLS <= 0 {
				t.Errorf("phases %+v: connect and tls should both be timed", r.Phases)
			}
		})
	}
}
