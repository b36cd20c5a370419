package config

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/probes"
)

// readsFiles reports whether decoding src would read a file (an x_file
// key): the fuzzer must not make the test read /dev/zero.
func readsFiles(src []byte) bool {
	escaped, _ := escapeDollars(src)
	read := false
	var raw bbFile
	Decode(escaped, &raw, DecodeOptions{ReadFile: func(string) ([]byte, error) {
		read = true
		return nil, errors.New("no files while fuzzing")
	}})
	return read
}

// Targets a module is probed with, one per prober.
var bbTargets = map[probes.Kind]string{probes.KindHTTP: "http://192.0.2.1:8080/health", probes.KindTCP: "192.0.2.1:22", probes.KindDNS: "192.0.2.53"}

// FuzzParseBlackbox translates arbitrary modules files. It must return
// quickly, the same answer twice, and either problems that each carry a
// message and a position, in file order, or modules whose specs pass their
// own validation once given a target and build a prober.
func FuzzParseBlackbox(f *testing.F) {
	files, err := filepath.Glob("testdata/blackbox/*.yml")
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed files: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		"",
		"modules: {}\n",
		"modules:\n  h:\n    prober: http\n    timeout: 3s\n    http:\n      valid_status_codes: [200, 204]\n      method: PUT\n      headers: {Host: example.com, X-Token: abc}\n      body: '{}'\n      compression: gzip\n      body_size_limit: 1.5MB\n      fail_if_body_not_matches_regexp: ['ok']\n      fail_if_header_matches: [{header: Server, regexp: 'nginx/1\\.0'}]\n      tls_config: {server_name: example.com, min_version: TLS13}\n      preferred_ip_protocol: ip4\n      ip_protocol_fallback: false\n",
		"modules:\n  t:\n    prober: tcp\n    tcp:\n      tls: true\n      source_ip_address: 127.0.0.1\n      query_response: [{expect: '^220 '}, {send: 'EHLO x'}, {expect: '^250'}]\n",
		"modules:\n  d:\n    prober: dns\n    dns: {query_name: example.com, query_type: MX, query_class: CH, transport_protocol: tcp, dns_over_tls: true, recursion_desired: false, valid_rcodes: [NXDOMAIN, SERVFAIL]}\n",
		"modules:\r\n  crlf:\r\n    prober: http\r\n    http:\r\n      headers:\r\n        X-A: \"a\\r\\nInjected: 1\"\r\n",
		"modules:\n  ctl:\n    prober: http\n    http: {method: \"GE\\x00T\", headers: {\"X\\tY\": \"\\x7f\"}, body: \"\\u0000\"}\n",
		"modules:\n  d:\n    prober: dns\n    dns: {query_name: \"a\\u0000.example\", query_type: TYPE65280}\n",
		"modules:\n  hosts:\n    prober: http\n    http: {headers: {host: a.example, Host: b.example, HOST: c.example}}\n",
		"modules:\n  big:\n    prober: http\n    timeout: 9999999999h\n    http: {valid_status_codes: [99999999999999999999, -1, 0], body_size_limit: 8EB}\n",
		"modules:\n  big:\n    prober: http\n    http: {body_size_limit: 1" + strings.Repeat("0", 400) + "KB}\n",
		"modules:\n  d:\n    prober: dns\n    dns:\n      query_name: x\n      valid_rcodes: []\n      validate_answer_rrs: {fail_if_not_matches_regexp: ['(', 'a{1001}']}\n",
		"modules:\n  irc:\n    prober: tcp\n    tcp: {query_response: [{expect: 'PING :([^ ]+)', send: 'PONG ${1}${2}$${x}${'}]}\n",
		"modules: &m\n  a: {prober: tcp}\n  b: *m\n",
		"modules:\n  n: " + strings.Repeat("[", 1000) + strings.Repeat("]", 1000) + "\n",
		"modules:\n  icmp: {prober: icmp, icmp: {ttl: 300}}\n  grpc: {prober: grpc}\n  x: {prober: ''}\n",
		"\xff\xfe\x00",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		if readsFiles(src) {
			return
		}
		start := time.Now()
		mods, err := ParseBlackbox("blackbox.yml", src)
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("ParseBlackbox took %v", d)
		}
		again, err2 := ParseBlackbox("blackbox.yml", src)
		if errString(err) != errString(err2) || !reflect.DeepEqual(mods, again) {
			t.Fatalf("two parses differ:\n%v\n%s\nthen\n%v\n%s", err, describeModules(mods), err2, describeModules(again))
		}
		if err != nil {
			checkBlackboxProblems(t, err)
			return
		}
		for key, m := range mods.Modules {
			checkBlackboxModule(t, key, m)
		}
	})
}

// describeModules prints the modules with their specs.
func describeModules(mods *BlackboxModules) string {
	if mods == nil {
		return "no modules"
	}
	var b strings.Builder
	for _, key := range slices.Sorted(maps.Keys(mods.Modules)) {
		m := mods.Modules[key]
		fmt.Fprintf(&b, "%s: %s %v", key, m.Kind, m.Timeout)
		for _, spec := range []any{m.HTTP, m.TCP, m.DNS} {
			if !reflect.ValueOf(spec).IsNil() {
				fmt.Fprintf(&b, " %+v", reflect.ValueOf(spec).Elem())
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func checkBlackboxProblems(t *testing.T, err error) {
	t.Helper()
	var cerr *Error
	if !errors.As(err, &cerr) || len(cerr.Problems) == 0 || cerr.File != "blackbox.yml" {
		t.Fatalf("error %v (%T), want a *config.Error with problems", err, err)
	}
	for _, p := range cerr.Problems {
		if p.Line < 0 || p.Column < 0 || p.Line == 0 && p.Column != 0 || p.Msg == "" {
			t.Errorf("bad problem %+v", p)
		}
	}
	if !slices.IsSortedFunc(cerr.Problems, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	}) {
		t.Errorf("problems not in file order:\n%v", err)
	}
}

// checkBlackboxModule: exactly the prober's spec, valid once it has a
// target, and a prober built from it (unless that would read files).
func checkBlackboxModule(t *testing.T, key string, m BlackboxModule) {
	t.Helper()
	if m.Name != key || m.Timeout < 0 {
		t.Fatalf("module %q: %+v", key, m)
	}
	target := bbTargets[m.Kind]
	var (
		err error
		tls probes.TLSOptions
	)
	switch {
	case m.Kind == probes.KindHTTP && m.HTTP != nil && m.TCP == nil && m.DNS == nil:
		s := *m.HTTP
		s.URL, tls = target, s.TLSConfig
		err = s.Validate()
	case m.Kind == probes.KindTCP && m.TCP != nil && m.HTTP == nil && m.DNS == nil:
		s := *m.TCP
		s.Address, tls = target, s.TLSConfig
		err = s.Validate()
	case m.Kind == probes.KindDNS && m.DNS != nil && m.HTTP == nil && m.TCP == nil:
		s := *m.DNS
		s.Server, tls = target, s.TLSConfig
		err = s.Validate()
	default:
		t.Fatalf("module %q of prober %q has specs http %v, tcp %v, dns %v", key, m.Kind, m.HTTP != nil, m.TCP != nil, m.DNS != nil)
	}
	if err != nil {
		t.Fatalf("module %q was accepted, but its spec is invalid: %v", key, err)
	}
	if tls.CAFile != "" || tls.CertFile != "" || tls.KeyFile != "" {
		return
	}
	if _, err := m.Prober(target); err != nil {
		t.Fatalf("module %q was accepted, but cannot probe %s: %v", key, target, err)
	}
}
