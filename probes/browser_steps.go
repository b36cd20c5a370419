package probes

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

// stepPollInterval is how often a step that waits for an element looks
// for it again.
const stepPollInterval = 20 * time.Millisecond

// stepError is the failure of one step of a journey: "step 3 (assert_text
// #msg): text "Sorry" does not match "Thanks"". N counts from 1 (the first
// step is steps[0] in the config).
type stepError struct {
	n    int
	name string
	err  error
}

func (e *stepError) Error() string { return fmt.Sprintf("step %d (%s): %v", e.n, e.name, e.err) }

// Unwrap gives errors.Is both ErrBrowserStep and the cause (a navigate step
// that hits a refused connection is also ErrConnRefused).
func (e *stepError) Unwrap() []error { return []error{ErrBrowserStep, e.err} }

// journey loads the page and runs the steps in order. It returns why the
// target failed, or nil. r.Duration is the time the page and the steps
// took, without the prober's own reads in between.
func (run *browserRun) journey(r *Result) error {
	d := &BrowserDetail{}
	r.Browser = d
	err := run.navigate(run.p.spec.URL)
	r.Duration = time.Since(r.Started)
	if err != nil {
		return err
	}
	run.readTiming(r)
	if len(run.p.spec.Steps) > 0 {
		// The first page's paint entries arrive a few frames after its
		// load: collect them before a step leaves the page.
		run.flushVitals()
	}
	for i, st := range run.p.spec.Steps {
		begin := time.Now()
		err := run.step(st)
		t := StepTiming{Name: st.name(), Duration: time.Since(begin)}
		r.Duration += t.Duration
		if err != nil {
			t.Err = err.Error()
		}
		d.Steps = append(d.Steps, t)
		if err != nil {
			return &stepError{n: i + 1, name: t.Name, err: err}
		}
	}
	return nil
}

// navigate loads u in the tab and waits for its load event.
func (run *browserRun) navigate(u string) error {
	resp, err := chromedp.Run(run.tab, chromedp.NavigateResponse(u))
	if err == nil {
		if resp != nil && resp.Status >= 400 {
			return fmt.Errorf("%w: %s returned HTTP %d", ErrUnexpectedStatus, u, resp.Status)
		}
		return nil
	}
	var le *chromedp.LoadError
	switch {
	case errors.As(err, &le):
		return loadError(u, le.ErrorText)
	case run.ctx.Err() != nil:
		return fmt.Errorf("%w loading %s: no load event before the deadline", ErrTimeout, u)
	}
	return fmt.Errorf("%w: load %s: %w", ErrProtocol, u, err)
}

// loadError classifies a failed navigation by Chromium's net error text
// (net/base/net_error_list.h).
func loadError(u, text string) error {
	var sentinel error
	switch {
	case text == "net::ERR_CONNECTION_REFUSED":
		sentinel = ErrConnRefused
	case text == "net::ERR_NAME_NOT_RESOLVED", text == "net::ERR_NAME_RESOLUTION_FAILED":
		sentinel = ErrResolve
	case strings.HasPrefix(text, "net::ERR_CERT_"), text == "net::ERR_BAD_SSL_CLIENT_AUTH_CERT":
		sentinel = ErrCertInvalid
	case strings.HasPrefix(text, "net::ERR_SSL_"):
		sentinel = ErrTLSHandshake
	case text == "net::ERR_TIMED_OUT", text == "net::ERR_CONNECTION_TIMED_OUT":
		return fmt.Errorf("%w loading %s: %s", ErrTimeout, u, text)
	case text == "net::ERR_ADDRESS_UNREACHABLE", text == "net::ERR_CONNECTION_FAILED":
		sentinel = ErrConnect
	case text == "net::ERR_BLOCKED_BY_CLIENT", text == "net::ERR_UNSAFE_REDIRECT":
		sentinel = ErrBlockedURL
	default:
		sentinel = ErrProtocol
	}
	return fmt.Errorf("%w: load %s: %s", sentinel, u, text)
}

// readTiming reads the Navigation Timing entry of the first page into the
// result's phases and navigation timings.
func (run *browserRun) readTiming(r *Result) {
	var t *navTiming
	err := run.call(func(ctx context.Context) error {
		var err error
		t, err = chromedp.Run(ctx, chromedp.Evaluate[*navTiming](navTimingJS))
		return err
	})
	if err != nil || t == nil {
		return
	}
	run.timing = t
	span := func(from, to float64) time.Duration {
		if from <= 0 || to <= from {
			return 0
		}
		return msDuration(to - from)
	}
	connectEnd := t.CE
	if t.SS > 0 {
		connectEnd = t.SS
		r.Phases.TLS = span(t.SS, t.CE)
	}
	r.Phases.Resolve = span(t.DS, t.DE)
	r.Phases.Connect = span(t.CS, connectEnd)
	r.Phases.Processing = span(t.RQ, t.RS)
	r.Phases.Transfer = span(t.RS, t.RE)
	d := r.Browser
	d.TTFB, d.DOMContentLoaded, d.Load = msDuration(t.RS), msDuration(t.DCL), msDuration(t.Load)
}

// msDuration converts DOMHighResTimeStamp milliseconds.
func msDuration(ms float64) time.Duration {
	if ms <= 0 {
		return 0
	}
	return time.Duration(ms * float64(time.Millisecond))
}

// step runs one step.
func (run *browserRun) step(st BrowserStep) error {
	poll := chromedp.RetryInterval(stepPollInterval)
	var err error
	switch {
	case st.Click != "":
		err = chromedp.Do(run.tab, chromedp.Click(chromedp.CSS(st.Click), poll))
	case st.WaitVisible != "":
		err = chromedp.Do(run.tab, chromedp.WaitVisible(chromedp.CSS(st.WaitVisible), poll))
	case st.AssertText != nil:
		return run.assertText(st.AssertText, poll)
	case st.Type != nil:
		err = chromedp.Do(run.tab, chromedp.SendKeys(chromedp.CSS(st.Type.Selector), st.Type.Text.Reveal(), poll))
	case st.Navigate != "":
		return run.navigate(st.Navigate)
	case st.Eval != "":
		return run.eval(st.Eval)
	default:
		err = chromedp.Do(run.tab, chromedp.Sleep(st.Wait))
	}
	return run.stepFailure(st, err)
}

// stepFailure words the error of a step; a step cut short by the run's
// deadline says what it was waiting for.
func (run *browserRun) stepFailure(st BrowserStep, err error) error {
	if err == nil {
		return nil
	}
	if run.ctx.Err() == nil {
		return err
	}
	sel := st.Click + st.WaitVisible
	switch {
	case st.AssertText != nil:
		sel = st.AssertText.Selector
	case st.Type != nil:
		sel = st.Type.Selector
	}
	if sel != "" {
		return fmt.Errorf("%q not visible before the deadline", sel)
	}
	return errors.New("not done before the deadline")
}

func (run *browserRun) assertText(a *AssertText, poll chromedp.QueryOption) error {
	text, err := chromedp.Run(run.tab, chromedp.Text(chromedp.CSS(a.Selector), chromedp.NodeVisible, poll))
	if err != nil {
		return run.stepFailure(BrowserStep{AssertText: a}, err)
	}
	if !a.Matches.MatchString(text) {
		return fmt.Errorf("text %q does not match %q", clipText(strings.TrimSpace(text), 200), a.Matches.String())
	}
	return nil
}

func (run *browserRun) eval(expr string) error {
	raw, err := chromedp.Run(run.tab, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	var ex *chromedp.ExceptionError
	switch {
	case errors.As(err, &ex):
		return fmt.Errorf("threw %s", exceptionText(ex.ExceptionDetails))
	case err != nil:
		return run.stepFailure(BrowserStep{Eval: expr}, err)
	}
	v := strings.TrimSpace(string(raw))
	if v == "" {
		v = "undefined"
	}
	if v != "true" {
		return fmt.Errorf("evaluated to %s, want true", clipText(v, 200))
	}
	return nil
}
