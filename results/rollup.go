package results

import (
	"math"
	"time"
)

// Rollup aggregates the records of one check × region over one bucket
// (a minute or a day). Region is "" when regions are merged.
type Rollup struct {
	Check       string
	Region      string
	Start       time.Time // bucket start, UTC, aligned to Res
	Res         Resolution
	Total       int64
	Failed      int64
	Degraded    int64
	DurationSum time.Duration
	DurationMin time.Duration
	DurationMax time.Duration
	Hist        Histogram // latency of every record, passed or failed
}

// BucketStart aligns t (UTC) down to the resolution.
func (r Resolution) BucketStart(t time.Time) time.Time {
	return t.UTC().Truncate(time.Duration(r))
}

// Add counts one record in the bucket.
func (r *Rollup) Add(rec Record) {
	if r.Total == 0 || rec.Duration < r.DurationMin {
		r.DurationMin = rec.Duration
	}
	r.DurationMax = max(r.DurationMax, rec.Duration)
	r.Total++
	if !rec.OK {
		r.Failed++
	} else if rec.Degraded {
		r.Degraded++
	}
	r.DurationSum += rec.Duration
	r.Hist.Observe(rec.Duration)
}

// Merge adds the counts of o (same bucket, another region or batch).
func (r *Rollup) Merge(o Rollup) {
	if o.Total == 0 {
		return
	}
	if r.Total == 0 || o.DurationMin < r.DurationMin {
		r.DurationMin = o.DurationMin
	}
	r.DurationMax = max(r.DurationMax, o.DurationMax)
	r.Total += o.Total
	r.Failed += o.Failed
	r.Degraded += o.Degraded
	r.DurationSum += o.DurationSum
	r.Hist.Merge(o.Hist)
}

// Uptime returns the share of passed probes over rs, and false when rs
// hold no probe at all (unknown, not 100 %).
func Uptime(rs []Rollup) (float64, bool) {
	var total, failed int64
	for _, r := range rs {
		total += r.Total
		failed += r.Failed
	}
	if total == 0 {
		return 0, false
	}
	return float64(total-failed) / float64(total), true
}

// Sum merges every rollup of rs into one.
func Sum(rs []Rollup) Rollup {
	var out Rollup
	for _, r := range rs {
		out.Merge(r)
	}
	return out
}

// HistBuckets is the number of latency histogram buckets.
const HistBuckets = 48

// histBase and histGrowth define the bucket bounds: bucket i holds
// durations up to histBase·histGrowth^i; the last bucket is unbounded.
// 0.5 ms × 1.3^46 ≈ 87 s. A quantile is off by at most one bucket width
// (30 %) and, for latencies spread over several buckets, typically < 5 %.
const (
	histBase   = 500 * time.Microsecond
	histGrowth = 1.3
)

// Histogram counts latencies in log-spaced buckets.
type Histogram [HistBuckets]uint32

// BucketBound returns the upper bound of bucket i (+Inf for the last).
func BucketBound(i int) time.Duration {
	if i >= HistBuckets-1 {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(float64(histBase) * math.Pow(histGrowth, float64(i)))
}

func bucketOf(d time.Duration) int {
	if d <= histBase {
		return 0
	}
	i := int(math.Ceil(math.Log(float64(d)/float64(histBase)) / math.Log(histGrowth)))
	return min(i, HistBuckets-1)
}

// Observe counts d.
func (h *Histogram) Observe(d time.Duration) { h[bucketOf(d)]++ }

// Merge adds o's counts.
func (h *Histogram) Merge(o Histogram) {
	for i, c := range o {
		h[i] += c
	}
}

// Count is the number of observations.
func (h *Histogram) Count() uint64 {
	var n uint64
	for _, c := range h {
		n += uint64(c)
	}
	return n
}

// Quantile estimates the q-quantile (0 < q ≤ 1), interpolating
// geometrically inside the bucket; 0 when the histogram is empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	n := h.Count()
	if n == 0 {
		return 0
	}
	rank := q * float64(n)
	var seen float64
	for i, c := range h {
		if c == 0 {
			continue
		}
		if seen+float64(c) >= rank {
			lo := float64(histBase) / histGrowth
			if i > 0 {
				lo = float64(BucketBound(i - 1))
			}
			if i == HistBuckets-1 {
				return time.Duration(lo)
			}
			frac := (rank - seen) / float64(c)
			return time.Duration(lo * math.Pow(histGrowth, frac))
		}
		seen += float64(c)
	}
	return BucketBound(HistBuckets - 2)
}
