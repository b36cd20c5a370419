package probes

import "time"

// Report is the JSON form of one probe result: what `vantage check --json`
// prints and what the API returns as a check's last result. Durations are
// seconds, times RFC 3339 UTC.
type Report struct {
	// ID identifies a stored result (GET /api/v1/results/{id}/screenshot);
	// empty for an ad-hoc check.
	ID         string             `json:"id,omitempty"`
	Check      string             `json:"check"`
	Region     string             `json:"region,omitempty"`
	Type       Kind               `json:"type"`
	Target     string             `json:"target"`
	Started    time.Time          `json:"started"`
	OK         bool               `json:"ok"`
	Degraded   bool               `json:"degraded"`
	Error      string             `json:"error"`
	ErrorClass string             `json:"error_class"`
	Warning    string             `json:"warning,omitempty"`
	Duration   float64            `json:"duration_seconds"`
	Phases     map[string]float64 `json:"phases"`
	TraceID    string             `json:"trace_id,omitempty"`
	ReportDetail
}

// ReportDetail holds the kind-specific blocks; only the block of the
// probe's kind is present.
type ReportDetail struct {
	HTTP    *HTTPReport    `json:"http,omitempty"`
	TLS     *TLSReport     `json:"tls,omitempty"`
	DNS     *DNSReport     `json:"dns,omitempty"`
	TCP     *TCPReport     `json:"tcp,omitempty"`
	Browser *BrowserReport `json:"browser,omitempty"`
}

// HTTPReport is the http block of a Report.
type HTTPReport struct {
	StatusCode    int    `json:"status_code"`
	Version       string `json:"version"`
	BodyBytes     int64  `json:"body_bytes"`
	ContentLength int64  `json:"content_length"`
	Redirects     int    `json:"redirects"`
	FinalURL      string `json:"final_url"`
	// RedirectNotFollowed: the final response is a redirect left unfollowed (follow_redirects: false).
	RedirectNotFollowed bool      `json:"redirect_not_followed,omitempty"`
	LastModified        time.Time `json:"last_modified,omitzero"`
}

// TLSReport is the tls block of a Report.
type TLSReport struct {
	Version             string    `json:"version"`
	Cipher              string    `json:"cipher"`
	Subject             string    `json:"subject"`
	Issuer              string    `json:"issuer"`
	SANs                []string  `json:"sans"`
	NotAfter            time.Time `json:"not_after"`
	DaysLeft            int       `json:"days_left"`
	EarliestChainExpiry time.Time `json:"earliest_chain_expiry"`
	LastChainExpiry     time.Time `json:"last_chain_expiry"`
	Verified            bool      `json:"verified"`
	Fingerprint         string    `json:"fingerprint_sha256,omitempty"`
}

// DNSReport is the dns block of a Report.
type DNSReport struct {
	Rcode     string   `json:"rcode"`
	Answers   []string `json:"answers"`
	Transport string   `json:"transport"`
	Truncated bool     `json:"truncated"`
	// Authority and Additional count the records of those sections (without OPT).
	Authority  int `json:"authority_rrs"`
	Additional int `json:"additional_rrs"`
}

// TCPReport is the tcp block of a Report.
type TCPReport struct {
	RemoteAddr    string `json:"remote_addr"`
	ReceivedBytes int    `json:"received_bytes"`
}

// BrowserReport is the browser block of a Report. The screenshot itself is
// not in it, only whether one was taken.
type BrowserReport struct {
	FinalURL          string       `json:"final_url"`
	DOMContentLoaded  float64      `json:"dom_content_loaded_seconds"`
	Load              float64      `json:"load_seconds"`
	TTFB              float64      `json:"ttfb_seconds"`
	FCP               float64      `json:"fcp_seconds"`
	LCP               float64      `json:"lcp_seconds"`
	CLS               float64      `json:"cls"`
	Steps             []StepReport `json:"steps"`
	Requests          int          `json:"requests"`
	Bytes             int64        `json:"bytes"`
	JSErrors          []string     `json:"js_errors"`
	FailedRequests    []string     `json:"failed_requests"`
	Screenshot        bool         `json:"screenshot"`
	ScreenshotDropped bool         `json:"screenshot_dropped,omitempty"`
}

// StepReport is one step of a BrowserReport.
type StepReport struct {
	Name     string  `json:"name"`
	Duration float64 `json:"duration_seconds"`
	Error    string  `json:"error,omitempty"`
}

// PhaseSeconds returns the phases as seconds keyed by phase name.
func (p Phases) PhaseSeconds() map[string]float64 {
	m := make(map[string]float64, 5)
	p.Each(func(name string, d time.Duration) { m[name] = d.Seconds() })
	return m
}

// NewReport describes r, a result of the named check.
func NewReport(check string, r Result) Report {
	rep := Report{
		Check: check, Type: r.Kind, Target: r.Target, Started: r.Started.UTC(),
		OK: r.OK, Degraded: r.Degraded, ErrorClass: ErrorClass(r.Err),
		Duration: r.Duration.Seconds(), Phases: r.Phases.PhaseSeconds(), TraceID: r.TraceID,
		ReportDetail: r.Detail(),
	}
	if r.Err != nil {
		rep.Error = r.Err.Error()
	}
	if r.Warning != nil {
		rep.Warning = r.Warning.Error()
	}
	return rep
}

// Detail returns the kind-specific blocks of r.
func (r Result) Detail() ReportDetail {
	var d ReportDetail
	if h := r.HTTP; h != nil {
		d.HTTP = &HTTPReport{h.StatusCode, h.Version, h.BodyBytes, h.ContentLength, h.Redirects, h.FinalURL, h.RedirectNotFollowed, h.LastModified}
	}
	if t := r.TLS; t != nil {
		d.TLS = &TLSReport{t.Version, t.Cipher, t.Subject, t.Issuer, t.SANs, t.NotAfter.UTC(), t.DaysLeft, t.EarliestChainExpiry.UTC(), t.LastChainExpiry.UTC(), t.Verified, t.Fingerprint}
	}
	if x := r.DNS; x != nil {
		d.DNS = &DNSReport{x.Rcode, x.Answers, x.Transport, x.Truncated, x.Authority, x.Additional}
		if d.DNS.Answers == nil {
			d.DNS.Answers = []string{}
		}
	}
	if t := r.TCP; t != nil {
		d.TCP = &TCPReport{t.RemoteAddr, t.Received}
	}
	if b := r.Browser; b != nil {
		d.Browser = b.report()
	}
	return d
}
