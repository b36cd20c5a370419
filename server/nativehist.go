package server

import (
	"math"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// The native histogram of vantage_probe_duration_seconds (protobuf
// exposition only) is kept in the series table beside the classic
// buckets, as client_golang keeps one configured with a bucket factor of
// 1.1 and at most 100 buckets: schema 3 (bucket i holds durations in
// (2^((i-1)/8), 2^(i/8)] seconds), a zero bucket for durations of at most
// 2^-128 s, and the schema lowered by one (buckets merged in pairs)
// whenever a new bucket would make more than 100. A series costs its
// populated buckets (usually a few) instead of client_golang's histogram
// with its maps, about 2.5 KB a series.
const (
	nativeSchema     = 3
	nativeMaxBuckets = 100
)

// nativeZeroThreshold is client_golang's default zero bucket width.
var nativeZeroThreshold = math.Ldexp(1, -128)

// nativeHist counts durations in exponential buckets.
type nativeHist struct {
	schema int32
	zero   uint64
	keys   []int32 // bucket indexes, ascending
	counts []uint64
}

// observe counts v seconds.
func (h *nativeHist) observe(v float64) {
	if h.keys == nil && h.zero == 0 {
		h.schema = nativeSchema
	}
	if v <= nativeZeroThreshold {
		h.zero++
		return
	}
	key := nativeKey(v, h.schema)
	i, found := slices.BinarySearch(h.keys, key)
	if found {
		h.counts[i]++
		return
	}
	h.keys = slices.Insert(h.keys, i, key)
	h.counts = slices.Insert(h.counts, i, 1)
	for len(h.keys) > nativeMaxBuckets && h.schema > -4 {
		h.halve()
	}
}

// nativeBounds are the bucket bounds of schema 3 within one power of two,
// as fractions in [0.5, 1): 2^(j/8)/2. Schema s < 3 uses every 2^(3-s)-th.
var nativeBounds = [1 << nativeSchema]float64{
	0.5, 0.5452538663326288, 0.5946035575013605, 0.6484197773255048,
	0.7071067811865476, 0.7711054127039704, 0.8408964152537145, 0.9170040432046712,
}

// nativeKey is the index of the bucket of v > 0 at schema: the smallest i
// with v ≤ 2^(i·2^-schema).
func nativeKey(v float64, schema int32) int32 {
	frac, exp := math.Frexp(v) // v = frac·2^exp, frac in [0.5, 1)
	if schema > 0 {
		step := 1 << (nativeSchema - schema)
		per := 1 << schema
		j := 0
		for j < per && nativeBounds[j*step] < frac {
			j++
		}
		return int32(j + (exp-1)*per)
	}
	// Bucket i holds (2^((i-1)·2^-schema), 2^(i·2^-schema)]: at schema 0,
	// exp−1 for an exact power of two, else exp; lower schemas merge
	// 2^-schema of those.
	k := exp
	if frac == 0.5 {
		k--
	}
	return int32(ceilDiv(k, 1<<-schema))
}

func ceilDiv(a, b int) int {
	q := a / b
	if a%b != 0 && (a > 0) == (b > 0) {
		q++
	}
	return q
}

// halve lowers the schema by one, merging buckets 2j-1 and 2j into j.
func (h *nativeHist) halve() {
	h.schema--
	out := 0
	for i, k := range h.keys {
		nk := (k + 1) >> 1 // ceil(k/2), also below zero
		if out > 0 && h.keys[out-1] == nk {
			h.counts[out-1] += h.counts[i]
			continue
		}
		h.keys[out], h.counts[out] = nk, h.counts[i]
		out++
	}
	h.keys, h.counts = h.keys[:out], h.counts[:out]
}

// fill sets the native fields of m: schema, zero bucket, spans and deltas,
// encoded as client_golang does (a gap of one or two empty buckets is
// written as empty buckets inside the span, a longer one starts a span).
func (h *nativeHist) fill(m *dto.Histogram) {
	schema := h.schema
	if h.keys == nil && h.zero == 0 {
		schema = nativeSchema
	}
	m.Schema = &schema
	m.ZeroThreshold = &nativeZeroThreshold
	m.ZeroCount = new(h.zero)
	var prevKey int32
	var prevCount int64
	for i, k := range h.keys {
		gap := k - prevKey - 1
		switch {
		case i == 0:
			m.PositiveSpan = append(m.PositiveSpan, &dto.BucketSpan{Offset: new(k), Length: new(uint32(0))})
		case gap > 2:
			m.PositiveSpan = append(m.PositiveSpan, &dto.BucketSpan{Offset: new(gap), Length: new(uint32(0))})
		default:
			for range gap { // empty buckets inside the span
				m.PositiveDelta = append(m.PositiveDelta, -prevCount)
				prevCount = 0
				*m.PositiveSpan[len(m.PositiveSpan)-1].Length++
			}
		}
		*m.PositiveSpan[len(m.PositiveSpan)-1].Length++
		m.PositiveDelta = append(m.PositiveDelta, int64(h.counts[i])-prevCount)
		prevKey, prevCount = k, int64(h.counts[i])
	}
}

// durationMetric is one series of vantage_probe_duration_seconds for the
// protobuf exposition: the classic buckets and the native histogram, from
// a copy of the series taken under the table's lock.
type durationMetric struct {
	desc   *prometheus.Desc
	labels []*dto.LabelPair
	hist   dto.Histogram
}

func (d *durationMetric) Desc() *prometheus.Desc { return d.desc }

func (d *durationMetric) Write(m *dto.Metric) error {
	m.Label = d.labels
	m.Histogram = &d.hist
	return nil
}

// durationMetricOf builds e's series of vantage_probe_duration_seconds.
func durationMetricOf(desc *prometheus.Desc, e *series, check, region string) prometheus.Metric {
	d := &durationMetric{desc: desc, labels: prometheus.MakeLabelPairs(desc, []string{check, region})}
	h := &d.hist
	total := e.ok + e.fail
	h.SampleCount, h.SampleSum = new(total), new(e.sum)
	h.CreatedTimestamp = timestamppb.New(e.created)
	var n uint64
	h.Bucket = make([]*dto.Bucket, len(durationBuckets))
	for i, c := range e.buckets {
		n += c
		h.Bucket[i] = &dto.Bucket{CumulativeCount: new(n), UpperBound: new(durationBuckets[i])}
	}
	e.native.fill(h)
	return d
}
