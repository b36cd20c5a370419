package probes

import (
	"encoding/json"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
)

// collector gathers what the events of one tab say about the page: errors,
// requests, the URLs it tried to reach and its Web Vitals. Its on method
// runs on the tab's event loop, so it only records, under mu.
type collector struct {
	mu           sync.Mutex
	origins      map[string]bool // first-party origins: the pages the top frame showed
	mainFrame    cdp.FrameID
	finalURL     string
	jsErrors     []string
	jsErrorCount int
	failed       []string
	failedCount  int
	blocked      []string
	requests     int
	bytes        int64
	inflight     map[network.RequestID]string // "METHOD URL" of first-party requests
	vitals       map[float64]vitals           // by document timeOrigin
	firstVitals  float64                      // timeOrigin of the first report
}

func newCollector(origin string) *collector {
	return &collector{
		origins:  map[string]bool{origin: true},
		inflight: map[network.RequestID]string{},
		vitals:   map[float64]vitals{},
	}
}

// on records one DevTools event of the tab.
func (c *collector) on(ev any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		c.addJSError(exceptionText(ev.ExceptionDetails))
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError {
			c.addJSError("console.error: " + consoleText(ev.Args))
		}
	case *runtime.EventBindingCalled:
		if ev.Name == vitalsBinding {
			c.addVitals(ev.Payload)
		}
	case *network.EventRequestWillBeSent:
		c.request(ev)
	case *network.EventResponseReceived:
		c.response(ev)
	case *network.EventLoadingFailed:
		c.loadingFailed(ev)
	case *network.EventLoadingFinished:
		c.bytes += int64(ev.EncodedDataLength)
		delete(c.inflight, ev.RequestID)
	case *page.EventFrameNavigated:
		c.frameNavigated(ev.Frame)
	case *page.EventNavigatedWithinDocument:
		if ev.FrameID == c.mainFrame {
			c.finalURL = ev.URL
		}
	case *page.EventFrameRequestedNavigation:
		c.check(ev.URL)
	case *page.EventFrameStartedNavigating:
		c.check(ev.URL)
	case *log.EventEntryAdded:
		c.logEntry(ev.Entry)
	}
}

func (c *collector) addJSError(msg string) {
	c.jsErrorCount++
	if len(c.jsErrors) < maxListEntries {
		c.jsErrors = append(c.jsErrors, clipText(msg, maxEntryChars))
	}
}

func (c *collector) addFailed(msg string) {
	c.failedCount++
	if len(c.failed) < maxListEntries {
		c.failed = append(c.failed, clipText(msg, maxEntryChars))
	}
}

func (c *collector) addVitals(payload string) {
	var v vitals
	if json.Unmarshal([]byte(payload), &v) != nil || v.Origin == 0 {
		return
	}
	if _, ok := c.vitals[v.Origin]; !ok && len(c.vitals) >= maxListEntries {
		return // a page that keeps navigating (or calls the binding itself)
	}
	if c.firstVitals == 0 {
		c.firstVitals = v.Origin
	}
	c.vitals[v.Origin] = v
}

func (c *collector) request(ev *network.EventRequestWillBeSent) {
	u := ev.Request.URL
	if !strings.HasPrefix(u, "http:") && !strings.HasPrefix(u, "https:") {
		return // data:, blob: and the like are not network requests
	}
	c.requests++
	if c.firstParty(u) && !isFavicon(ev.Type, u) {
		c.inflight[ev.RequestID] = ev.Request.Method + " " + u
	}
}

func (c *collector) response(ev *network.EventResponseReceived) {
	req, ok := c.inflight[ev.RequestID]
	if ok && ev.Response.Status >= 400 {
		c.addFailed(req + ": HTTP " + strconv.FormatInt(ev.Response.Status, 10))
		delete(c.inflight, ev.RequestID)
	}
}

func (c *collector) loadingFailed(ev *network.EventLoadingFailed) {
	req, ok := c.inflight[ev.RequestID]
	delete(c.inflight, ev.RequestID)
	// Cancelled loads (a navigation away) are not failures, and requests we
	// blocked are reported as blocked URLs.
	if !ok || ev.Canceled || ev.ErrorText == "net::ERR_BLOCKED_BY_CLIENT" {
		return
	}
	c.addFailed(req + ": " + ev.ErrorText)
}

func (c *collector) frameNavigated(f *cdp.Frame) {
	u := f.URL
	if f.UnreachableURL != "" {
		u = f.UnreachableURL // an error page shows a failed navigation
	}
	c.check(u)
	if f.ParentID != "" {
		return
	}
	c.mainFrame = f.ID
	c.finalURL = u + f.URLFragment
	if pu, err := url.Parse(u); err == nil && (pu.Scheme == "http" || pu.Scheme == "https") {
		c.origins[originOf(pu)] = true
	}
}

// chromiumBlocks are the prefixes of the messages with which Chromium
// itself refuses to let a web page reach a non-web URL.
var chromiumBlocks = []string{
	"Not allowed to load local resource: ",
	"Not allowed to navigate top frame to data URL: ",
}

func (c *collector) logEntry(e *log.Entry) {
	if e == nil || e.Source != log.EntrySourceSecurity {
		return
	}
	for _, p := range chromiumBlocks {
		if u, ok := strings.CutPrefix(e.Text, p); ok {
			c.block(strings.TrimSpace(u))
		}
	}
}

// check records u when it is not a URL a browser check may load.
func (c *collector) check(u string) {
	if !allowedURL(u) {
		c.block(u)
	}
}

func (c *collector) block(u string) {
	u = clipText(u, maxEntryChars)
	for _, b := range c.blocked {
		if b == u {
			return
		}
	}
	if len(c.blocked) < maxListEntries {
		c.blocked = append(c.blocked, u)
	}
}

// recordBlock is block for callers outside the event loop.
func (c *collector) recordBlock(u string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.block(u)
}

func (c *collector) firstParty(u string) bool {
	pu, err := url.Parse(u)
	return err == nil && c.origins[originOf(pu)]
}

// allowedURL reports whether a frame may show u: http and https pages,
// about:blank and about:srcdoc (inline frames), and "" (a frame with no
// document yet, or one whose load was refused).
func allowedURL(raw string) bool {
	if raw == "" {
		return true
	}
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return true
	case "about":
		return u.Opaque == "blank" || u.Opaque == "srcdoc"
	}
	return false
}

// originOf returns scheme://host[:port], lowercased, without a default port.
func originOf(u *url.URL) string {
	scheme, host, port := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), u.Port()
	if scheme == "http" && port == "80" || scheme == "https" && port == "443" {
		port = ""
	}
	switch {
	case port != "":
		host = net.JoinHostPort(host, port)
	case strings.Contains(host, ":"):
		host = "[" + host + "]"
	}
	return scheme + "://" + host
}

func isFavicon(t network.ResourceType, u string) bool {
	pu, err := url.Parse(u)
	return t == network.ResourceTypeOther && err == nil && pu.Path == "/favicon.ico"
}

// exceptionText is "Uncaught Error: boom" without the stack.
func exceptionText(d *runtime.ExceptionDetails) string {
	if d == nil {
		return "exception"
	}
	text := d.Text
	if o := d.Exception; o != nil {
		desc := o.Description
		if desc == "" {
			desc = string(o.Value)
		}
		desc, _, _ = strings.Cut(desc, "\n    at ")
		text += " " + desc
	}
	return strings.TrimSpace(text)
}

// consoleText renders the arguments of a console call: strings as they
// are, other values by their description.
func consoleText(args []*runtime.RemoteObject) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		var s string
		switch {
		case a.Type == runtime.RemoteObjectTypeString && json.Unmarshal(a.Value, &s) == nil:
		case a.Description != "":
			s, _, _ = strings.Cut(a.Description, "\n    at ")
		case len(a.Value) > 0:
			s = string(a.Value)
		case a.UnserializableValue != "":
			s = string(a.UnserializableValue)
		default:
			s = string(a.Type)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}
