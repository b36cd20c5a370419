// Package probes runs one check against one target and describes what happened.
//
// Each kind of probe (HTTP, TCP, DNS, TLS) lives in its own file with its spec,
// validation, constructor and Probe method. A Prober is built once from a
// validated spec and then only does I/O.
package probes

import (
	"context"
	"time"
)

// Kind names a probe type. It is also the config key of the probe block.
type Kind string

// The probe kinds.
const (
	KindHTTP    Kind = "http"
	KindTCP     Kind = "tcp"
	KindDNS     Kind = "dns"
	KindTLS     Kind = "tls"
	KindBrowser Kind = "browser"
)

// Prober runs one check.
type Prober interface {
	// Probe runs one check. A non-nil error means the probe itself could not
	// run (bad install, shutdown); a failing target is reported in Result.Err.
	Probe(ctx context.Context) (Result, error)
}

// Phases are the durations of the steps of one probe. For HTTP with
// redirects, each phase is the sum over all hops.
type Phases struct {
	Resolve    time.Duration // name resolution of the target
	Connect    time.Duration // TCP connect
	TLS        time.Duration // TLS handshake
	Processing time.Duration // request written → first response byte
	Transfer   time.Duration // first response byte → response read
}

// Phase names as used in metrics labels and JSON keys.
const (
	PhaseResolve    = "resolve"
	PhaseConnect    = "connect"
	PhaseTLS        = "tls"
	PhaseProcessing = "processing"
	PhaseTransfer   = "transfer"
)

// Each calls fn for every phase in order, with its name.
func (p Phases) Each(fn func(name string, d time.Duration)) {
	fn(PhaseResolve, p.Resolve)
	fn(PhaseConnect, p.Connect)
	fn(PhaseTLS, p.TLS)
	fn(PhaseProcessing, p.Processing)
	fn(PhaseTransfer, p.Transfer)
}

// Result describes one probe run.
type Result struct {
	Kind     Kind
	Target   string
	Started  time.Time
	Duration time.Duration
	// OK is true when the target answered and every assertion held.
	OK bool
	// Degraded is true when OK but a latency budget or a certificate-expiry
	// warning was exceeded; Warning says which.
	Degraded bool
	Warning  error
	// Err says why the target failed; it wraps one of the Err* sentinels.
	Err     error
	Phases  Phases
	TraceID string // W3C trace id sent in traceparent (HTTP), or ""
	// RemoteAddr is the ip:port the probe connected, or tried to connect,
	// to first (for HTTP the first hop, for DNS the server); "" when the
	// target never resolved. It is not in the JSON report, which a check
	// with hide_target shows.
	RemoteAddr string

	HTTP    *HTTPDetail
	TLS     *TLSDetail
	DNS     *DNSDetail
	TCP     *TCPDetail
	Browser *BrowserDetail
}

// fail marks r failed with err.
func (r *Result) fail(err error) {
	r.OK = false
	r.Degraded = false
	r.Warning = nil
	r.Err = err
}

// degrade marks r degraded with the warning err, unless it already failed.
func (r *Result) degrade(err error) {
	if r.Err != nil || r.Degraded {
		return
	}
	r.Degraded = true
	r.Warning = err
}

// HTTPDetail is what an HTTP probe learned.
type HTTPDetail struct {
	StatusCode    int
	Version       string // "HTTP/1.1", "HTTP/2.0"
	BodyBytes     int64  // bytes read (capped by max_body_bytes)
	BodyTruncated bool   // the body was longer than max_body_bytes (body assertions saw its start)
	ContentLength int64  // from the response header, -1 when unknown
	Redirects     int
	// RedirectNotFollowed is set when the final response is a redirect that
	// follow_redirects: false kept the probe from following.
	RedirectNotFollowed bool
	FinalURL            string
	LastModified        time.Time // the final response's Last-Modified header; zero when absent or unparsable
}

// TCPDetail is what a TCP probe learned.
type TCPDetail struct {
	RemoteAddr string
	Received   int // bytes read while expecting
}

// DNSDetail is what a DNS probe learned.
type DNSDetail struct {
	Rcode      string   // mnemonic: NOERROR, NXDOMAIN, SERVFAIL …
	Answers    []string // answer section in zone-file text
	Authority  int      // records in the authority section
	Additional int      // records in the additional section (without OPT)
	Transport  string   // the transport that produced the answer (udp, tcp, tcp-tls)
	Truncated  bool     // a UDP answer was truncated (and TCP was used, unless tcp_fallback: false)
}

// Unavailable is a prober that cannot run at all (its browser is missing,
// say): every Probe returns err as a prober error, never a target failure.
func Unavailable(err error) Prober { return unavailable{err} }

type unavailable struct{ err error }

func (u unavailable) Probe(context.Context) (Result, error) { return Result{}, u.err }
