// Package demo runs the loopback targets and the embedded config of
// `vantage demo`: a healthy HTTP API, a slow one, a flaky one, a TCP
// service, a DNS server and a TLS endpoint whose certificate expires soon.
// Everything listens on 127.0.0.1 and needs no network.
package demo

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Targets are the running demo targets.
type Targets struct {
	HTTP   string // base URL of the HTTP targets (/api/health, /slow, /flaky) and of the alert inbox (/hooks/alerts)
	HTTPS  string // base URL of the TLS endpoint (certificate expires in 10 days)
	TCP    string // host:port of the TCP service (banner, echo)
	DNS    string // host:port of the DNS server (zone demo.test.)
	CAFile string // PEM of the CA that signed the TLS certificate

	closers []func() error
	wg      sync.WaitGroup
	inbox   inbox
}

// inbox keeps the newest notifications the demo's alert rules send to its
// webhook, so that GET /hooks/alerts shows what would have paged someone.
type inbox struct {
	mu  sync.Mutex
	got []json.RawMessage
}

// inboxSize is how many notifications the inbox keeps.
const inboxSize = 100

func (in *inbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil || !json.Valid(body) {
			http.Error(w, "want a JSON body", http.StatusBadRequest)
			return
		}
		in.mu.Lock()
		in.got = append(in.got, body)
		if len(in.got) > inboxSize {
			in.got = in.got[len(in.got)-inboxSize:]
		}
		in.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	case http.MethodGet:
		in.mu.Lock()
		out := slices.Clone(in.got)
		in.mu.Unlock()
		slices.Reverse(out) // newest first
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"notifications": out})
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// Start starts every target on 127.0.0.1; dir receives the CA file.
func Start(ctx context.Context, dir string) (*Targets, error) {
	t := &Targets{}
	steps := []func(context.Context, string) error{t.startHTTP, t.startHTTPS, t.startTCP, t.startDNS}
	for _, step := range steps {
		if err := step(ctx, dir); err != nil {
			_ = t.Close()
			return nil, err
		}
	}
	return t, nil
}

// Close stops every target.
func (t *Targets) Close() error {
	var errs []error
	for i := len(t.closers) - 1; i >= 0; i-- {
		errs = append(errs, t.closers[i]())
	}
	t.wg.Wait()
	return errors.Join(errs...)
}

func listen() (net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on 127.0.0.1: %w", err)
	}
	return ln, nil
}

func (t *Targets) serveHTTP(ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	t.closers = append(t.closers, srv.Close)
	t.wg.Go(func() { _ = srv.Serve(ln) })
}

// apiHandler serves the three HTTP targets and the alert inbox.
func apiHandler(in *inbox) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/hooks/alerts", in)
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, shopPage)
	})
	mux.HandleFunc("/api/health", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"status":"ok","version":"1.4.2"}`)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		wait(r.Context(), time.Duration(300+rand.IntN(500))*time.Millisecond)
		fmt.Fprint(w, "finally\n")
	})
	mux.HandleFunc("/flaky", func(w http.ResponseWriter, r *http.Request) {
		if rand.IntN(5) == 0 { // about 20 % of requests fail
			http.Error(w, "upstream unavailable", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, "ok\n")
	})
	return mux
}

// shopPage is the page the demo's browser check walks through.
const shopPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Demo shop</title>
<style>body{font:16px system-ui,sans-serif;margin:2rem}#msg{color:#0a6b2d}</style></head>
<body><h1>Demo shop</h1><p>One very useful item.</p>
<label>Email <input id="email" type="email"></label>
<button id="buy" onclick="document.getElementById('msg').textContent='Thanks, '+document.getElementById('email').value">Buy</button>
<p id="msg"></p></body></html>`

func wait(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func (t *Targets) startHTTP(context.Context, string) error {
	ln, err := listen()
	if err != nil {
		return err
	}
	t.HTTP = "http://" + ln.Addr().String()
	t.serveHTTP(ln, apiHandler(&t.inbox))
	return nil
}

func (t *Targets) startHTTPS(_ context.Context, dir string) error {
	ca, err := newCA()
	if err != nil {
		return err
	}
	cert, err := ca.issue(10*24*time.Hour+time.Hour, "localhost", net.IPv4(127, 0, 0, 1))
	if err != nil {
		return err
	}
	t.CAFile = filepath.Join(dir, "demo-ca.pem")
	if err := os.WriteFile(t.CAFile, ca.pem, 0o600); err != nil {
		return fmt.Errorf("write demo CA: %w", err)
	}
	ln, err := listen()
	if err != nil {
		return err
	}
	t.HTTPS = "https://" + ln.Addr().String()
	tln := tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	t.serveHTTP(tln, apiHandler(&t.inbox))
	return nil
}

// startTCP runs a line service: a banner, then every line echoed.
func (t *Targets) startTCP(context.Context, string) error {
	ln, err := listen()
	if err != nil {
		return err
	}
	t.TCP = ln.Addr().String()
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	t.closers = append(t.closers, func() error {
		err := ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		return err
	})
	t.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			t.wg.Go(func() {
				defer func() { mu.Lock(); delete(conns, c); mu.Unlock(); c.Close() }()
				echo(c)
			})
		}
	})
	return nil
}

func echo(c net.Conn) {
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(c, "220 vantage-demo ready\r\n"); err != nil {
		return
	}
	sc := bufio.NewScanner(c)
	for sc.Scan() {
		if _, err := fmt.Fprintf(c, "%s\r\n", sc.Text()); err != nil {
			return
		}
	}
}

const zone = `$ORIGIN demo.test.
$TTL 300
@    IN SOA ns.demo.test. hostmaster.demo.test. 2026112501 7200 900 1209600 300
@    IN NS  ns.demo.test.
@    IN MX  10 mail.demo.test.
@    IN TXT "v=spf1 -all"
ns   IN A   127.0.0.1
www  IN A   127.0.0.1
www  IN AAAA ::1
mail IN A   127.0.0.1
`

// startDNS serves zone over UDP and TCP on one port.
func (t *Targets) startDNS(context.Context, string) error {
	records := map[string][]dns.RR{}
	zp := dns.NewZoneParser(strings.NewReader(zone), "", "")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		k := dns.CanonicalName(rr.Header().Name) + "/" + dns.TypeToString[rr.Header().Rrtype]
		records[k] = append(records[k], rr)
	}
	if err := zp.Err(); err != nil {
		return fmt.Errorf("parse demo zone: %w", err)
	}
	h := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		m.Authoritative = true
		if len(req.Question) == 1 {
			q := req.Question[0]
			m.Answer = records[dns.CanonicalName(q.Name)+"/"+dns.TypeToString[q.Qtype]]
			if m.Answer == nil && !hasName(records, q.Name) {
				m.Rcode = dns.RcodeNameError
			}
		}
		_ = w.WriteMsg(m)
	})
	pc, ln, err := listenUDPAndTCP()
	if err != nil {
		return err
	}
	t.DNS = pc.LocalAddr().String()
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: ln, Handler: h}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		t.wg.Go(func() { _ = srv.ActivateAndServe() })
		<-started
		t.closers = append(t.closers, srv.Shutdown)
	}
	return nil
}

// listenUDPAndTCP binds UDP and TCP on one free loopback port. The port is
// picked for UDP, so TCP may find it taken: then another port is tried.
func listenUDPAndTCP() (net.PacketConn, net.Listener, error) {
	var lastErr error
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return nil, nil, fmt.Errorf("listen dns: %w", err)
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln, nil
		}
		pc.Close()
		lastErr = err
	}
	return nil, nil, fmt.Errorf("listen dns tcp: %w", lastErr)
}

func hasName(records map[string][]dns.RR, name string) bool {
	prefix := dns.CanonicalName(name) + "/"
	for k := range records {
		if len(k) > len(prefix) && k[:len(prefix)] == prefix {
			return true
		}
	}
	return false
}
