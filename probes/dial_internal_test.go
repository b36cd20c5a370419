package probes

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// startHostsDNS serves, on 127.0.0.1, dual.vantage.test (127.0.0.1 and
// ::1), v4.vantage.test (127.0.0.2) and v6.vantage.test (::1), and
// returns a resolver that asks it.
func startHostsDNS(t *testing.T) *net.Resolver {
	t.Helper()
	records := map[string][]string{
		"dual.vantage.test.": {"A 127.0.0.1", "AAAA ::1"},
		"v4.vantage.test.":   {"A 127.0.0.2"},
		"v6.vantage.test.":   {"AAAA ::1"},
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg).SetReply(req)
		q := req.Question[0]
		for _, rec := range records[strings.ToLower(q.Name)] {
			rr, err := dns.NewRR(q.Name + " 60 IN " + rec)
			if err == nil && rr.Header().Rrtype == q.Qtype {
				m.Answer = append(m.Answer, rr)
			}
		}
		_ = w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", pc.LocalAddr().String())
	}}
}

// TestResolvePreference: ip_version restricts the family, and with any,
// prefer_ip_version picks between the addresses of a dual-stack name,
// falling back to the other family.
func TestResolvePreference(t *testing.T) {
	resolver := startHostsDNS(t)
	tests := []struct {
		host            string
		version, prefer IPVersion
		want            string // "" for an error
	}{
		{"dual.vantage.test.", IPAny, "", "127.0.0.1"},
		{"dual.vantage.test.", IPAny, IPv4, "127.0.0.1"},
		{"dual.vantage.test.", IPAny, IPv6, "::1"},
		{"dual.vantage.test.", IPv6, "", "::1"},
		{"v4.vantage.test.", IPAny, IPv6, "127.0.0.2"}, // fallback
		{"v6.vantage.test.", IPAny, IPv4, "::1"},       // fallback
		{"v6.vantage.test.", IPv4, "", ""},
		{"v4.vantage.test.", IPv6, "", ""},
		{"127.0.0.1", IPAny, IPv6, "127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.host+"/"+string(tt.version)+"/"+string(tt.prefer), func(t *testing.T) {
			d := newDialer(tt.version, nil).withAddressing(tt.prefer, "")
			d.resolver = resolver
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			ip, err := d.resolve(ctx, tt.host)
			switch {
			case tt.want == "" && err == nil:
				t.Fatalf("resolved to %s, want an error", ip)
			case tt.want != "" && (err != nil || ip != netip.MustParseAddr(tt.want)):
				t.Fatalf("resolve = %v, %v; want %s", ip, err, tt.want)
			}
		})
	}
}

// TestSourceAddressTypes: the source address is bound for TCP and UDP
// alike.
func TestSourceAddressTypes(t *testing.T) {
	d := newDialer(IPAny, nil).withAddressing("", "127.0.0.2")
	for _, network := range []string{"tcp", "udp"} {
		ln, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		addr := ln.LocalAddr().String()
		if network == "tcp" {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
			addr = l.Addr().String()
		}
		c, err := d.netDialer(network).DialContext(t.Context(), network, addr)
		if err != nil {
			t.Fatalf("%s: %v", network, err)
		}
		host, _, _ := net.SplitHostPort(c.LocalAddr().String())
		c.Close()
		if host != "127.0.0.2" {
			t.Errorf("%s: local address %s, want 127.0.0.2", network, host)
		}
	}
}

// TestNumericName tells numeric shorthands of IPv4 addresses from real
// host names that contain digits (decided without any lookup).
func TestNumericName(t *testing.T) {
	for host, want := range map[string]bool{
		"2130706435": true, "2130706435.": true, "0x7f000001": true, "0X7F.1": true, "127.1": true,
		"10.0.0.1": true, "017700000001": true,
		"example.com": false, "1password.com": false, "123.example": false, "x0x7f.com": false,
		"0x.example": false, "localhost": false, "host-1": false, "": false,
	} {
		if got := numericName(host); got != want {
			t.Errorf("numericName(%q) = %v, want %v", host, got, want)
		}
	}
}
