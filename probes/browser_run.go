package probes

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// errDevToolsTimeout is the cause of a DevTools call that took longer than
// browserCallTimeout.
var errDevToolsTimeout = errors.New("devtools call timed out")

// browserRun is one run of a BrowserProber: one incognito context and tab.
type browserRun struct {
	p      *BrowserProber
	inst   *browserInstance
	ctx    context.Context // the caller's: its deadline bounds the run
	tab    context.Context // chromedp context of the tab
	col    *collector
	hung   bool
	closer []func()
	wg     sync.WaitGroup
	timing *navTiming // of the first page
	// traceHeaders are added to every document request to the check's
	// origin (nil when tracing is off).
	traceHeaders []*fetch.HeaderEntry
}

// Probe loads the page in a fresh incognito tab, runs the steps and judges
// the page. Result.Duration is the time the page took to load plus the time
// of the steps; Phases come from the first page's Navigation Timing entry.
// A non-nil error means no verdict: no browser slot before ctx ended,
// Chromium could not start, or it crashed or hung during the run (it is
// then restarted on the next run).
func (p *BrowserProber) Probe(ctx context.Context) (Result, error) {
	inst, err := p.browser.acquire(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("browser check %s: %w", p.spec.URL, err)
	}
	run := &browserRun{p: p, inst: inst, ctx: ctx, col: newCollector(p.origin)}
	r, err := run.execute()
	if ctx.Err() == nil {
		run.close()
		p.browser.release(inst, run.hung)
		return r, err
	}
	// Closing a tab whose page still loads can take Chromium half a second:
	// past the deadline, return now and close it in the background. The
	// run keeps its slot until the tab is gone.
	p.browser.background(func() {
		run.close()
		p.browser.release(inst, run.hung)
	})
	return r, err
}

func (run *browserRun) execute() (Result, error) {
	r := Result{Kind: KindBrowser, Target: run.p.spec.URL, Started: time.Now(), OK: true}
	if run.p.trace || run.p.b3 {
		var tp string
		r.TraceID, tp = newTraceparent()
		if run.p.trace {
			run.traceHeaders = append(run.traceHeaders, &fetch.HeaderEntry{Name: "traceparent", Value: tp})
		}
		if run.p.b3 {
			run.traceHeaders = append(run.traceHeaders, &fetch.HeaderEntry{Name: "b3", Value: r.TraceID + "-" + ProbeSpanID(r.TraceID) + "-1"})
		}
	}
	if err := run.open(); err != nil {
		return r, run.proberError("open a tab", err)
	}
	r.Started = time.Now()
	failure := run.journey(&r)
	run.finish(&r, failure)
	if run.hung || run.inst.dead() {
		return r, run.proberError("run", errors.New("the result is incomplete"))
	}
	return r, nil
}

// proberError describes a run that has no verdict.
func (run *browserRun) proberError(op string, err error) error {
	if cerr := run.ctx.Err(); cerr != nil && !run.inst.dead() {
		err = cerr // the tab was cancelled because the run's context ended
	}
	switch {
	case run.inst.dead():
		return fmt.Errorf("browser check %s: %s: browser crashed; restarting: %w", run.p.spec.URL, op, err)
	case run.hung:
		return fmt.Errorf("browser check %s: %s: browser hung; restarting: %w", run.p.spec.URL, op, err)
	}
	return fmt.Errorf("browser check %s: %s: %w", run.p.spec.URL, op, err)
}

func (run *browserRun) close() {
	for i := len(run.closer) - 1; i >= 0; i-- {
		run.closer[i]()
	}
	run.wg.Wait()
}

// open creates the incognito browser context and its tab, bounded by the
// run's context, and prepares it: Web Vitals script and binding, the
// viewport, and interception of every document request.
func (run *browserRun) open() error {
	// The tab ends after the run's context (never before: every check of
	// run.ctx.Err() after a failed call sees why it failed).
	parent, stop := context.WithCancelCause(run.inst.ctx)
	stopAfter := context.AfterFunc(run.ctx, func() { stop(context.Cause(run.ctx)) })
	tab, cancelTab := chromedp.NewContext(parent,
		chromedp.WithNewBrowserContext(), chromedp.WithListener(run.col.on))
	closeTab := sync.OnceFunc(cancelTab)
	run.tab = tab
	// closeTab closes the tab and disposes of the browser context.
	run.closer = append(run.closer, func() { stop(nil) }, func() { stopAfter() }, closeTab)
	if err := run.attach(closeTab); err != nil {
		return err
	}
	watch(run, fetch.RequestPaused, run.decide)
	watch(run, page.JavascriptDialogOpening, run.dismiss)
	return run.call(run.prepare)
}

// documentPatterns pause every document request before it is sent and
// again when its response arrives.
func documentPatterns() fetch.EnableParams {
	return fetch.EnableParams{Patterns: []*fetch.RequestPattern{
		{URLPattern: "*", ResourceType: network.ResourceTypeDocument},
		{URLPattern: "*", ResourceType: network.ResourceTypeDocument, RequestStage: fetch.RequestStageResponse},
	}}
}

// prepare sets the tab up before the first navigation: document
// interception, the Web Vitals binding and script, the viewport, and no
// downloads (a check never writes files).
func (run *browserRun) prepare(ctx context.Context) error {
	c := chromedp.FromContext(run.tab)
	t := c.Target
	var errs [5]error
	_, errs[0] = cdp.Call(ctx, t, fetch.Enable, documentPatterns())
	_, errs[1] = cdp.Call(ctx, t, runtime.AddBinding, runtime.AddBindingParams{Name: vitalsBinding})
	_, errs[2] = cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: vitalsJS})
	_, errs[3] = cdp.Call(ctx, t, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: int64(run.p.viewport.Width), Height: int64(run.p.viewport.Height), DeviceScaleFactor: 1})
	_, errs[4] = cdp.Call(ctx, c.Browser, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorDeny, BrowserContextID: c.BrowserContextID})
	if err := errors.Join(errs[:]...); err != nil {
		return fmt.Errorf("prepare the tab: %w", err)
	}
	return nil
}

// watch handles the tab's events of one kind on a goroutine of the run.
func watch[E any](run *browserRun, ev cdp.Event[E], handle func(E)) {
	events := chromedp.Events(run.tab, ev)
	run.wg.Go(func() {
		for e, err := range events {
			if err != nil {
				return
			}
			handle(e)
		}
	})
}

// dismiss answers a JavaScript dialog (alert, confirm, prompt,
// beforeunload), which would otherwise stall the page, as a user clicking
// OK would.
func (run *browserRun) dismiss(ev page.EventJavascriptDialogOpening) {
	_, _ = chromedp.Call(run.tab, page.HandleJavaScriptDialog,
		page.HandleJavaScriptDialogParams{Accept: true, PromptText: ev.DefaultPrompt})
}

// attach makes chromedp create and attach the tab. The tab's first Run
// binds the tab's event loop to its context, so it cannot be given a
// shorter one: a timer detects a browser that does not answer.
func (run *browserRun) attach(closeTab func()) error {
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(run.tab) }()
	t := time.NewTimer(run.p.browser.callTimeout)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		run.hung = run.ctx.Err() == nil
		closeTab()
		<-done
		return errDevToolsTimeout
	}
}

// call runs fn with a context that ends after browserCallTimeout; when it
// does while the run still has time, the browser hangs.
func (run *browserRun) call(fn func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeoutCause(run.tab, run.p.browser.callTimeout, errDevToolsTimeout)
	defer cancel()
	err := fn(ctx)
	if err != nil && errors.Is(context.Cause(ctx), errDevToolsTimeout) {
		run.hung = true
		return fmt.Errorf("%w: %w", errDevToolsTimeout, err)
	}
	return err
}

// decide answers a paused document request (any frame, every redirect
// hop): only http and https documents may load, and no redirect may lead
// elsewhere. Chromium refuses most of these by itself; this makes the rule
// ours and names the URL.
func (run *browserRun) decide(ev fetch.EventRequestPaused) {
	id := ev.RequestID
	responseStage := ev.ResponseStatusCode != 0 || ev.ResponseErrorReason != ""
	blocked := ev.Request.URL
	if responseStage {
		blocked = redirectTarget(ev)
	}
	// Errors are ignored: they mean the tab is gone, and its requests with it.
	switch {
	case blocked != "" && !allowedURL(blocked):
		run.col.recordBlock(blocked)
		_, _ = chromedp.Call(run.tab, fetch.FailRequest,
			fetch.FailRequestParams{RequestID: id, ErrorReason: network.ErrorReasonBlockedByClient})
	case ev.ResponseErrorReason != "":
		// Continue (not fail) keeps Chromium's own error: Fetch's error
		// reasons have no certificate errors, all would read net::ERR_FAILED.
		_, _ = chromedp.Call(run.tab, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: id})
	case responseStage:
		_, _ = chromedp.Call(run.tab, fetch.ContinueResponse, fetch.ContinueResponseParams{RequestID: id})
	default:
		_, _ = chromedp.Call(run.tab, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: id, Headers: run.headers(ev.Request)})
	}
}

// headers returns the request's headers with the trace headers added when
// it goes to the check's origin, or nil (unchanged) otherwise.
func (run *browserRun) headers(req *network.Request) []*fetch.HeaderEntry {
	if len(run.traceHeaders) == 0 || req == nil {
		return nil
	}
	u, err := url.Parse(req.URL)
	if err != nil || originOf(u) != run.p.origin {
		return nil
	}
	out := make([]*fetch.HeaderEntry, 0, len(req.Headers)+len(run.traceHeaders))
	for name, v := range req.Headers {
		if strings.EqualFold(name, "traceparent") || strings.EqualFold(name, "b3") {
			continue
		}
		out = append(out, &fetch.HeaderEntry{Name: name, Value: fmt.Sprint(v)})
	}
	return append(out, run.traceHeaders...)
}

// redirectTarget returns the absolute Location of a redirect response, or "".
func redirectTarget(ev fetch.EventRequestPaused) string {
	switch ev.ResponseStatusCode {
	case 301, 302, 303, 307, 308:
	default:
		return ""
	}
	for _, h := range ev.ResponseHeaders {
		if !strings.EqualFold(h.Name, "location") {
			continue
		}
		base, err := url.Parse(ev.Request.URL)
		loc, err2 := url.Parse(strings.TrimSpace(h.Value))
		if err != nil || err2 != nil {
			return h.Value
		}
		return base.ResolveReference(loc).String()
	}
	return ""
}

// sweep checks the URL of every page and frame target of the run's browser
// context, e.g. popups and out-of-process frames whose events this tab does
// not see. (Chromium's own UI, such as the omnibox popup, is a "browser_ui"
// target in the same context.)
func (run *browserRun) sweep() {
	c := chromedp.FromContext(run.tab)
	_ = run.call(func(ctx context.Context) error {
		res, err := cdp.Call(ctx, c.Browser, target.GetTargets, target.GetTargetsParams{})
		for _, t := range res.TargetInfos {
			web := t.Type == "page" || t.Type == "iframe" // not Chromium's own UI
			errorPage := strings.HasPrefix(t.URL, "chrome-error:")
			if web && t.BrowserContextID == c.BrowserContextID && !errorPage && !allowedURL(t.URL) {
				run.col.recordBlock(t.URL)
			}
		}
		return err
	})
}
