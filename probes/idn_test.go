package probes

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/probes/probestest"
)

func TestASCIIHost(t *testing.T) {
	for in, want := range map[string]string{
		"example.com":           "example.com",
		"127.0.0.1":             "127.0.0.1",
		"::1":                   "::1",
		"bücher.example":        "xn--bcher-kva.example",
		"BÜCHER.example":        "xn--bcher-kva.example",
		"münchen.de":            "xn--mnchen-3ya.de",
		"xn--bcher-kva.example": "xn--bcher-kva.example",
		"пример.испытание":      "xn--e1afmkfd.xn--80akhbyknj4f",
	} {
		if got, err := asciiHost(in); err != nil || got != want {
			t.Errorf("asciiHost(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"bü\u0000cher.example", "exa\u2028mple.ü", "ü..example"} {
		if got, err := asciiHost(bad); err == nil || !strings.Contains(err.Error(), "not a valid internationalized host name") {
			t.Errorf("asciiHost(%q) = %q, %v; want an error", bad, got, err)
		}
	}
	if got, _ := asciiName("bücher.example."); got != "xn--bcher-kva.example." {
		t.Errorf("asciiName keeps the root dot: %q", got)
	}
}

// An internationalized name is asked in DNS, sent as SNI and matched
// against certificates in its ASCII form.
func TestIDNProbes(t *testing.T) {
	srv := probestest.StartDNS(t, probestest.DNSOptions{Zone: "$ORIGIN example.\nxn--bcher-kva 60 IN A 127.0.0.1\n"})
	p, err := NewDNS(DNSSpec{Server: srv.Addr, Name: "bücher.example"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	r, _ := p.Probe(ctx)
	if !r.OK || r.DNS == nil || len(r.DNS.Answers) != 1 || !strings.Contains(r.DNS.Answers[0], "127.0.0.1") {
		t.Fatalf("DNS probe of bücher.example: %+v, %v", r.DNS, r.Err)
	}

	ca := probestest.NewCA(t)
	snis := make(chan string, 1)
	addr := probestest.StartTLS(t, ca.Issue(t, probestest.CertOptions{DNSNames: []string{"xn--bcher-kva.example"}}),
		probestest.TLSOptions{}, func(c net.Conn) { snis <- c.(*tls.Conn).ConnectionState().ServerName })
	tp, err := NewTLS(TLSSpec{Address: addr, TLSOptions: TLSOptions{CAFile: ca.WriteFile(t), ServerName: "bücher.example"}})
	if err != nil {
		t.Fatal(err)
	}
	r, _ = tp.Probe(ctx)
	if sni := <-snis; !r.OK || sni != "xn--bcher-kva.example" {
		t.Fatalf("TLS probe with server_name bücher.example: ok=%v sni=%q err=%v", r.OK, sni, r.Err)
	}

	// A name IDNA refuses fails as a resolve error that says so, before
	// any lookup.
	hp, err := NewHTTP(HTTPSpec{URL: "http://ü..example/"})
	if err != nil {
		t.Fatal(err)
	}
	r, _ = hp.Probe(ctx)
	if r.OK || !errors.Is(r.Err, ErrResolve) || !strings.Contains(r.Err.Error(), "not a valid internationalized host name") {
		t.Errorf("http://ü..example/: ok=%v err=%v", r.OK, r.Err)
	}
}
