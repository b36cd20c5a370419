package bench

import (
	"math"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/results"
)

func TestValidate(t *testing.T) {
	ok := Options{Checks: 10, Interval: time.Second, Duration: time.Second, Mix: []string{"http"},
		Command: func(args ...string) *exec.Cmd { return exec.Command("vantage", args...) }}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid options: %v", err)
	}
	tests := []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"checks", func(o *Options) { o.Checks = 0 }, "--checks 0"},
		{"too many", func(o *Options) { o.Checks = MaxChecks + 1 }, "--checks 100001"},
		{"interval", func(o *Options) { o.Interval = time.Millisecond }, "--interval 1ms"},
		{"duration", func(o *Options) { o.Duration = 0 }, "--duration 0s"},
		{"warmup", func(o *Options) { o.Warmup = -time.Second }, "--warmup -1s"},
		{"empty mix", func(o *Options) { o.Mix = nil }, "--mix: name at least one"},
		{"unknown kind", func(o *Options) { o.Mix = []string{"http", "icmp"} }, `--mix "icmp"`},
		{"agents", func(o *Options) { o.Agents = 3 }, "--agents 3"},
		{"no command", func(o *Options) { o.Command = nil }, "no command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := ok
			tt.edit(&o)
			if err := o.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error with %q", err, tt.want)
			}
		})
	}
}

func TestParseMixAndPlan(t *testing.T) {
	mix := ParseMix(" http, TCP,,dns ")
	if strings.Join(mix, ",") != "http,tcp,dns" {
		t.Fatalf("ParseMix: %q", mix)
	}
	cs := plan(Options{Checks: 61, Mix: mix})
	kinds, delayed := map[string]int{}, 0
	for _, c := range cs {
		kinds[c.kind]++
		if c.delayed {
			delayed++
			if c.kind != "http" || !strings.HasPrefix(c.name, "http50-") {
				t.Errorf("delayed check %+v", c)
			}
		}
	}
	// 21 HTTP checks: the 1st, 11th and 21st probe the 50 ms target.
	if kinds["http"] != 21 || kinds["tcp"] != 20 || kinds["dns"] != 20 || delayed != 3 {
		t.Fatalf("kinds %v, delayed %d", kinds, delayed)
	}
}

func TestQuantiles(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	if q := quantile(ds, 0.5); q != 50*time.Millisecond {
		t.Errorf("p50 %v", q)
	}
	if q := quantile(ds, 0.99); q != 99*time.Millisecond {
		t.Errorf("p99 %v", q)
	}
	if q := quantile(nil, 0.5); q != 0 {
		t.Errorf("empty: %v", q)
	}
	// 100 observations between two scrapes: 90 ≤ 1 ms, 10 in (1 ms, 2 ms].
	a := sample{`h_bucket{le="0.001"}`: 5, `h_bucket{le="0.002"}`: 5, `h_bucket{le="+Inf"}`: 5, "h_count": 5, "h_sum": 0.004}
	b := sample{`h_bucket{le="0.001"}`: 95, `h_bucket{le="0.002"}`: 105, `h_bucket{le="+Inf"}`: 105, "h_count": 105, "h_sum": 0.104}
	d := deltaHist(a, b, "h")
	if d.count != 100 || math.Abs(d.sum-0.1) > 1e-9 {
		t.Fatalf("delta %+v", d)
	}
	if q := d.quantile(0.99); math.Abs(q-0.0019) > 1e-9 {
		t.Errorf("p99 %v, want 0.0019 (linear in the (1 ms, 2 ms] bucket)", q)
	}
	if q := d.quantile(0.5); math.Abs(q-0.001*50/90) > 1e-9 {
		t.Errorf("p50 %v, want 0.001·50/90", q)
	}
	if s := b.sum("h_bucket"); s != 305 {
		t.Errorf("sum %v", s)
	}
}

// The 50 ms target's durations split into the target's part (processing)
// and the prober's (connect, and the rest of the duration).
func TestDelayedParts(t *testing.T) {
	var d delayedParts
	a := results.Record{Duration: 53 * time.Millisecond}
	a.Phases.Connect, a.Phases.Processing = time.Millisecond, 51*time.Millisecond
	b := results.Record{Duration: 55 * time.Millisecond}
	b.Phases.Resolve, b.Phases.Connect, b.Phases.TLS, b.Phases.Processing = time.Millisecond, 2*time.Millisecond, time.Millisecond, 50*time.Millisecond
	d.add(a)
	d.add(b)
	want := delayedParts{
		processing: []time.Duration{51 * time.Millisecond, 50 * time.Millisecond},
		connect:    []time.Duration{time.Millisecond, 2 * time.Millisecond},
		rest:       []time.Duration{time.Millisecond, time.Millisecond},
	}
	if !slices.Equal(d.processing, want.processing) || !slices.Equal(d.connect, want.connect) || !slices.Equal(d.rest, want.rest) {
		t.Fatalf("parts %+v, want %+v", d, want)
	}
}

func TestReadUsage(t *testing.T) {
	hz := clockTicks()
	if hz < 1 {
		t.Fatalf("clock ticks %d", hz)
	}
	u, err := readUsage("self", hz)
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	if u.rss <= 0 || u.hwm < u.rss {
		t.Fatalf("rss %d, peak %d", u.rss, u.hwm)
	}
	deadline := time.Now().Add(2 * time.Second)
	for x := 0; time.Now().Before(deadline); x++ { // burn CPU until it shows
		if v, _ := readUsage("self", hz); v.cpu > u.cpu {
			return
		}
	}
	t.Fatal("cpu time did not grow")
}
