package results

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// exactQuantile is the q-quantile of sorted samples (nearest rank).
func exactQuantile(sorted []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(i, 0)]
}

func TestHistogramQuantileAccuracy(t *testing.T) {
	tests := []struct {
		name   string
		sample func(r *rand.Rand) time.Duration
	}{
		{"log-normal around 50ms", func(r *rand.Rand) time.Duration {
			return time.Duration(math.Exp(math.Log(float64(50*time.Millisecond)) + r.NormFloat64()))
		}},
		{"uniform 1ms-2s", func(r *rand.Rand) time.Duration {
			return time.Millisecond + time.Duration(r.Int64N(int64(2*time.Second)))
		}},
		{"bimodal fast and timeouts", func(r *rand.Rand) time.Duration {
			if r.IntN(10) == 0 {
				return 5*time.Second + time.Duration(r.Int64N(int64(time.Second)))
			}
			return 2*time.Millisecond + time.Duration(r.ExpFloat64()*float64(3*time.Millisecond))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for seed := range uint64(5) {
				rng := rand.New(rand.NewPCG(seed, 42))
				samples := make([]time.Duration, 20000)
				var h Histogram
				for i := range samples {
					samples[i] = tt.sample(rng)
					h.Observe(samples[i])
				}
				slices.Sort(samples)
				for _, q := range []float64{0.5, 0.9, 0.95, 0.99} {
					exact, est := exactQuantile(samples, q), h.Quantile(q)
					if rel := math.Abs(float64(est-exact)) / float64(exact); rel > 0.15 {
						t.Errorf("seed %d: q%.2f = %v, exact %v (off by %.1f%%)", seed, q, est, exact, 100*rel)
					}
				}
			}
		})
	}
}

func TestHistogramEdges(t *testing.T) {
	var h Histogram
	if h.Quantile(0.5) != 0 || h.Count() != 0 {
		t.Errorf("empty histogram: quantile %v, count %d; want 0, 0", h.Quantile(0.5), h.Count())
	}
	h.Observe(0)
	h.Observe(time.Hour) // beyond the last bound
	if h[0] != 1 || h[HistBuckets-1] != 1 || h.Count() != 2 {
		t.Errorf("0 and 1h landed in %v, want the first and the last bucket", h)
	}
	for i := 1; i < HistBuckets; i++ {
		if BucketBound(i) <= BucketBound(i-1) {
			t.Fatalf("bucket bounds not increasing at %d: %v <= %v", i, BucketBound(i), BucketBound(i-1))
		}
	}
	for i := range HistBuckets - 1 { // a bound falls into its own bucket
		var b Histogram
		b.Observe(BucketBound(i))
		if b[i] != 1 {
			t.Errorf("BucketBound(%d) = %v counted in another bucket: %v", i, BucketBound(i), b)
		}
	}
}

func TestRollupAdd(t *testing.T) {
	var r Rollup
	recs := []Record{
		{Duration: 30 * time.Millisecond, OK: true},
		{Duration: 10 * time.Millisecond, OK: true, Degraded: true},
		{Duration: 2 * time.Second, OK: false, Degraded: true}, // failed, not degraded
		{Duration: 20 * time.Millisecond, OK: false},
	}
	for _, rec := range recs {
		r.Add(rec)
	}
	want := Rollup{Total: 4, Failed: 2, Degraded: 1, DurationSum: 2060 * time.Millisecond,
		DurationMin: 10 * time.Millisecond, DurationMax: 2 * time.Second}
	got := r
	got.Hist = Histogram{}
	if got != want {
		t.Errorf("after Add:\n got %+v\nwant %+v", got, want)
	}
	if r.Hist.Count() != 4 {
		t.Errorf("histogram counts %d records, want 4", r.Hist.Count())
	}
}

func TestRollupMerge(t *testing.T) {
	recs := []Record{
		{Duration: 5 * time.Millisecond, OK: true},
		{Duration: 700 * time.Millisecond, OK: false},
		{Duration: 40 * time.Millisecond, OK: true, Degraded: true},
		{Duration: 3 * time.Millisecond, OK: true},
		{Duration: 90 * time.Millisecond, OK: true},
	}
	var all Rollup
	for _, rec := range recs {
		all.Add(rec)
	}
	tests := []struct {
		name  string
		split int
	}{{"empty left", 0}, {"middle", 2}, {"empty right", len(recs)}, {"min on the right", 3}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a, b Rollup
			for _, rec := range recs[:tt.split] {
				a.Add(rec)
			}
			for _, rec := range recs[tt.split:] {
				b.Add(rec)
			}
			a.Merge(b)
			if a != all {
				t.Errorf("merged\n got %+v\nwant %+v", a, all)
			}
		})
	}
	if s := Sum([]Rollup{{}, all, {}}); s != all {
		t.Errorf("Sum with empty rollups = %+v, want %+v", s, all)
	}
}

func TestUptime(t *testing.T) {
	tests := []struct {
		name   string
		rs     []Rollup
		want   float64
		wantOK bool
	}{
		{"nil", nil, 0, false},
		{"empty buckets", []Rollup{{}, {}}, 0, false},
		{"all passed", []Rollup{{Total: 10}}, 1, true},
		{"some failed", []Rollup{{Total: 10, Failed: 1}, {Total: 30, Failed: 1}}, 38.0 / 40, true},
		{"degraded counts as up", []Rollup{{Total: 4, Degraded: 4}}, 1, true},
		{"all failed", []Rollup{{Total: 3, Failed: 3}}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Uptime(tt.rs)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("Uptime = %v, %v; want %v, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestBucketStart(t *testing.T) {
	at := time.Date(2030, 3, 4, 23, 59, 59, 999, time.FixedZone("x", 2*3600))
	if got, want := Minute.BucketStart(at), time.Date(2030, 3, 4, 21, 59, 0, 0, time.UTC); !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("Minute.BucketStart = %v, want %v", got, want)
	}
	if got, want := Day.BucketStart(at), time.Date(2030, 3, 4, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Day.BucketStart = %v, want %v (UTC midnight)", got, want)
	}
}

func TestNewIDIsUniqueAndTimeOrdered(t *testing.T) {
	a := NewID()
	time.Sleep(2 * time.Millisecond)
	b := NewID()
	if len(a) != 32 || len(b) != 32 || a == b || a[:12] >= b[:12] {
		t.Fatalf("ids %s, %s: want 32 hex digits, time-ordered prefix", a, b)
	}
}
