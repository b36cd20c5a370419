package server

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"
)

// TestNativeHistMatchesClientGolang: the series table's native histogram
// reads exactly as client_golang's own (bucket factor 1.1, at most 100
// buckets) fed the same durations: schema, zero bucket, spans, deltas,
// count and sum — with a few buckets, with exact powers of two and zero,
// and with a spread wide enough to lower the schema.
func TestNativeHistMatchesClientGolang(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := map[string][]float64{
		"empty":          nil,
		"one":            {0.05},
		"powers of two":  {1, 0.5, 0.25, 2, 4, 0.125, 1, 1024, math.Ldexp(1, -20)},
		"zero and tiny":  {0, 0, math.Ldexp(1, -130), 0.001},
		"loopback probe": nil,
		"wide spread":    nil,
		"very wide":      nil,
	}
	for range 5000 {
		cases["loopback probe"] = append(cases["loopback probe"], 0.0005+rng.ExpFloat64()*0.0003)
		cases["wide spread"] = append(cases["wide spread"], math.Exp(rng.NormFloat64()*3-4)) // many powers of two: schema drops
	}
	for i := range 400 {
		cases["very wide"] = append(cases["very wide"], math.Ldexp(1+rng.Float64(), i-200))
	}
	for name, values := range cases {
		t.Run(name, func(t *testing.T) {
			ref := prometheus.NewHistogram(prometheus.HistogramOpts{
				Name: "d", Help: "d", Buckets: durationBuckets[:],
				NativeHistogramBucketFactor: 1.1, NativeHistogramMaxBucketNumber: 100,
			})
			e := &series{created: time.Now()}
			for _, v := range values {
				ref.Observe(v)
				e.count(true, v)
			}
			var want, got dto.Metric
			if err := ref.Write(&want); err != nil {
				t.Fatal(err)
			}
			if err := durationMetricOf(descDuration, e, "c", "r").Write(&got); err != nil {
				t.Fatal(err)
			}
			w, g := want.GetHistogram(), got.GetHistogram()
			w.CreatedTimestamp, g.CreatedTimestamp = nil, nil
			if !proto.Equal(w, g) {
				t.Errorf("client_golang:\n%v\nseries table:\n%v", w, g)
			}
		})
	}
}

// BenchmarkNativeHistObserve: the cost of counting one duration.
func BenchmarkNativeHistObserve(b *testing.B) {
	var h nativeHist
	rng := rand.New(rand.NewPCG(1, 2))
	vs := make([]float64, 1024)
	for i := range vs {
		vs[i] = 0.0005 + rng.ExpFloat64()*0.01
	}
	i := 0
	for b.Loop() {
		h.observe(vs[i&1023])
		i++
	}
}
