package probes

import "time"

// Test hooks for the browser tests in package probes_test.

// BrowserPID returns the PID of the running Chromium, or 0.
func BrowserPID(b *Browser) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cur == nil {
		return 0
	}
	return b.cur.pid
}

// BrowserProfileDir returns the --user-data-dir of the running Chromium, or "".
func BrowserProfileDir(b *Browser) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cur == nil {
		return ""
	}
	return b.cur.dir
}

// SetBrowserCallTimeout shortens the hang detection for a test.
func SetBrowserCallTimeout(b *Browser, d time.Duration) { b.callTimeout = d }

// ProcessesUsing returns the processes started with --user-data-dir=dir.
func ProcessesUsing(dir string) []int { return processesUsing(dir) }
