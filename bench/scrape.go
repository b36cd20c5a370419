package bench

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// sample is the server's own series from one /metrics scrape: the
// series' text (name and labels) to its value. Only the series named
// with one of scrapedPrefixes are kept.
type sample map[string]float64

var scrapedPrefixes = []string{"vantage_results_", "vantage_scheduler_", "vantage_probes_total", "go_goroutines "}

// scrape reads base+"/metrics" in the text format.
func scrape(ctx context.Context, c *http.Client, base string) (sample, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return nil, fmt.Errorf("scrape: %w", err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape: %s", resp.Status)
	}
	s := sample{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !hasAnyPrefix(line, scrapedPrefixes) {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		s[line[:i]] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("scrape: %w", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return s, nil
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// sum adds every series of the metric name (whatever its labels).
func (s sample) sum(name string) float64 {
	t := 0.0
	for k, v := range s {
		if k == name || strings.HasPrefix(k, name+"{") {
			t += v
		}
	}
	return t
}

// bucket is one cumulative histogram bucket.
type bucket struct{ le, count float64 }

// buckets returns the histogram name's cumulative buckets, by bound.
func (s sample) buckets(name string) []bucket {
	var bs []bucket
	prefix := name + `_bucket{le="`
	for k, v := range s {
		le, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		le = strings.TrimSuffix(le, `"}`)
		bound := math.Inf(1)
		if le != "+Inf" {
			var err error
			if bound, err = strconv.ParseFloat(le, 64); err != nil {
				continue
			}
		}
		bs = append(bs, bucket{bound, v})
	}
	slices.SortFunc(bs, func(a, b bucket) int { return cmp.Compare(a.le, b.le) })
	return bs
}

// histDelta is a histogram's observations between two scrapes.
type histDelta struct {
	count, sum float64
	buckets    []bucket // cumulative counts in the interval
}

func deltaHist(a, b sample, name string) histDelta {
	d := histDelta{count: b[name+"_count"] - a[name+"_count"], sum: b[name+"_sum"] - a[name+"_sum"]}
	before := map[float64]float64{}
	for _, x := range a.buckets(name) {
		before[x.le] = x.count
	}
	for _, x := range b.buckets(name) {
		d.buckets = append(d.buckets, bucket{x.le, x.count - before[x.le]})
	}
	return d
}

// quantile estimates the q-quantile of the observations as Prometheus'
// histogram_quantile does: linear within the bucket it falls in. A
// quantile in the +Inf bucket is the largest finite bound.
func (d histDelta) quantile(q float64) float64 {
	if d.count <= 0 || len(d.buckets) == 0 {
		return 0
	}
	rank := q * d.count
	lower, prev := 0.0, 0.0
	for _, b := range d.buckets {
		if b.count >= rank {
			if math.IsInf(b.le, 1) {
				return lower
			}
			if b.count == prev {
				return b.le
			}
			return lower + (b.le-lower)*(rank-prev)/(b.count-prev)
		}
		lower, prev = b.le, b.count
	}
	return lower
}

// timedGET fetches url n times, one after the other, and returns each
// answer's time to the last byte and the size of the last answer.
func timedGET(ctx context.Context, c *http.Client, url string, n int) ([]time.Duration, int64, error) {
	var ds []time.Duration
	var size int64
	for range n {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, 0, fmt.Errorf("get %s: %w", url, err)
		}
		t0 := time.Now()
		resp, err := c.Do(req)
		if err != nil {
			return nil, 0, fmt.Errorf("get %s: %w", url, err)
		}
		size, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, 0, fmt.Errorf("get %s: %w", url, err)
		}
		if resp.StatusCode != http.StatusOK {
			return nil, 0, fmt.Errorf("get %s: %s", url, resp.Status)
		}
		ds = append(ds, time.Since(t0))
	}
	return ds, size, nil
}
