package probes

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/chromedp/chromedp"
)

// findChromium resolves the executable: path, or the first of the usual
// names on PATH.
func findChromium(path string) (string, error) {
	candidates := []string{"chromium", "chromium-browser", "google-chrome"}
	if path != "" {
		candidates = []string{path}
	}
	for _, c := range candidates {
		if p, err := exec.LookPath(c); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: %s not found: install Chromium (apt-get install chromium) or set browser.exec_path",
		ErrNoBrowser, joinOr(candidates))
}

// joinOr is "a", "a or b", "a, b or c".
func joinOr(s []string) string {
	if len(s) == 1 {
		return s[0]
	}
	out := ""
	for i, v := range s {
		switch {
		case i == 0:
		case i == len(s)-1:
			out += " or "
		default:
			out += ", "
		}
		out += v
	}
	return out
}

// start launches Chromium and waits until it answers; ctx bounds the wait,
// not the life of the process.
func (b *Browser) start(ctx context.Context) (*browserInstance, error) {
	begin := time.Now()
	dir, err := os.MkdirTemp("", "vantage-chromium-")
	if err != nil {
		return nil, fmt.Errorf("start chromium: %w", err)
	}
	// The process lives until stop, beyond the run that starts it.
	actx, acancel := chromedp.NewExecAllocator(context.Background(), b.allocatorOptions(dir)...)
	logf := func(format string, args ...any) { b.log.Debug("chromedp", "err", fmt.Sprintf(format, args...)) }
	bctx, bcancel := chromedp.NewContext(actx, chromedp.WithBrowserOption(
		chromedp.WithBrowserLogf(logf), chromedp.WithBrowserErrorf(logf)))
	// chromedp's cancel funcs wait for the browser; each must run only once.
	inst := &browserInstance{ctx: bctx, cancel: sync.OnceFunc(bcancel), allocCancel: sync.OnceFunc(acancel), dir: dir}
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(bctx) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		inst.cancel()
		<-done
		err = ctx.Err()
	}
	if err == nil {
		c := chromedp.FromContext(bctx)
		if p := c.Browser.Process(); p != nil {
			inst.pid = p.Pid
		}
		inst.lost = c.Browser.LostConnection
	}
	if err != nil {
		inst.stopping.Store(true)
		_ = b.kill(inst)
		return nil, fmt.Errorf("start chromium %s: %w", b.execPath, err)
	}
	b.mu.Lock()
	b.starts++
	b.mu.Unlock()
	b.log.Info("browser started", "duration", time.Since(begin))
	return inst, nil
}

// stop closes Chromium gracefully when it still answers, then makes sure no
// process of it is left and removes its user-data-dir.
func (b *Browser) stop(in *browserInstance) error {
	alive := !in.dead() && !in.hung.Load()
	in.stopping.Store(true)
	if alive {
		ctx, cancel := context.WithTimeout(in.ctx, browserStopTimeout)
		_ = chromedp.Cancel(ctx) // a failure here is handled by kill
		cancel()
	}
	return b.kill(in)
}

// kill ends the process (SIGKILL when it still runs), waits for it, kills
// leftover children and removes the user-data-dir.
func (b *Browser) kill(in *browserInstance) error {
	in.cancel()
	in.allocCancel() // waits for the process
	killLeftovers(in.dir)
	if err := removeAllRetry(in.dir); err != nil {
		return fmt.Errorf("remove chromium profile: %w", err)
	}
	return nil
}

// chromiumFlags keep Chromium headless, quiet and off the network except for
// the pages it is told to load. Chromium flags are switches, so the table is
// name → value ("" = switch without value).
var chromiumFlags = []struct{ name, value string }{
	{"headless", ""}, {"no-sandbox", ""}, {"disable-gpu", ""}, {"disable-quic", ""},
	{"no-first-run", ""}, {"no-default-browser-check", ""},
	{"disable-background-networking", ""}, {"disable-component-update", ""},
	{"disable-sync", ""}, {"disable-default-apps", ""}, {"disable-extensions", ""},
	{"disable-domain-reliability", ""}, {"disable-client-side-phishing-detection", ""},
	{"disable-breakpad", ""}, {"metrics-recording-only", ""}, {"no-pings", ""},
	{"safebrowsing-disable-auto-update", ""}, {"no-proxy-server", ""},
	// Off: features that call home, upgrade http:// URLs behind the check's
	// back, or build browser UI per window (the omnibox popup's WebUI alone
	// costs each run a renderer process, ~75 ms and ~75 ms of CPU).
	{"disable-features", "Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider," +
		"HttpsUpgrades,HttpsFirstBalancedModeAutoEnable,AutofillServerCommunication," +
		"CertificateTransparencyComponentUpdater,InterestFeedContentSuggestions," +
		"WebUIOmniboxPopup,WebUIOmniboxAimPopup,WebUIOmniboxFullPopup,PreloadTopChromeWebUI"},
	{"disable-field-trial-config", ""}, {"disable-component-extensions-with-background-pages", ""},
	{"disable-dev-shm-usage", ""}, {"disable-hang-monitor", ""},
	{"disable-background-timer-throttling", ""}, {"disable-backgrounding-occluded-windows", ""},
	{"disable-renderer-backgrounding", ""}, {"disable-prompt-on-repost", ""},
	{"hide-scrollbars", ""}, {"mute-audio", ""}, {"password-store", "basic"},
	{"use-mock-keychain", ""}, {"force-color-profile", "srgb"},
}

// chromiumEnv are the variables Chromium gets from our environment; the rest
// (tokens, proxies, XDG directories) stay out of the browser.
var chromiumEnv = []string{"PATH", "TMPDIR", "LANG", "LC_ALL", "TZ", "FONTCONFIG_PATH", "FONTCONFIG_FILE"}

func (b *Browser) allocatorOptions(dir string) []chromedp.ExecAllocatorOption {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(b.execPath), chromedp.UserDataDir(dir), chromedp.NoInheritEnv,
	}
	for _, f := range chromiumFlags {
		if f.value == "" {
			opts = append(opts, chromedp.Flag(f.name, true))
		} else {
			opts = append(opts, chromedp.Flag(f.name, f.value))
		}
	}
	for _, k := range chromiumEnv {
		if v, ok := os.LookupEnv(k); ok {
			opts = append(opts, chromedp.Env(k+"="+v))
		}
	}
	// HOME in the profile dir keeps Chromium's files (NSS database, crash
	// reports) in it, and names it in the command line of the crash
	// handlers, which run outside the process tree.
	return append(opts, chromedp.Env("HOME="+dir))
}
