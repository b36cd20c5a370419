package results

import (
	"context"
	"fmt"
	"time"
)

// RollupReader reads rollups; every Store is one.
type RollupReader interface {
	Rollups(ctx context.Context, q RollupQuery) ([]Rollup, error)
}

// Window aggregates check (one region, or all when region is "") over
// [since, until): whole UTC days come from day rollups, whole hours at
// either edge from hour rollups and the partial hours from minute
// rollups, so any window reads at most 2×(23 + 59) rows besides its days,
// and never a raw record.
func Window(ctx context.Context, r RollupReader, check, region string, since, until time.Time) (Rollup, error) {
	since, until = Minute.BucketStart(since), Minute.BucketStart(until)
	var parts []RollupQuery
	add := func(res Resolution, a, b time.Time) {
		if a.Before(b) {
			parts = append(parts, RollupQuery{Check: check, Region: region, Res: res, Since: a, Until: b})
		}
	}
	hours := func(a, b time.Time) {
		first, last := ceilTo(Hour, a), Hour.BucketStart(b)
		if !first.Before(last) {
			add(Minute, a, b)
			return
		}
		add(Minute, a, first)
		add(Hour, first, last)
		add(Minute, last, b)
	}
	if first, last := ceilTo(Day, since), Day.BucketStart(until); first.Before(last) {
		hours(since, first)
		add(Day, first, last)
		hours(last, until)
	} else {
		hours(since, until)
	}
	var out Rollup
	for _, q := range parts {
		rs, err := r.Rollups(ctx, q)
		if err != nil {
			return Rollup{}, fmt.Errorf("read rollups of %s: %w", check, err)
		}
		for _, x := range rs {
			out.Merge(x)
		}
	}
	out.Check, out.Region, out.Start = check, region, since
	return out, nil
}

// ceilTo aligns t (UTC) up to the resolution.
func ceilTo(res Resolution, t time.Time) time.Time {
	if s := res.BucketStart(t); s.Before(t) {
		return s.Add(time.Duration(res))
	}
	return t.UTC()
}
