package server_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"testing"
	"time"
)

// TestReloadStorm: 100 reloads a second on the admin API for two seconds,
// a third of them of an invalid file, neither leak goroutines nor stop
// probing; an invalid file is refused and the running config stays.
func TestReloadStorm(t *testing.T) {
	ok, _ := targets(t)
	checks := fmt.Sprintf("  - {name: a, http: {url: %q}}\n  - {name: b, http: {url: %q}}\n", ok, ok)
	e := startWith(t, "", checks)
	admin := httptest.NewServer(e.srv.AdminHandler())
	t.Cleanup(admin.Close)

	lastStart := func() time.Time {
		var out struct {
			LastResult *struct{ Started time.Time } `json:"last_result"`
		}
		e.get(t, "/api/v1/checks/a", 200, &out)
		if out.LastResult == nil {
			return time.Time{}
		}
		return out.LastResult.Started
	}
	waitFor(t, "a first result", func() bool { return !lastStart().IsZero() })
	time.Sleep(300 * time.Millisecond) // let start-up goroutines settle
	runtime.GC()
	before := runtime.NumGoroutine()

	valid, err := os.ReadFile(e.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	invalid := append([]byte(nil), valid...)
	invalid = append(invalid, "  - {name: BAD NAME, tcp: {address: x}}\n"...)
	codes := map[int]int{}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	stormStart := time.Now()
	for i := range 200 {
		<-tick.C
		src := valid
		if i%3 == 2 {
			src = invalid
		}
		if err := os.WriteFile(e.cfgPath, src, 0o600); err != nil {
			t.Fatal(err)
		}
		resp, err := http.Post(admin.URL+"/-/reload", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		codes[resp.StatusCode]++
	}
	if codes[200] != 134 || codes[400] != 66 {
		t.Errorf("answers %v, want 134 × 200 and 66 × 400", codes)
	}
	if err := os.WriteFile(e.cfgPath, valid, 0o600); err != nil {
		t.Fatal(err)
	}
	// Probing went on through the storm and goes on after it.
	waitFor(t, "a result after the storm", func() bool { return lastStart().After(stormStart.Add(2 * time.Second)) })
	var leaked int
	for range 50 { // goroutines of the last reloads wind down
		runtime.GC()
		if leaked = runtime.NumGoroutine() - before; leaked <= 5 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if leaked > 5 {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines more than before the storm\n%s", leaked, buf[:runtime.Stack(buf, true)])
	}
}
