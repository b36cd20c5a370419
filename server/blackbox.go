package server

import (
	"errors"
	"hash/fnv"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vantageprobe/vantage/config"
	"github.com/vantageprobe/vantage/probes"
)

// registerBlackbox registers on reg the series blackbox_exporter 0.23
// would expose for this module's probe result: its names, help texts,
// labels and meaning, without check or region labels. reg is meant to be
// a fresh registry per request, as blackbox_exporter uses.
func registerBlackbox(reg prometheus.Registerer, m config.BlackboxModule, res probes.Result) {
	g := bbGauges{reg}
	g.set("probe_success", "Displays whether or not the probe was a success", b2f(res.OK))
	g.set("probe_duration_seconds", "Returns how long the probe took to complete in seconds", res.Duration.Seconds())
	switch m.Kind {
	case probes.KindHTTP:
		bbHTTP(g, m, res)
	case probes.KindTCP:
		bbTCP(g, res)
	case probes.KindDNS:
		bbDNS(g, m, res)
	}
}

// bbGauges registers constant gauges.
type bbGauges struct{ reg prometheus.Registerer }

func (g bbGauges) set(name, help string, v float64) {
	gauge := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	gauge.Set(v)
	g.reg.MustRegister(gauge)
}

// vec registers a gauge vector with one series per element of values,
// each a label value list and a value.
func (g bbGauges) vec(name, help string, labels []string, series ...bbSeries) {
	v := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	for _, s := range series {
		v.WithLabelValues(s.labels...).Set(s.value)
	}
	g.reg.MustRegister(v)
}

type bbSeries struct {
	labels []string
	value  float64
}

// bbIP registers what blackbox_exporter's name resolution reports: the
// lookup time, and the family and a hash of the address it chose (0 when
// resolving failed).
func bbIP(g bbGauges, res probes.Result) {
	var proto, hash float64
	if ap, err := netip.ParseAddrPort(res.RemoteAddr); err == nil {
		ip := ap.Addr().Unmap()
		proto = 6
		if ip.Is4() {
			proto = 4
		}
		h := fnv.New32a()
		_, _ = h.Write(ip.AsSlice())
		hash = float64(h.Sum32())
	}
	g.set("probe_dns_lookup_time_seconds", "Returns the time taken for probe dns lookup in seconds", res.Phases.Resolve.Seconds())
	g.set("probe_ip_protocol", "Specifies whether probe ip protocol is IP4 or IP6", proto)
	g.set("probe_ip_addr_hash", "Specifies the hash of IP address. It's useful to detect if the IP address changes.", hash)
}

func bbHTTP(g bbGauges, m config.BlackboxModule, res probes.Result) {
	bbIP(g, res)
	phases := []bbSeries{{[]string{probes.PhaseResolve}, res.Phases.Resolve.Seconds()}}
	if !errors.Is(res.Err, probes.ErrResolve) {
		phases = append(phases,
			bbSeries{[]string{probes.PhaseConnect}, res.Phases.Connect.Seconds()},
			bbSeries{[]string{probes.PhaseTLS}, res.Phases.TLS.Seconds()},
			bbSeries{[]string{probes.PhaseProcessing}, res.Phases.Processing.Seconds()},
			bbSeries{[]string{probes.PhaseTransfer}, res.Phases.Transfer.Seconds()})
	}
	g.vec("probe_http_duration_seconds", "Duration of http request by phase, summed over all redirects", []string{"phase"}, phases...)
	h := res.HTTP
	if h == nil {
		h = &probes.HTTPDetail{}
	}
	redirects, body := h.Redirects, h.BodyBytes
	if h.RedirectNotFollowed {
		redirects++ // blackbox_exporter counts the redirect it refused, and reads no body then
		body = 0
	}
	bodyRegexps := len(m.HTTP.Expect.BodyAll)+len(m.HTTP.Expect.BodyNone) > 0
	regex := errors.Is(res.Err, probes.ErrHeaderMismatch) || (bodyRegexps && errors.Is(res.Err, probes.ErrBodyMismatch))
	g.set("probe_http_content_length", "Length of http content response", float64(h.ContentLength))
	g.set("probe_http_uncompressed_body_length", "Length of uncompressed response body", float64(body))
	g.set("probe_http_redirects", "The number of redirects", float64(redirects))
	g.set("probe_http_ssl", "Indicates if SSL was used for the final redirect", b2f(res.TLS != nil && res.HTTP != nil))
	g.set("probe_http_status_code", "Response HTTP status code", float64(h.StatusCode))
	g.set("probe_http_version", "Returns the version of HTTP of the probe response", bbHTTPVersion(h.Version))
	g.set("probe_failed_due_to_regex", "Indicates if probe failed due to regex", b2f(regex))
	if !h.LastModified.IsZero() {
		g.set("probe_http_last_modified_timestamp_seconds", "Returns the Last-Modified HTTP response header in unixtime", float64(h.LastModified.Unix()))
	}
	if res.HTTP != nil && res.TLS != nil {
		bbTLS(g, res.TLS)
	}
}

// bbHTTPVersion is the number of a protocol such as "HTTP/1.1", 0 when none.
func bbHTTPVersion(proto string) float64 {
	v, err := strconv.ParseFloat(strings.TrimPrefix(proto, "HTTP/"), 64)
	if err != nil {
		return 0
	}
	return v
}

// bbTLS registers the TLS session's series.
func bbTLS(g bbGauges, t *probes.TLSDetail) {
	var last time.Time // the zero time when no chain was verified, as blackbox_exporter reports it
	if t.Verified {
		last = t.LastChainExpiry
	}
	// The help texts are blackbox_exporter 0.23's, the first one's slip included.
	g.set("probe_ssl_earliest_cert_expiry", "Returns last SSL chain expiry in unixtime", float64(t.PresentedExpiry.Unix()))
	g.vec("probe_tls_version_info", "Returns the TLS version used or NaN when unknown", []string{"version"}, bbSeries{[]string{t.Version}, 1})
	g.set("probe_ssl_last_chain_expiry_timestamp_seconds", "Returns last SSL chain expiry in timestamp", float64(last.Unix()))
	g.vec("probe_ssl_last_chain_info", "Contains SSL leaf certificate information",
		[]string{"fingerprint_sha256", "subject", "issuer", "subjectalternative"},
		bbSeries{[]string{t.Fingerprint, t.Subject, t.Issuer, strings.Join(t.DNSNames, ",")}, 1})
}

func bbTCP(g bbGauges, res probes.Result) {
	g.set("probe_failed_due_to_regex", "Indicates if probe failed due to regex", b2f(errors.Is(res.Err, probes.ErrExpectMismatch)))
	bbIP(g, res)
	if res.TLS != nil {
		bbTLS(g, res.TLS)
	}
}

func bbDNS(g bbGauges, m config.BlackboxModule, res probes.Result) {
	bbIP(g, res)
	p := res.Phases
	g.vec("probe_dns_duration_seconds", "Duration of DNS request by phase", []string{"phase"},
		bbSeries{[]string{"resolve"}, p.Resolve.Seconds()},
		bbSeries{[]string{"connect"}, (p.Connect + p.TLS).Seconds()},
		bbSeries{[]string{"request"}, p.Processing.Seconds()})
	d := res.DNS
	if d == nil {
		d = &probes.DNSDetail{}
	}
	answered := d.Rcode != ""
	g.set("probe_dns_answer_rrs", "Returns number of entries in the answer resource record list", float64(len(d.Answers)))
	g.set("probe_dns_authority_rrs", "Returns number of entries in the authority resource record list", float64(d.Authority))
	g.set("probe_dns_additional_rrs", "Returns number of entries in the additional resource record list", float64(d.Additional))
	g.set("probe_dns_query_succeeded", "Displays whether or not the query was executed successfully", b2f(answered))
	if answered && uint16(m.DNS.Type) == dns.TypeSOA {
		g.set("probe_dns_serial", "Returns the serial number of the zone", soaSerial(d.Answers))
	}
}

// soaSerial is the serial of the last SOA record among answers (zone-file
// text), 0 when there is none.
func soaSerial(answers []string) float64 {
	var serial float64
	for _, a := range answers {
		if rr, err := dns.NewRR(a); err == nil {
			if soa, ok := rr.(*dns.SOA); ok {
				serial = float64(soa.Serial)
			}
		}
	}
	return serial
}
