package probes

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// finish reads what the page left (vitals, frames), fills the detail,
// decides the verdict and takes the screenshot.
func (run *browserRun) finish(r *Result, failure error) {
	alive := run.ctx.Err() == nil && !run.inst.dead() && !run.hung
	if alive {
		run.flushVitals()
		run.sweep()
	}
	run.fill(r.Browser)
	run.judge(r, failure)
	m := run.p.screenshot
	if alive && !run.hung && (m == ScreenshotAlways || m == ScreenshotOnFailure && r.Err != nil) {
		run.screenshot(r.Browser)
	}
}

// flushVitals waits two animation frames in the current document so that
// pending performance entries are delivered, and records its vitals.
func (run *browserRun) flushVitals() {
	var s string
	err := run.call(func(ctx context.Context) error {
		var err error
		s, err = chromedp.Run(ctx, chromedp.Evaluate[string](flushVitalsJS, chromedp.EvalAwaitPromise))
		return err
	})
	if err == nil && s != "" {
		run.col.mu.Lock()
		run.col.addVitals(s)
		run.col.mu.Unlock()
	}
}

// fill copies what the collector saw into d. The Web Vitals are those of
// the first page, the one the check is about, even when steps moved on.
func (run *browserRun) fill(d *BrowserDetail) {
	c := run.col
	c.mu.Lock()
	defer c.mu.Unlock()
	d.FinalURL = c.finalURL
	d.Requests, d.Bytes = c.requests, c.bytes
	d.JSErrors = append([]string(nil), c.jsErrors...)
	d.FailedRequests = append([]string(nil), c.failed...)
	origin := c.firstVitals
	if run.timing != nil {
		origin = run.timing.Origin
	}
	if v, ok := c.vitals[origin]; ok {
		d.FCP, d.LCP, d.CLS = msDuration(v.FCP), msDuration(v.LCP), v.CLS
	}
}

// judge sets the verdict. In order: a blocked URL, the failed navigation or
// step, JavaScript errors, failed requests, Web Vitals over their limits;
// then degraded_after.
func (run *browserRun) judge(r *Result, failure error) {
	c := run.col
	c.mu.Lock()
	blocked := append([]string(nil), c.blocked...)
	jsErrors, failed := c.jsErrorCount, c.failedCount
	c.mu.Unlock()
	d := r.Browser
	switch {
	case len(blocked) > 0:
		r.fail(fmt.Errorf("%w: %s: only http and https pages may load", ErrBlockedURL, firstOf(blocked, len(blocked))))
	case failure != nil:
		r.fail(failure)
	case run.p.noJSErrors && jsErrors > 0:
		r.fail(fmt.Errorf("%w: %s", ErrJSError, firstOf(d.JSErrors, jsErrors)))
	case run.p.noFailedRequests && failed > 0:
		r.fail(fmt.Errorf("%w: %s", ErrFailedRequest, firstOf(d.FailedRequests, failed)))
	default:
		if err := run.p.checkVitals(d); err != nil {
			r.fail(err)
		}
	}
	if after := run.p.spec.Expect.DegradedAfter; after > 0 && r.Duration > after {
		r.degrade(fmt.Errorf("%w: took %s, degraded_after %s", ErrTooSlow, r.Duration.Round(time.Millisecond), after))
	}
}

// firstOf is `first` or `first (and 2 more)`.
func firstOf(list []string, total int) string {
	if len(list) == 0 {
		return fmt.Sprintf("%d", total)
	}
	if total > 1 {
		return fmt.Sprintf("%s (and %d more)", list[0], total-1)
	}
	return list[0]
}

// checkVitals compares the vitals of the page with their limits. A vital the
// page did not produce (no paint) is not judged.
func (p *BrowserProber) checkVitals(d *BrowserDetail) error {
	e := p.spec.Expect
	var over []string
	if e.MaxFCP > 0 && d.FCP > e.MaxFCP {
		over = append(over, fmt.Sprintf("FCP %s > max_fcp %s", d.FCP.Round(time.Millisecond), e.MaxFCP))
	}
	if e.MaxLCP > 0 && d.LCP > e.MaxLCP {
		over = append(over, fmt.Sprintf("LCP %s > max_lcp %s", d.LCP.Round(time.Millisecond), e.MaxLCP))
	}
	if e.MaxCLS > 0 && d.CLS > e.MaxCLS {
		over = append(over, fmt.Sprintf("CLS %.3f > max_cls %g", d.CLS, e.MaxCLS))
	}
	if len(over) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrSlowVitals, strings.Join(over, ", "))
}

// screenshot captures the viewport as PNG, dropping one over 2 MiB.
func (run *browserRun) screenshot(d *BrowserDetail) {
	var buf []byte
	t := chromedp.FromContext(run.tab).Target
	err := run.call(func(ctx context.Context) error {
		res, err := cdp.Call(ctx, t, page.CaptureScreenshot, page.CaptureScreenshotParams{Format: page.CaptureScreenshotFormatPng})
		buf = res.Data
		return err
	})
	switch {
	case err != nil:
		run.p.browser.log.Debug("screenshot", "target", run.p.spec.URL, "err", err)
	case len(buf) > maxScreenshotBytes:
		d.ScreenshotDropped = true
	default:
		d.Screenshot = buf
	}
}
