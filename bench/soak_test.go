package bench

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestJudge(t *testing.T) {
	series := func(rss func(i int) int64, gor func(i int) float64) []sampleAt {
		var ss []sampleAt
		for i := range 40 {
			ss = append(ss, sampleAt{at: time.Unix(int64(2*i), 0), rss: map[string]int64{"server": rss(i)}, goroutines: gor(i)})
		}
		return ss
	}
	const mib = 1 << 20
	flat := func(int) int64 { return 60 * mib }
	var s Soak
	// Warming up in the first half is fine; flat afterwards.
	judge(series(func(i int) int64 { return int64(min(i, 10)) * 3 * mib }, func(int) float64 { return 30 }), &s)
	if !s.Passed() {
		t.Errorf("warm-up then flat: %v", s.Problems)
	}
	s = Soak{}
	judge(series(func(i int) int64 { return int64(60+i) * mib }, func(int) float64 { return 30 }), &s)
	if raceBuild {
		if !s.Passed() || s.RSSJudged {
			t.Errorf("RSS judged in a race build: %v", s.Problems)
		}
	} else if s.Passed() || !strings.Contains(s.Problems[0], "server: RSS grew") {
		t.Errorf("RSS climbing to the end: %v", s.Problems)
	}
	s = Soak{}
	judge(series(flat, func(i int) float64 { return float64(30 + 2*i) }), &s)
	if s.Passed() || !strings.Contains(s.Problems[0], "goroutines grew") {
		t.Errorf("goroutines climbing: %v", s.Problems)
	}
	s = Soak{}
	// A spike in the last quarter is not growth.
	judge(series(func(i int) int64 {
		if i == 35 {
			return 200 * mib
		}
		return 60 * mib
	}, func(int) float64 { return 30 }), &s)
	if !s.Passed() {
		t.Errorf("one spike: %v", s.Problems)
	}
	s = Soak{}
	judge(series(flat, func(int) float64 { return 30 })[:5], &s)
	if s.Passed() {
		t.Error("5 samples judged")
	}
}

func TestSoakHooksCountDuplicates(t *testing.T) {
	sf, err := startSoakFarm()
	if err != nil {
		t.Fatal(err)
	}
	defer sf.Close()
	post := func(body string) int {
		resp, err := http.Post(sf.HTTP+"/hooks", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	firing := `{"groupKey": "g", "status": "firing", "alerts": [{"status": "firing", "fingerprint": "a", "startsAt": "2026-11-26T06:00:00Z"}]}`
	resolved := strings.ReplaceAll(firing, "firing", "resolved")
	again := strings.Replace(firing, "06:00:00", "06:05:00", 1) // fired anew
	for _, b := range []string{firing, resolved, again, firing} {
		if code := post(b); code != http.StatusNoContent {
			t.Fatalf("POST: %d", code)
		}
	}
	if code := post("not json"); code != http.StatusBadRequest {
		t.Errorf("garbage: %d", code)
	}
	if n, dup := sf.counts(); n != 4 || dup != 1 {
		t.Errorf("%d notifications, %d duplicates; want 4 and 1", n, dup)
	}
	// The hostile targets: /hang holds the request until the client goes.
	c := http.Client{Timeout: 100 * time.Millisecond}
	if _, err := c.Get(sf.HTTP + "/hang"); err == nil {
		t.Error("/hang answered")
	}
}
