package probes

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptrace"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http/httpguts"
	"golang.org/x/net/publicsuffix"
)

// HTTP defaults.
const (
	DefaultMaxRedirects = 10
	DefaultMaxBodyBytes = 1 << 20
)

// HTTPSpec configures an HTTP(S) check.
type HTTPSpec struct {
	URL             string            `yaml:"url"`
	Method          string            `yaml:"method"` // default GET
	Headers         map[string]string `yaml:"headers"`
	Body            string            `yaml:"body"`
	BasicAuth       *BasicAuth        `yaml:"basic_auth"`
	BearerToken     Secret            `yaml:"bearer_token"`
	FollowRedirects *bool             `yaml:"follow_redirects"` // default true
	// Cookies keeps the cookies the server sets across the redirects of one
	// probe, as a browser does (every probe starts without any); a redirect
	// back to a URL already visited is then not taken for a loop.
	Cookies      bool      `yaml:"cookies"`
	MaxRedirects *int      `yaml:"max_redirects"`  // default 10; 0 fails on any redirect
	MaxBodyBytes int64     `yaml:"max_body_bytes"` // default 1 MiB
	IPVersion    IPVersion `yaml:"ip_version"`
	// PreferIPVersion is the family used when ip_version is any and the
	// host has addresses of both (default 4).
	PreferIPVersion IPVersion  `yaml:"prefer_ip_version"`
	TLSConfig       TLSOptions `yaml:"tls_config"`
	// Compression says how the response body is read: auto (default: ask
	// for gzip and decode it transparently), identity (ask for nothing,
	// read the bytes as sent), gzip or deflate (decode the body with that
	// algorithm whatever the server says; a body that does not decode
	// fails the check).
	Compression Compression `yaml:"compression"`
	// Traceparent injects a W3C traceparent header (default true).
	Traceparent *bool `yaml:"traceparent"`
	// B3 also sends the trace as a Zipkin B3 single header (default false).
	B3     bool       `yaml:"b3"`
	Expect HTTPExpect `yaml:"expect"`
}

// BasicAuth is HTTP basic authentication.
type BasicAuth struct {
	Username string `yaml:"username"`
	Password Secret `yaml:"password"`
}

// Validate reports every problem of the spec, each starting with its field.
func (s HTTPSpec) Validate() error {
	var errs []error
	add := func(field string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", field, err))
		}
	}
	add("url", validateHTTPURL(s.URL))
	if s.Method != "" && !validMethod(s.Method) {
		add("method", fmt.Errorf("%q is not an HTTP method", s.Method))
	}
	// Sorted, so that the problems come in the same order every time; named
	// maps each canonical name to its key, to refuse a header set twice.
	named := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(s.Headers)) {
		v, first := s.Headers[k], named[http.CanonicalHeaderKey(k)]
		named[http.CanonicalHeaderKey(k)] = k
		switch {
		case !httpguts.ValidHeaderFieldName(k):
			add("headers", fmt.Errorf("%q is not a valid header name", k))
		case first != "":
			add("headers", fmt.Errorf("%q and %q are the same header", first, k))
		case strings.ContainsAny(v, "\r\n"):
			add("headers."+k, errors.New("value must not contain a line break"))
		case !httpguts.ValidHeaderFieldValue(v):
			add("headers."+k, errors.New("value contains a control character"))
		}
	}
	if s.BasicAuth != nil && s.BearerToken != "" {
		add("bearer_token", errors.New("set either basic_auth or bearer_token, not both"))
	}
	if s.MaxRedirects != nil && *s.MaxRedirects < 0 {
		add("max_redirects", fmt.Errorf("must be 0 or more, got %d", *s.MaxRedirects))
	}
	if s.MaxBodyBytes < 0 {
		add("max_body_bytes", fmt.Errorf("must not be negative (0 means the default, 1 MiB), got %d", s.MaxBodyBytes))
	}
	add("tls_config", s.TLSConfig.Validate())
	errs = append(errs, validateAddressing(s.IPVersion, s.PreferIPVersion, "")...)
	if err := s.Expect.validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func validateHTTPURL(raw string) error {
	if raw == "" {
		return errors.New("required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %w", raw, errors.Unwrap(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q: scheme must be http or https", raw)
	}
	if u.Hostname() == "" {
		return fmt.Errorf("%q has no host", raw)
	}
	if u.User != nil {
		return fmt.Errorf("%q: credentials in the URL would be shown with every result; use basic_auth", u.Redacted())
	}
	return nil
}

func validMethod(m string) bool {
	for _, c := range m {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// HTTPProber runs HTTP checks. Every probe uses a fresh connection, so
// connect and TLS times are real.
type HTTPProber struct {
	spec      HTTPSpec
	method    string
	header    []headerField // the request's fields but Host
	host      string        // Host header override
	client    *http.Client
	dialer    *dialer
	maxBody   int64
	keepBody  bool // an assertion needs the body
	trace     bool
	bufs      sync.Pool
	expectTLS bool
	transport func() *http.Transport // https:// requests (see NewHTTP)
}

// headerField is one field of the request header, in canonical form.
type headerField struct {
	key    string
	values []string
}

// NewHTTP builds an HTTP prober from a spec.
func NewHTTP(spec HTTPSpec, opts ...Option) (*HTTPProber, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	u, _ := url.Parse(spec.URL)
	// The transport carries https:// requests, and only those: a check of
	// an http:// URL needs it for a redirect to https:// alone, so it is
	// built at first use there (about 1 KB a check less). A CA or client
	// certificate file is read now all the same, so that an error in it
	// shows at load. The closures take copies of what they need, not the
	// spec, which would then be kept twice.
	tlsOpts, host, https, compress := spec.TLSConfig, u.Hostname(), u.Scheme == "https", spec.Compression.auto()
	tlsCfg := func() (*tls.Config, error) {
		c, err := tlsOpts.config(host)
		if err != nil {
			return nil, err
		}
		if tlsOpts.ServerName == "" {
			c.ServerName = "" // let the transport use each hop's host
		}
		return c, nil
	}
	var eager *tls.Config
	if https || tlsOpts != (TLSOptions{}) {
		var err error
		if eager, err = tlsCfg(); err != nil {
			return nil, err
		}
	}
	header := buildHeader(spec)
	p := &HTTPProber{
		spec:      spec,
		method:    cmp.Or(spec.Method, http.MethodGet),
		host:      header.Get("Host"),
		dialer:    newDialer(spec.IPVersion, opts).withAddressing(spec.PreferIPVersion, ""),
		maxBody:   cmp.Or(spec.MaxBodyBytes, DefaultMaxBodyBytes),
		keepBody:  spec.Expect.needsBody(),
		trace:     spec.Traceparent == nil || *spec.Traceparent,
		expectTLS: https,
	}
	header.Del("Host")
	for k, v := range header {
		p.header = append(p.header, headerField{k, v[:len(v):len(v)]})
	}
	if spec.Expect.BodySizeLimit > 0 {
		p.maxBody = spec.Expect.BodySizeLimit
	}
	p.bufs.New = func() any { return new(bytes.Buffer) }
	newTransport := func() *http.Transport {
		c := eager
		if c == nil {
			c, _ = tlsCfg() // no files to read: cannot fail
		}
		return &http.Transport{
			DialContext:            p.dialContext,
			TLSClientConfig:        c,
			DisableKeepAlives:      true,
			DisableCompression:     !compress,
			ForceAttemptHTTP2:      true,
			MaxResponseHeaderBytes: maxHeaderBytes,
		}
	}
	p.transport = sync.OnceValue(newTransport)
	p.client = &http.Client{Transport: directHTTP{p: p}, CheckRedirect: p.checkRedirect}
	return p, nil
}

func buildHeader(spec HTTPSpec) http.Header {
	h := make(http.Header, len(spec.Headers)+2)
	h.Set("User-Agent", "Vantage/1 (synthetic monitoring)")
	for k, v := range spec.Headers {
		h.Set(k, v)
	}
	switch {
	case spec.BasicAuth != nil:
		r := http.Request{Header: h}
		r.SetBasicAuth(spec.BasicAuth.Username, spec.BasicAuth.Password.Reveal())
	case spec.BearerToken != "":
		h.Set("Authorization", "Bearer "+spec.BearerToken.Reveal())
	}
	return h
}

// httpRun is the state of one probe: its timings, filled in by the dialer
// and the httptrace hooks. Those run on the transport's goroutines, which
// may outlive a cancelled request, so every field is guarded by mu.
type httpRun struct {
	ctx        context.Context // the probe's own context (net/http dials with one that ignores its cancellation)
	mu         sync.Mutex
	dial       dialTimes
	tlsStart   time.Time
	tlsTotal   time.Duration
	tlsDone    time.Time
	wrote      time.Time
	firstByte  time.Time
	bodyEnd    time.Time // the body was read to its end (or cap) then
	processing time.Duration
	stamp      *stampConn // the current hop's connection, with receive timestamps; nil: none
	phase      string
	refused    bool          // a redirect was not followed (follow_redirects: false)
	stops      []func() bool // see release
}

type runKey struct{}

// dialContext dials for the transport. Since Go 1.23 the transport dials
// with a context that ignores the request's cancellation and deadline, so
// the dial is bound to the probe's context here, and the connection gets the
// probe's deadline, which also bounds the transport's TLS handshake: nothing
// of a timed-out probe outlives it.
func (p *HTTPProber) dialContext(ctx context.Context, _, addr string) (net.Conn, error) {
	run, _ := ctx.Value(runKey{}).(*httpRun)
	if run == nil {
		return nil, errors.New("dial outside a probe")
	}
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(run.ctx, cancel)
	defer stop()
	if d, ok := run.ctx.Deadline(); ok {
		var c2 context.CancelFunc
		dctx, c2 = context.WithDeadline(dctx, d)
		defer c2()
	}
	return p.dialRun(dctx, run, addr)
}

// dialRun dials addr for run with ctx, which ends when the probe's
// context does (exchange's request context derives from it; dialContext
// binds the transport's), and gives the connection the probe's deadline.
func (p *HTTPProber) dialRun(dctx context.Context, run *httpRun, addr string) (net.Conn, error) {
	var t dialTimes
	t.onConnect = func() { run.set(PhaseConnect, nil) }
	conn, err := p.dialer.dial(dctx, addr, &t)
	run.mu.Lock()
	run.dial.resolve += t.resolve
	run.dial.connect += t.connect
	if run.dial.remote == "" {
		run.dial.remote = t.remote // the first hop's address
	}
	run.mu.Unlock()
	if err != nil {
		return nil, err
	}
	conn, sc := stamped(conn)
	run.mu.Lock()
	run.stamp = sc
	run.mu.Unlock()
	if d, ok := run.ctx.Deadline(); ok {
		_ = conn.SetDeadline(d)
	}
	unhook := context.AfterFunc(run.ctx, func() { _ = conn.SetDeadline(time.Now()) })
	run.mu.Lock()
	run.stops = append(run.stops, unhook)
	run.mu.Unlock()
	return conn, nil
}

// release unregisters the hooks dialRun left on the probe's context: once
// the probe is over they have nothing to interrupt, and each would start
// a goroutine when the scheduler ends the context.
func (run *httpRun) release() {
	run.mu.Lock()
	stops := run.stops
	run.stops = nil
	run.mu.Unlock()
	for _, stop := range stops {
		stop()
	}
}

func (run *httpRun) set(phase string, at *time.Time) {
	now := time.Now()
	run.mu.Lock()
	defer run.mu.Unlock()
	run.phase = phase
	switch phase {
	case PhaseTLS:
		run.tlsStart = now
	case PhaseProcessing:
		run.wrote = now
	case PhaseTransfer:
		now = run.arrived(now, run.wrote)
		run.firstByte = now
		run.processing += now.Sub(run.wrote)
	case "tls done":
		run.tlsTotal += now.Sub(run.tlsStart)
		run.tlsDone = now
		run.phase = PhaseTLS
	}
	if at != nil {
		*at = now
	}
}

// arrived returns when the data just read arrived, by the kernel's stamp,
// or now without one; never before after. Called with mu held.
func (run *httpRun) arrived(now, after time.Time) time.Time {
	if at, ok := run.stamp.arrival(); ok && !at.Before(after) && at.Before(now) {
		return at
	}
	return now
}

// bodyRead notes that the body has been read: when its last bytes arrived.
func (run *httpRun) bodyRead() {
	now := time.Now()
	run.mu.Lock()
	defer run.mu.Unlock()
	run.bodyEnd = run.arrived(now, run.firstByte)
}

func (run *httpRun) clientTrace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		TLSHandshakeStart:    func() { run.set(PhaseTLS, nil) },
		TLSHandshakeDone:     func(tls.ConnectionState, error) { run.set("tls done", nil) },
		WroteRequest:         func(httptrace.WroteRequestInfo) { run.set(PhaseProcessing, nil) },
		GotFirstResponseByte: func() { run.set(PhaseTransfer, nil) },
	}
}

// phases copies the timings into r.
func (run *httpRun) phases(r *Result, end time.Time) {
	run.mu.Lock()
	defer run.mu.Unlock()
	r.Phases.Resolve, r.Phases.Connect = run.dial.resolve, run.dial.connect
	r.Phases.TLS, r.Phases.Processing = run.tlsTotal, run.processing
	switch {
	case run.phase == PhaseTLS && run.tlsStart.After(run.tlsDone):
		r.Phases.TLS += end.Sub(run.tlsStart) // the handshake never finished
	case run.phase == PhaseProcessing && !run.wrote.IsZero():
		r.Phases.Processing += end.Sub(run.wrote) // no first byte
	}
	if !run.firstByte.IsZero() {
		r.Phases.Transfer = end.Sub(run.firstByte)
	}
}

func (run *httpRun) current() string {
	run.mu.Lock()
	defer run.mu.Unlock()
	return run.phase
}

// Probe sends the request, reads the response and applies the assertions.
func (p *HTTPProber) Probe(ctx context.Context) (Result, error) {
	r := Result{Kind: KindHTTP, Target: p.spec.URL, Started: time.Now(), OK: true}
	run := &httpRun{ctx: ctx, phase: PhaseResolve}
	resp, err := p.send(ctx, run, &r)
	if err == nil {
		p.receive(ctx, resp, run, &r)
	} else {
		r.fail(err)
	}
	end := time.Now()
	run.mu.Lock()
	r.RemoteAddr = run.dial.remote
	if !run.bodyEnd.IsZero() { // not the time the assertions took
		end = run.bodyEnd
	}
	run.mu.Unlock()
	r.Duration = end.Sub(r.Started)
	run.phases(&r, end)
	run.release()
	if r.Err == nil {
		p.spec.Expect.checkDuration(&r)
	}
	return r, nil
}

// send builds and sends the request, following redirects.
func (p *HTTPProber) send(ctx context.Context, run *httpRun, r *Result) (*http.Response, error) {
	ctx = context.WithValue(httptrace.WithClientTrace(ctx, run.clientTrace()), runKey{}, run)
	var body io.Reader
	if p.spec.Body != "" {
		body = strings.NewReader(p.spec.Body)
	}
	req, err := http.NewRequestWithContext(ctx, p.method, p.spec.URL, body)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header = make(http.Header, len(p.header)+2) // and traceparent, b3
	for _, f := range p.header {
		req.Header[f.key] = f.values // capacity = length: an Add copies, never writes into the shared array
	}
	req.Host = p.host
	if p.trace || p.spec.B3 {
		var tp string
		r.TraceID, tp = newTraceparent()
		if p.trace {
			req.Header.Set("Traceparent", tp)
		}
		if p.spec.B3 {
			// traceparent is 00-TRACEID-SPANID-01; B3 single is TRACEID-SPANID-1.
			req.Header.Set("B3", tp[3:35]+"-"+tp[36:52]+"-1")
		}
	}
	client := p.client
	if p.spec.Cookies { // a cookie jar goes along the whole chain
		c := *p.client
		c.Jar, _ = cookiejar.New(&cookiejar.Options{PublicSuffixList: publicsuffix.List}) // never fails
		client = &c
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, p.classify(ctx, run, err)
	}
	return resp, nil
}

// classify wraps a client error with the sentinel of the phase it hit.
func (p *HTTPProber) classify(ctx context.Context, run *httpRun, err error) error {
	if errors.Is(err, ErrRedirect) {
		var ue *url.Error
		if errors.As(err, &ue) {
			return ue.Err
		}
		return err
	}
	for _, c := range classes {
		if errors.Is(err, c.err) {
			return err // classified by the dialer
		}
	}
	return netError(ctx, run.current(), err)
}

func (p *HTTPProber) checkRedirect(req *http.Request, via []*http.Request) error {
	if p.spec.FollowRedirects != nil && !*p.spec.FollowRedirects {
		if run, ok := req.Context().Value(runKey{}).(*httpRun); ok {
			run.mu.Lock()
			run.refused = true
			run.mu.Unlock()
		}
		return http.ErrUseLastResponse
	}
	max := DefaultMaxRedirects
	if p.spec.MaxRedirects != nil {
		max = *p.spec.MaxRedirects
	}
	next := req.URL.String()
	for i, v := range via {
		if v.URL.String() == next && !p.spec.Cookies {
			chain := make([]string, 0, len(via)-i+1)
			for _, w := range via[i:] {
				chain = append(chain, w.URL.String())
			}
			return fmt.Errorf("%w: redirect loop: %s -> %s", ErrRedirect, strings.Join(chain, " -> "), next)
		}
	}
	if len(via) > max {
		return fmt.Errorf("%w: stopped after %d redirects (max_redirects %d), last to %s", ErrRedirect, len(via)-1, max, next)
	}
	return nil
}
