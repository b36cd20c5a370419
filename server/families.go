package server

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vantageprobe/vantage/probes"
)

// resultFamily is one per-result family with blackbox_exporter's name:
// values reports its series for one check × region. Both expositions (the
// collector for protobuf, the direct text writer) read this one table, so
// they cannot disagree.
type resultFamily struct {
	name, help string
	counter    bool
	extra      string // name of a label after check, region, type; or ""
	desc       *prometheus.Desc
	values     func(e *series, emit func(extra string, v float64))
}

func (f resultFamily) valueType() prometheus.ValueType { return valueType(f.counter) }

func valueType(counter bool) prometheus.ValueType {
	if counter {
		return prometheus.CounterValue
	}
	return prometheus.GaugeValue
}

// checkFamily is one per-check family (labels check and extra).
type checkFamily struct {
	name, help string
	extra      string
	desc       *prometheus.Desc
	values     func(v checkView, check string, emit func(extra string, v float64))
}

func (f checkFamily) valueType() prometheus.ValueType { return prometheus.GaugeValue }

func newResultFamily(name, help, extra string, values func(e *series, emit func(string, float64))) resultFamily {
	labels := []string{"check", "region", "type"}
	if extra != "" {
		labels = append(labels, extra)
	}
	return resultFamily{name: name, help: help, extra: extra, values: values,
		desc: prometheus.NewDesc(name, help, labels, nil)}
}

func gauge(get func(e *series) (float64, bool)) func(e *series, emit func(string, float64)) {
	return func(e *series, emit func(string, float64)) {
		if v, ok := get(e); ok {
			emit("", v)
		}
	}
}

func isHTTP(e *series) bool { return e.rec.Kind == probes.KindHTTP }

// resultFamilies are the per-result series, in exposition order.
var resultFamilies = []resultFamily{
	newResultFamily("probe_success", "Whether the probe succeeded.", "",
		gauge(func(e *series) (float64, bool) { return b2f(e.rec.OK), true })),
	newResultFamily("probe_duration_seconds", "How long the probe took.", "",
		gauge(func(e *series) (float64, bool) { return e.rec.Duration.Seconds(), true })),
	newResultFamily("probe_http_duration_seconds", "Duration of the probe's phases.", "phase",
		func(e *series, emit func(string, float64)) {
			if isHTTP(e) {
				e.rec.Phases.Each(func(name string, d time.Duration) { emit(name, d.Seconds()) })
			}
		}),
	newResultFamily("probe_http_status_code", "HTTP status code of the final response.", "",
		gauge(func(e *series) (float64, bool) { return float64(e.rec.StatusCode), isHTTP(e) })),
	newResultFamily("probe_http_content_length", "Length of the HTTP content (-1 when unknown).", "",
		gauge(func(e *series) (float64, bool) {
			if h := e.detail.HTTP; h != nil && isHTTP(e) {
				return float64(h.ContentLength), true
			}
			return 0, false
		})),
	newResultFamily("probe_http_redirects", "Number of redirects followed.", "",
		gauge(func(e *series) (float64, bool) {
			if h := e.detail.HTTP; h != nil && isHTTP(e) {
				return float64(h.Redirects), true
			}
			return 0, false
		})),
	newResultFamily("probe_http_ssl", "Whether TLS was used for the final request.", "",
		gauge(func(e *series) (float64, bool) { return b2f(e.detail.TLS != nil), isHTTP(e) })),
	newResultFamily("probe_http_version", "HTTP version of the response.", "",
		gauge(func(e *series) (float64, bool) {
			if h := e.detail.HTTP; h != nil && isHTTP(e) {
				return httpVersion(h.Version), true
			}
			return 0, false
		})),
	newResultFamily("probe_ssl_earliest_cert_expiry", "Earliest expiry in the certificate chain, unix seconds.", "",
		gauge(func(e *series) (float64, bool) {
			if t := e.detail.TLS; t != nil && !t.EarliestChainExpiry.IsZero() {
				return float64(t.EarliestChainExpiry.Unix()), true
			}
			return 0, false
		})),
	newResultFamily("probe_ssl_last_chain_expiry_timestamp_seconds", "Expiry of the last certificate chain, unix seconds.", "",
		gauge(func(e *series) (float64, bool) {
			if t := e.detail.TLS; t != nil && !t.LastChainExpiry.IsZero() {
				return float64(t.LastChainExpiry.Unix()), true
			}
			return 0, false
		})),
	newResultFamily("probe_tls_version_info", "The negotiated TLS version.", "version",
		func(e *series, emit func(string, float64)) {
			if t := e.detail.TLS; t != nil && t.Version != "" {
				emit(t.Version, 1) // "TLS 1.3", as blackbox_exporter writes it
			}
		}),
	newResultFamily("probe_dns_lookup_time_seconds", "Time of the DNS query.", "",
		gauge(func(e *series) (float64, bool) { return e.rec.Phases.Processing.Seconds(), e.detail.DNS != nil })),
	newResultFamily("probe_dns_answer_rrs", "Number of records in the answer section.", "",
		gauge(func(e *series) (float64, bool) {
			if d := e.detail.DNS; d != nil {
				return float64(len(d.Answers)), true
			}
			return 0, false
		})),
	newResultFamily("probe_browser_web_vital_seconds", "Web Vitals of the page.", "vital",
		func(e *series, emit func(string, float64)) {
			if b := e.detail.Browser; b != nil {
				emit("lcp", b.LCP)
				emit("fcp", b.FCP)
				emit("ttfb", b.TTFB)
			}
		}),
	newResultFamily("probe_browser_cls", "Cumulative Layout Shift of the page.", "",
		gauge(func(e *series) (float64, bool) {
			if b := e.detail.Browser; b != nil {
				return b.CLS, true
			}
			return 0, false
		})),
}

// descProbes is vantage_probes_total{check,region,result}.
var descProbes = prometheus.NewDesc("vantage_probes_total", "Probe results recorded, by check, region and result (success or failure).",
	[]string{"check", "region", "result"}, nil)

// states are the values of vantage_check_state's state label.
var states = []string{StateUp, StateDegraded, StateDown, StateUnknown}

// checkFamilies are the per-check series.
var checkFamilies = []checkFamily{
	newCheckFamily("vantage_check_state", "The check's state across its regions (1 for the current one).", "state",
		func(v checkView, check string, emit func(string, float64)) {
			for _, s := range states {
				emit(s, b2f(v.state[check] == s))
			}
		}),
	newCheckFamily("vantage_check_uptime_ratio", "Share of passed probes over the window, all regions (recomputed every minute).", "window",
		func(v checkView, check string, emit func(string, float64)) {
			for _, w := range uptimeWindows {
				if r, ok := v.uptimes[check][w.name]; ok {
					emit(w.name, r)
				}
			}
		}),
}

func newCheckFamily(name, help, extra string, values func(v checkView, check string, emit func(string, float64))) checkFamily {
	return checkFamily{name: name, help: help, extra: extra, values: values,
		desc: prometheus.NewDesc(name, help, []string{"check", extra}, nil)}
}

// httpVersion turns "HTTP/1.1" into 1.1 as blackbox_exporter does.
func httpVersion(proto string) float64 {
	switch proto {
	case "HTTP/1.0":
		return 1.0
	case "HTTP/1.1":
		return 1.1
	case "HTTP/2.0":
		return 2
	case "HTTP/3.0":
		return 3
	}
	return 0
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
