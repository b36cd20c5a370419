package probes

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"
)

// Browser check defaults and limits.
const (
	DefaultViewportWidth  = 1280
	DefaultViewportHeight = 800
	maxViewport           = 4096
	maxScreenshotBytes    = 2 << 20
	maxListEntries        = 20  // JSErrors, FailedRequests
	maxEntryChars         = 500 // per JSErrors / FailedRequests entry
)

// BrowserSpec configures a check that loads a page in a real headless
// Chromium, optionally walks through a journey of steps, and judges the
// page by its JavaScript errors, failed requests and Web Vitals.
type BrowserSpec struct {
	URL        string         `yaml:"url"`
	Viewport   Viewport       `yaml:"viewport"` // default 1280x800
	Steps      []BrowserStep  `yaml:"steps"`
	Expect     BrowserExpect  `yaml:"expect"`
	Screenshot ScreenshotMode `yaml:"screenshot"` // on_failure (default) | always | never
	// Traceparent sends a sampled W3C traceparent header with every page
	// (document) request to the check URL's origin (default true); other
	// origins never see it.
	Traceparent *bool `yaml:"traceparent"`
	// B3 also sends the trace as a Zipkin B3 single header (default false).
	B3 bool `yaml:"b3"`
}

// Viewport is the size of the emulated window in CSS pixels.
type Viewport struct {
	Width  int `yaml:"width"`
	Height int `yaml:"height"`
}

// BrowserStep is one step of a journey. Exactly one field is set.
type BrowserStep struct {
	Click       string        `yaml:"click"`        // CSS selector; waits until visible, then clicks
	WaitVisible string        `yaml:"wait_visible"` // CSS selector
	AssertText  *AssertText   `yaml:"assert_text"`
	Type        *TypeText     `yaml:"type"`
	Navigate    string        `yaml:"navigate"` // http(s) URL only
	Eval        string        `yaml:"eval"`     // JS expression that must evaluate to true
	Wait        time.Duration `yaml:"wait"`     // pause
}

// AssertText waits until the element is visible and matches its text.
type AssertText struct {
	Selector string  `yaml:"selector"`
	Matches  Pattern `yaml:"matches"`
}

// TypeText types text into the element. The text is never printed.
type TypeText struct {
	Selector string `yaml:"selector"`
	Text     Secret `yaml:"text"`
}

// BrowserExpect are the assertions on a page besides its steps.
type BrowserExpect struct {
	NoJSErrors       *bool         `yaml:"no_js_errors"`       // default true
	NoFailedRequests *bool         `yaml:"no_failed_requests"` // default false
	MaxLCP           time.Duration `yaml:"max_lcp"`            // 0 = no limit
	MaxFCP           time.Duration `yaml:"max_fcp"`            // 0 = no limit
	MaxCLS           float64       `yaml:"max_cls"`            // 0 = no limit
	DegradedAfter    time.Duration `yaml:"degraded_after"`     // whole run longer → degraded
}

// ScreenshotMode says when a run takes a screenshot.
type ScreenshotMode string

// Screenshot modes. The zero value means ScreenshotOnFailure.
const (
	ScreenshotOnFailure ScreenshotMode = "on_failure"
	ScreenshotAlways    ScreenshotMode = "always"
	ScreenshotNever     ScreenshotMode = "never"
)

// UnmarshalText accepts on_failure, always and never.
func (m *ScreenshotMode) UnmarshalText(b []byte) error {
	switch v := ScreenshotMode(strings.ToLower(strings.TrimSpace(string(b)))); v {
	case "", ScreenshotOnFailure:
		*m = ScreenshotOnFailure
	case ScreenshotAlways, ScreenshotNever:
		*m = v
	default:
		return fmt.Errorf("%q is not a screenshot mode (on_failure, always or never)", b)
	}
	return nil
}

// BrowserDetail is what a browser check learned. The navigation timings and
// Web Vitals are those of the first page (the spec's URL), even when steps
// move on, in durations from the start of its navigation; FinalURL,
// Requests, Bytes and the error lists cover the whole run.
type BrowserDetail struct {
	FinalURL          string
	DOMContentLoaded  time.Duration // from navigation start
	Load              time.Duration
	TTFB, FCP, LCP    time.Duration
	CLS               float64
	Steps             []StepTiming
	Requests          int
	Bytes             int64    // encoded bytes received
	JSErrors          []string // uncaught exceptions and console.error, capped
	FailedRequests    []string // "GET URL: net::ERR_… / HTTP 404" of first-party resources, capped
	Screenshot        []byte   // PNG of the viewport, at most 2 MiB
	ScreenshotDropped bool     // a screenshot was taken but was larger than 2 MiB
}

// StepTiming is the outcome of one step. Steps that did not run (after a
// failed one) are not listed.
type StepTiming struct {
	Name     string // e.g. "click #buy"
	Duration time.Duration
	Err      string
}

func (d *BrowserDetail) report() *BrowserReport {
	rep := &BrowserReport{
		FinalURL: d.FinalURL, DOMContentLoaded: d.DOMContentLoaded.Seconds(), Load: d.Load.Seconds(),
		TTFB: d.TTFB.Seconds(), FCP: d.FCP.Seconds(), LCP: d.LCP.Seconds(), CLS: d.CLS,
		Steps: make([]StepReport, 0, len(d.Steps)), Requests: d.Requests, Bytes: d.Bytes,
		JSErrors: nonNil(d.JSErrors), FailedRequests: nonNil(d.FailedRequests),
		Screenshot: len(d.Screenshot) > 0, ScreenshotDropped: d.ScreenshotDropped,
	}
	for _, s := range d.Steps {
		rep.Steps = append(rep.Steps, StepReport{s.Name, s.Duration.Seconds(), s.Err})
	}
	return rep
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Validate reports every problem of the spec, each starting with its field.
func (s BrowserSpec) Validate() error {
	var errs []error
	add := func(field string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", field, err))
		}
	}
	add("url", validateHTTPURL(s.URL))
	if s.Viewport != (Viewport{}) {
		add("viewport.width", checkViewport(s.Viewport.Width))
		add("viewport.height", checkViewport(s.Viewport.Height))
	}
	for i, st := range s.Steps {
		errs = append(errs, st.validate(fmt.Sprintf("steps[%d]", i))...)
	}
	switch s.Screenshot {
	case "", ScreenshotOnFailure, ScreenshotAlways, ScreenshotNever:
	default:
		add("screenshot", fmt.Errorf("%q is not a screenshot mode (on_failure, always or never)", s.Screenshot))
	}
	e := s.Expect
	for _, d := range []struct {
		field string
		v     time.Duration
	}{{"max_lcp", e.MaxLCP}, {"max_fcp", e.MaxFCP}, {"degraded_after", e.DegradedAfter}} {
		if d.v < 0 {
			add("expect."+d.field, fmt.Errorf("must not be negative (0 means no limit), got %s", d.v))
		}
	}
	if e.MaxCLS < 0 || math.IsNaN(e.MaxCLS) || math.IsInf(e.MaxCLS, 0) {
		add("expect.max_cls", fmt.Errorf("must be a number of 0 or more (0 means no limit), got %v", e.MaxCLS))
	}
	return errors.Join(errs...)
}

func checkViewport(n int) error {
	if n < 1 || n > maxViewport {
		return fmt.Errorf("must be 1-%d pixels, got %d", maxViewport, n)
	}
	return nil
}

const stepKinds = "click, wait_visible, assert_text, type, navigate, eval, wait"

// validate checks one step; path is "steps[i]".
func (st BrowserStep) validate(path string) []error {
	set := st.kinds()
	if len(set) != 1 {
		msg := "set exactly one of " + stepKinds
		if len(set) > 1 {
			msg += ", got " + strings.Join(set, " and ")
		}
		return []error{fmt.Errorf("%s: %s", path, msg)}
	}
	var errs []error
	add := func(field, msg string) { errs = append(errs, fmt.Errorf("%s.%s: %s", path, field, msg)) }
	switch {
	case st.AssertText != nil:
		if strings.TrimSpace(st.AssertText.Selector) == "" {
			add("assert_text.selector", "required")
		}
		if st.AssertText.Matches.IsZero() {
			add("assert_text.matches", "required")
		}
	case st.Type != nil:
		if strings.TrimSpace(st.Type.Selector) == "" {
			add("type.selector", "required")
		}
	case st.Navigate != "":
		if err := validateHTTPURL(st.Navigate); err != nil {
			errs = append(errs, fmt.Errorf("%s.navigate: %w", path, err))
		}
	case st.Wait < 0:
		add("wait", fmt.Sprintf("must be positive, got %s", st.Wait))
	case strings.TrimSpace(st.Click+st.WaitVisible+st.Eval) == "" && st.Wait == 0:
		add(set[0], "must not be blank")
	}
	return errs
}

// kinds lists the step kinds that are set.
func (st BrowserStep) kinds() []string {
	var set []string
	for _, k := range []struct {
		name string
		on   bool
	}{
		{"click", st.Click != ""}, {"wait_visible", st.WaitVisible != ""},
		{"assert_text", st.AssertText != nil}, {"type", st.Type != nil},
		{"navigate", st.Navigate != ""}, {"eval", st.Eval != ""}, {"wait", st.Wait != 0},
	} {
		if k.on {
			set = append(set, k.name)
		}
	}
	return set
}

// name describes the step for results and errors: "click #buy". It never
// contains the text of a type step.
func (st BrowserStep) name() string {
	switch {
	case st.Click != "":
		return "click " + st.Click
	case st.WaitVisible != "":
		return "wait_visible " + st.WaitVisible
	case st.AssertText != nil:
		return "assert_text " + st.AssertText.Selector
	case st.Type != nil:
		return "type " + st.Type.Selector
	case st.Navigate != "":
		return "navigate " + st.Navigate
	case st.Eval != "":
		return "eval " + clipText(st.Eval, 60)
	}
	return "wait " + st.Wait.String()
}

// BrowserProber runs browser checks on a shared Browser.
type BrowserProber struct {
	spec             BrowserSpec
	browser          *Browser
	viewport         Viewport
	noJSErrors       bool
	noFailedRequests bool
	screenshot       ScreenshotMode
	origin           string // scheme://host:port of the URL
	trace, b3        bool   // headers sent to the origin's documents
}

// NewBrowserProber builds a browser prober from a spec. Runs share b, which
// the caller owns and closes.
func NewBrowserProber(spec BrowserSpec, b *Browser) (*BrowserProber, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if b == nil {
		return nil, fmt.Errorf("browser check %s: %w: no browser was configured", spec.URL, ErrNoBrowser)
	}
	u, _ := url.Parse(spec.URL)
	p := &BrowserProber{
		spec: spec, browser: b, viewport: spec.Viewport,
		noJSErrors:       spec.Expect.NoJSErrors == nil || *spec.Expect.NoJSErrors,
		noFailedRequests: spec.Expect.NoFailedRequests != nil && *spec.Expect.NoFailedRequests,
		screenshot:       cmp.Or(spec.Screenshot, ScreenshotOnFailure),
		origin:           originOf(u),
		trace:            spec.Traceparent == nil || *spec.Traceparent,
		b3:               spec.B3,
	}
	if p.viewport == (Viewport{}) {
		p.viewport = Viewport{DefaultViewportWidth, DefaultViewportHeight}
	}
	return p, nil
}

// clipText shortens s to at most n runes, marking the cut with "…".
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
