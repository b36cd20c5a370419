package statuspage_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/vantageprobe/vantage/statuspage"
)

// needChromium skips without Chromium, unless CI is set.
func needChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "" {
		t.Skip("chromium is not installed")
	}
	t.Fatal("chromium is not installed (CI is set)")
	return ""
}

// artifactsDir is where screenshots go: statuspage/testdata/artifacts
// (gitignored).
func artifactsDir(t *testing.T) string {
	dir := filepath.Join("testdata", "artifacts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestBrowser loads the page in real headless Chromium at 360 and 1280 px,
// light and dark: no console errors or CSP violations, bars and charts
// drawn, no horizontal scrolling, the skip link first in keyboard order;
// screenshots are saved. No Chromium process outlives the test.
func TestBrowser(t *testing.T) {
	execPath := needChromium(t)
	f := newFixture(t, fixtureConfig(), fixtureSource(fixtureNow), statuspage.Options{})
	profile := t.TempDir()
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(execPath), chromedp.UserDataDir(profile), chromedp.Headless, chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("no-proxy-server", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("force-color-profile", "srgb"))
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer func() {
		cancelBrowser()
		cancelAlloc() // waits for the process
		if n := processesUsing(profile); n > 0 {
			t.Errorf("%d Chromium processes left running", n)
		}
	}()
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	shots := artifactsDir(t)
	for _, tc := range []struct {
		width int
		dark  bool
	}{{360, false}, {1280, false}, {360, true}, {1280, true}} {
		name := fmt.Sprintf("%dpx-%s", tc.width, map[bool]string{false: "light", true: "dark"}[tc.dark])
		t.Run(name, func(t *testing.T) {
			for _, path := range []string{"/", "/components/api-eu", "/history", "/incidents/dns-1"} {
				shot := filepath.Join(shots, name+strings.ReplaceAll(path, "/", "_")+".png")
				browse(t, bctx, f.srv.URL+path, tc.width, tc.dark, shot, path == "/", path == "/" || strings.HasPrefix(path, "/components/"))
			}
		})
	}
	t.Logf("screenshots in %s", shots)
}

// pageMetrics is what the page reports about its layout.
type pageMetrics struct {
	ScrollWidth, InnerWidth int
	Bars, BarPaths          int
	BarWidth, BarHeight     float64
	Charts, ChartPaths      int
	ChartWidth, ChartHeight float64
	Background, Stroke      string
	Banner                  string
	Scripts                 int
}

const metricsJS = `(() => {
	const r = s => { const e = document.querySelector(s); return e ? e.getBoundingClientRect() : {width: 0, height: 0}; };
	const bar = document.querySelector('svg.bars path:not(.nd)');
	const banner = document.querySelector('.banner');
	return {
		ScrollWidth: document.documentElement.scrollWidth, InnerWidth: window.innerWidth,
		Bars: document.querySelectorAll('svg.bars').length, BarPaths: document.querySelectorAll('svg.bars path').length,
		BarWidth: r('svg.bars').width, BarHeight: r('svg.bars').height,
		Charts: document.querySelectorAll('.rt svg').length, ChartPaths: document.querySelectorAll('.rt svg path').length,
		ChartWidth: r('.rt svg').width, ChartHeight: r('.rt svg').height,
		Background: getComputedStyle(document.body).backgroundColor,
		Stroke: bar ? getComputedStyle(bar).stroke : '',
		Banner: banner ? getComputedStyle(banner).backgroundColor : '',
		Scripts: document.scripts.length,
	};
})()`

// browse opens url in a new tab, checks it and saves a screenshot as shot;
// bars says the page has uptime bars, full that it is the index, where
// charts and the keyboard order are checked too.
func browse(t *testing.T, bctx context.Context, url string, width int, dark bool, shot string, full, bars bool) {
	t.Helper()
	tab, cancel := chromedp.NewContext(bctx)
	defer cancel()
	if err := chromedp.Do(tab); err != nil {
		t.Fatal(err)
	}
	ctx, cancelTimeout := context.WithTimeout(tab, 30*time.Second)
	defer cancelTimeout()
	// Console messages, exceptions and browser log entries (CSP
	// violations, failed loads), collected from before the navigation.
	mctx, stopMessages := context.WithCancel(tab)
	messages := chromedp.Console(mctx)
	var problems []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning || m.IsException() {
				problems = append(problems, m.String())
			}
		}
	}()
	scheme := "light"
	if dark {
		scheme = "dark"
	}
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(int64(width), 900),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
			return err
		}),
		chromedp.Navigate(url),
		chromedp.WaitReady(chromedp.CSS("footer")),
	)
	if err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	m, err := chromedp.Run(ctx, chromedp.Evaluate[pageMetrics](metricsJS))
	if err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	img, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("%s: screenshot: %v", url, err)
	}
	if err := os.WriteFile(shot, img, 0o644); err != nil {
		t.Fatal(err)
	}
	if m.ScrollWidth > m.InnerWidth {
		t.Errorf("%s at %d px: the page scrolls sideways (%d px wide)", url, width, m.ScrollWidth)
	}
	if m.Scripts != 0 {
		t.Errorf("%s: %d scripts", url, m.Scripts)
	}
	// The stylesheet applied under the CSP, and dark mode really is dark.
	if darkBg := m.Background == "rgb(13, 17, 23)"; darkBg != dark || m.Background == "rgba(0, 0, 0, 0)" {
		t.Errorf("%s (%s): body background %s", url, scheme, m.Background)
	}
	if bars && (m.Bars == 0 || m.BarPaths == 0 || m.BarWidth < float64(width)/2 || m.BarHeight < 20 || m.Stroke == "" || m.Stroke == "none") {
		t.Errorf("%s at %d px: bars %+v", url, width, m)
	}
	if full {
		if m.Charts == 0 || m.ChartPaths == 0 || m.ChartWidth < float64(width)/2 || m.ChartHeight < 30 || m.Banner == "rgba(0, 0, 0, 0)" {
			t.Errorf("%s at %d px: charts or banner missing: %+v", url, width, m)
		}
		// Keyboard: the first Tab lands on the skip link, which shows.
		if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
			t.Fatal(err)
		}
		focus, err := chromedp.Run(ctx, chromedp.Evaluate[struct {
			Class string
			Left  float64
		}](`({Class: document.activeElement.className, Left: document.activeElement.getBoundingClientRect().left})`))
		if err != nil || focus.Class != "skip" || focus.Left < 0 {
			t.Errorf("first Tab: focus on %+v (%v), want the visible skip link", focus, err)
		}
		// Every marked day has an accessible name (its tooltip) in
		// Chromium's accessibility tree; the bars are a group of them.
		if names := barNames(t, ctx); len(names) == 0 {
			t.Errorf("%s: no day of the bars has an accessible name", url)
		} else if width == 1280 && !dark {
			t.Logf("accessible names of days, e.g. %q", names[0])
		}
	}
	stopMessages()
	<-done
	if len(problems) > 0 {
		t.Errorf("%s: console: %v", url, problems)
	}
}

// dayName is the accessible name of a marked day (or days that read
// alike): dates, then the day's uptime.
var dayName = regexp.MustCompile(`^\d{1,2}( [A-Z][a-z]{2}( \d{4})?)?(, \d{1,2}( [A-Z][a-z]{2}( \d{4})?)?)*: (\d+\.\d\d|100)% uptime`)

// barNames returns the accessible names of days in the page's
// accessibility tree, as Chromium computes it.
func barNames(t *testing.T, ctx context.Context) []string {
	t.Helper()
	var tree *accessibility.GetFullAXTreeResult
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		res, err := cdp.Call(ctx, tg, accessibility.GetFullAXTree, accessibility.GetFullAXTreeParams{})
		tree = &res
		return err
	}))
	if err != nil {
		t.Fatalf("accessibility tree: %v", err)
	}
	var out []string
	for _, n := range tree.Nodes {
		if n.Ignored || n.Name == nil {
			continue
		}
		var name string
		if json.Unmarshal(n.Name.Value, &name) == nil && dayName.MatchString(name) {
			out = append(out, name)
		}
	}
	return out
}

// processesUsing counts processes whose command line names dir.
func processesUsing(dir string) int {
	entries, _ := os.ReadDir("/proc")
	n := 0
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(b), dir) {
			n++
		}
	}
	return n
}
