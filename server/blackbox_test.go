package server

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/vantageprobe/vantage/config"
	"github.com/vantageprobe/vantage/probes/probestest"
)

// blackboxExporter is the reference implementation that `make deps`
// installs (Debian's prometheus-blackbox-exporter 0.23);
// VANTAGE_BLACKBOX_EXPORTER names another.
func blackboxExporter() string {
	if p := os.Getenv("VANTAGE_BLACKBOX_EXPORTER"); p != "" {
		return p
	}
	return "/usr/bin/prometheus-blackbox-exporter"
}

// bbCase is one module probed against one target.
type bbCase struct {
	module string
	target func(bbTargets) string
	ok     bool // the verdict both must reach
}

// bbTargets are the loopback servers the cases probe.
type bbTargets struct {
	http, https, tcp, tcpTLS, startTLS, irc, dns string
}

func bbCases() []bbCase {
	web := func(path string) func(bbTargets) string {
		return func(t bbTargets) string { return t.http + path }
	}
	return []bbCase{
		{"http_2xx", web("/"), true},
		{"http_2xx", func(t bbTargets) string { return strings.TrimPrefix(t.http, "http://") + "/" }, true},
		{"http_2xx", web("/notfound"), false},
		{"http_2xx", web("/redirect"), true},
		{"http_2xx", web("/lastmod"), true},
		{"http_2xx", web("/cookie"), true},
		{"http_body_regexp", web("/"), false},
		{"http_body_must_match", web("/"), true},
		{"http_body_must_match", web("/lastmod"), false},
		{"http_headers", web("/lastmod"), true},
		{"http_headers", web("/"), false},
		{"http_header_missing", web("/"), false},
		{"http_post", web("/echo"), true},
		{"https", func(t bbTargets) string { return t.https + "/" }, true},
		{"https", web("/"), false},
		{"https_insecure", func(t bbTargets) string { return t.https + "/" }, false},
		{"https_untrusted", func(t bbTargets) string { return t.https + "/" }, false},
		{"http_not_ssl", web("/"), false},
		{"http_no_follow", web("/redirect"), false},
		{"http_404_valid", web("/notfound"), true},
		{"http_404_valid", web("/"), false},
		{"http_gzip", web("/gzip"), true},
		{"http_size_limit", web("/"), true},
		{"http_size_limit", web("/big"), false},
		{"tcp_connect", func(t bbTargets) string { return t.tcp }, true},
		{"tcp_banner", func(t bbTargets) string { return t.tcp }, true},
		{"tcp_banner_mismatch", func(t bbTargets) string { return t.tcp }, false},
		{"tcp_tls_query", func(t bbTargets) string { return t.tcpTLS }, true},
		{"tcp_tls_query", func(t bbTargets) string { return t.tcp }, false},
		{"tcp_starttls", func(t bbTargets) string { return t.startTLS }, true},
		{"irc_banner", func(t bbTargets) string { return t.irc }, true},
		{"dns_a", func(t bbTargets) string { return t.dns }, true},
		{"dns_a_mismatch", func(t bbTargets) string { return t.dns }, false},
		{"dns_authority", func(t bbTargets) string { return t.dns }, true},
		{"dns_nxdomain", func(t bbTargets) string { return t.dns }, false},
		{"dns_nxdomain_valid", func(t bbTargets) string { return t.dns }, true},
		{"dns_soa", func(t bbTargets) string { return t.dns }, true},
		{"dns_any", func(t bbTargets) string { return t.dns }, true},
	}
}

// TestBlackboxCompat runs every case through the real blackbox_exporter
// and through Vantage (config.ParseBlackbox, Prober, registerBlackbox) and
// requires the same metric families, types, label names and help texts,
// and the same values wherever they are deterministic. Each case's
// blackbox_exporter output, normalized, is kept in testdata/blackbox; with
// VANTAGE_UPDATE_BLACKBOX=1 the live run rewrites it. Without the binary
// (and without CI) Vantage's output is held against those files instead.
func TestBlackboxCompat(t *testing.T) {
	_, err := os.Stat(blackboxExporter())
	live := err == nil
	switch {
	case !live && os.Getenv("CI") != "":
		t.Fatalf("%s is missing (make deps installs it): %v", blackboxExporter(), err)
	case !live:
		t.Logf("%s is missing: comparing with the recorded outputs only", blackboxExporter())
	}
	ca := probestest.NewCA(t)
	caFile := ca.WriteFile(t)
	src, err := os.ReadFile("testdata/blackbox/blackbox.yml")
	if err != nil {
		t.Fatal(err)
	}
	src = bytes.ReplaceAll(src, []byte("CA_FILE"), []byte(caFile))
	modulesFile := filepath.Join(t.TempDir(), "blackbox.yml")
	if err := os.WriteFile(modulesFile, src, 0o600); err != nil {
		t.Fatal(err)
	}
	mods, err := config.ParseBlackbox(modulesFile, src)
	if err != nil {
		t.Fatalf("ParseBlackbox: %v", err)
	}
	targets := startBlackboxTargets(t, ca)
	var bbURL string
	if live {
		bbURL = startBlackboxExporter(t, modulesFile)
	}
	for i, tc := range bbCases() {
		target := tc.target(targets)
		name := fmt.Sprintf("%02d_%s", i, tc.module)
		t.Run(name, func(t *testing.T) {
			m, ok := mods.Modules[tc.module]
			if !ok {
				t.Fatalf("module %s not loaded", tc.module)
			}
			ours := vantageProbe(t, m, target)
			checkVerdict(t, "vantage", ours, tc.ok)
			fixture := filepath.Join("testdata", "blackbox", name+".prom")
			if !live {
				compareFixture(t, fixture, normalizeFamilies(ours))
				return
			}
			theirs := scrapeBlackbox(t, bbURL, tc.module, target)
			checkVerdict(t, "blackbox_exporter", theirs, tc.ok)
			compareFamilies(t, theirs, ours)
			if os.Getenv("VANTAGE_UPDATE_BLACKBOX") != "" {
				if err := os.WriteFile(fixture, []byte(normalizeFamilies(theirs)), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			compareFixture(t, fixture, normalizeFamilies(theirs))
		})
	}
}

func checkVerdict(t *testing.T, who string, fams map[string]*dto.MetricFamily, ok bool) {
	t.Helper()
	f := fams["probe_success"]
	if f == nil || len(f.Metric) != 1 {
		t.Fatalf("%s: no probe_success", who)
	}
	if got := f.Metric[0].GetGauge().GetValue() == 1; got != ok {
		t.Errorf("%s: probe_success %v, want %v", who, got, ok)
	}
}

// vantageProbe probes target with m and gathers the blackbox series.
func vantageProbe(t *testing.T, m config.BlackboxModule, target string) map[string]*dto.MetricFamily {
	t.Helper()
	p, err := m.Prober(target)
	if err != nil {
		t.Fatalf("Prober(%q): %v", target, err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), m.Timeout)
	defer cancel()
	res, err := p.Probe(ctx)
	if err != nil {
		t.Fatalf("Probe: %v", err)
	}
	reg := prometheus.NewPedanticRegistry()
	registerBlackbox(reg, m, res)
	got, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	t.Logf("vantage: ok=%v err=%v", res.OK, res.Err)
	fams := make(map[string]*dto.MetricFamily, len(got))
	for _, f := range got {
		fams[f.GetName()] = f
	}
	return fams
}

// scrapeBlackbox asks blackbox_exporter to probe target with module.
func scrapeBlackbox(t *testing.T, base, module, target string) map[string]*dto.MetricFamily {
	t.Helper()
	u := base + "/probe?" + url.Values{"module": {module}, "target": {target}}.Encode()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("scrape blackbox_exporter: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("blackbox_exporter: %s: %s", resp.Status, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse blackbox_exporter output: %v", err)
	}
	return fams
}

// bbDeterministic are the families whose values must agree exactly;
// the others (durations, lookup times) only in their series.
var bbVolatile = map[string]bool{
	"probe_duration_seconds": true, "probe_http_duration_seconds": true,
	"probe_dns_lookup_time_seconds": true, "probe_dns_duration_seconds": true,
}

// compareFamilies requires ours to have exactly blackbox_exporter's
// families, with the same types, help, label names and, but for volatile
// families, the same series and values.
func compareFamilies(t *testing.T, theirs, ours map[string]*dto.MetricFamily) {
	t.Helper()
	for name, want := range theirs {
		got, ok := ours[name]
		if !ok {
			t.Errorf("%s: missing in vantage's output", name)
			continue
		}
		if got.GetType() != want.GetType() || got.GetHelp() != want.GetHelp() {
			t.Errorf("%s: type %s help %q, blackbox_exporter has %s %q", name, got.GetType(), got.GetHelp(), want.GetType(), want.GetHelp())
		}
		g, w := seriesOf(got, !bbVolatile[name]), seriesOf(want, !bbVolatile[name])
		if !slices.Equal(g, w) {
			t.Errorf("%s:\n vantage           %q\n blackbox_exporter %q", name, g, w)
		}
	}
	for name := range ours {
		if theirs[name] == nil {
			t.Errorf("%s: vantage has it, blackbox_exporter does not", name)
		}
	}
}

// seriesOf lists a family's series as `{labels} value` (value left out
// unless withValue), sorted.
func seriesOf(f *dto.MetricFamily, withValue bool) []string {
	var out []string
	for _, m := range f.Metric {
		var ls []string
		for _, l := range m.Label {
			ls = append(ls, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
		}
		s := "{" + strings.Join(ls, ",") + "}"
		if withValue {
			s += fmt.Sprintf(" %g", m.GetGauge().GetValue())
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// normalizeFamilies renders families as text that does not change from
// run to run: volatile values, certificate expiries and fingerprints are
// replaced by placeholders.
func normalizeFamilies(fams map[string]*dto.MetricFamily) string {
	var b strings.Builder
	for _, name := range slices.Sorted(mapsKeys(fams)) {
		f := fams[name]
		fmt.Fprintf(&b, "# TYPE %s %s\n", name, strings.ToLower(f.GetType().String()))
		stable := !bbVolatile[name] && !strings.Contains(name, "expiry")
		for _, s := range seriesOf(f, stable) {
			if i := strings.Index(s, `fingerprint_sha256="`); i >= 0 {
				s = s[:i] + `fingerprint_sha256="<sha256>"` + s[i+len(`fingerprint_sha256="`)+64+1:]
			}
			if !stable {
				s += " <volatile>"
			}
			fmt.Fprintf(&b, "%s%s\n", name, s)
		}
	}
	return b.String()
}

func mapsKeys(m map[string]*dto.MetricFamily) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func compareFixture(t *testing.T, path, got string) {
	t.Helper()
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read fixture (VANTAGE_UPDATE_BLACKBOX=1 with the binary writes it): %v", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s:\n--- got\n%s--- want\n%s", path, got, want)
	}
}

// startBlackboxExporter runs blackbox_exporter with modulesFile on a
// loopback port until the test ends, and returns its base URL.
func startBlackboxExporter(t *testing.T, modulesFile string) string {
	t.Helper()
	addr := probestest.RefusedAddr(t) // a free port
	cmd := exec.Command(blackboxExporter(), "--config.file="+modulesFile, "--web.listen-address="+addr, "--log.level=warn")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start blackbox_exporter: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("blackbox_exporter output:\n%s", logs.String())
		}
	})
	base := "http://" + addr
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + "/metrics")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("blackbox_exporter did not come up on %s: %v\n%s", addr, err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

const bbZone = `$ORIGIN example.test.
$TTL 60
@       IN SOA ns1 hostmaster 2024010101 3600 600 86400 60
@       NS     ns1
ns1     A      127.0.0.1
www     A      192.0.2.1
www     A      192.0.2.2
nodata  TXT    "no address here"
`

// startBlackboxTargets starts the loopback servers the cases probe.
func startBlackboxTargets(t *testing.T, ca *probestest.CA) bbTargets {
	t.Helper()
	cert := ca.Issue(t, probestest.CertOptions{})
	web := httptest.NewServer(bbWebMux())
	t.Cleanup(web.Close)
	secure := probestest.StartHTTPS(t, cert, bbWebMux())
	_, port, _ := net.SplitHostPort(secure.Listener.Addr().String())
	return bbTargets{
		http:     web.URL,
		https:    "https://localhost:" + port,
		tcp:      probestest.Echo(t, "SSH-2.0-vantage\r\n"),
		tcpTLS:   probestest.StartTLS(t, cert, probestest.TLSOptions{}, bbPOPHandler),
		startTLS: probestest.ServeTCP(t, bbStartTLSHandler(cert)),
		irc:      probestest.ServeTCP(t, bbIRCHandler),
		dns:      probestest.StartDNS(t, probestest.DNSOptions{Zone: bbZone}).Addr,
	}
}

func bbWebMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "hello vantage\n") })
	mux.HandleFunc("/notfound", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "no such page", http.StatusNotFound) })
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/", http.StatusFound) })
	mux.HandleFunc("/lastmod", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Last-Modified", "Wed, 21 Oct 2015 07:28:00 GMT")
		w.Header().Set("X-Version", "v2")
		_, _ = io.WriteString(w, "versioned\n")
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		_, _ = io.Copy(w, r.Body)
	})
	mux.HandleFunc("/gzip", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		_, _ = io.WriteString(zw, "hello gzip\n")
		_ = zw.Close()
	})
	mux.HandleFunc("/cookie", func(w http.ResponseWriter, r *http.Request) {
		if _, err := r.Cookie("session"); err != nil {
			http.SetCookie(w, &http.Cookie{Name: "session", Value: "1", Path: "/"})
			http.Redirect(w, r, "/cookie", http.StatusFound)
			return
		}
		_, _ = io.WriteString(w, "welcome back\n")
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write(bytes.Repeat([]byte("x"), 4096))
	})
	return mux
}

// bbPOPHandler greets like a POP3 server and echoes lines.
func bbPOPHandler(c net.Conn) {
	if _, err := io.WriteString(c, "+OK vantage ready\r\n"); err != nil {
		return
	}
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		if _, err := io.WriteString(c, line); err != nil {
			return
		}
	}
}

// bbStartTLSHandler speaks a small SMTP-like STARTTLS exchange.
func bbStartTLSHandler(cert tls.Certificate) func(context.Context, net.Conn) {
	return func(_ context.Context, c net.Conn) {
		r := bufio.NewReader(c)
		if _, err := io.WriteString(c, "220 vantage ESMTP\r\n"); err != nil {
			return
		}
		if line, err := r.ReadString('\n'); err != nil || strings.TrimSpace(line) != "STARTTLS" {
			return
		}
		if _, err := io.WriteString(c, "220 go ahead\r\n"); err != nil {
			return
		}
		tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}})
		if err := tc.Handshake(); err != nil {
			return
		}
		_, _ = io.WriteString(tc, "250 secure\r\n")
		_, _ = io.Copy(io.Discard, tc)
	}
}

// bbIRCHandler pings the client and welcomes it once it answers the PING
// with the same token.
func bbIRCHandler(_ context.Context, c net.Conn) {
	r := bufio.NewReader(c)
	if _, err := io.WriteString(c, ":srv NOTICE * :hello\r\nPING :tok3n\r\n"); err != nil {
		return
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		if strings.TrimSpace(line) == "PONG tok3n" {
			_, _ = io.WriteString(c, ":srv 001 prober :Welcome\r\n")
		}
	}
}
