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
// [since, until): whole UTC days come from day rollups and the partial days
// at either edge from minute rollups, so a 30-day window reads about 30 +
// 2×1440 rows at most and never a raw record.
func Window(ctx context.Context, r RollupReader, check, region string, since, until time.Time) (Rollup, error) {
	since, until = Minute.BucketStart(since), Minute.BucketStart(until)
	firstDay := Day.BucketStart(since)
	if firstDay.Before(since) {
		firstDay = firstDay.Add(24 * time.Hour)
	}
	lastDay := Day.BucketStart(until)
	var parts []RollupQuery
	if !firstDay.Before(lastDay) { // no whole day inside: minutes only
		parts = append(parts, RollupQuery{Check: check, Region: region, Res: Minute, Since: since, Until: until})
	} else {
		parts = append(parts,
			RollupQuery{Check: check, Region: region, Res: Minute, Since: since, Until: firstDay},
			RollupQuery{Check: check, Region: region, Res: Day, Since: firstDay, Until: lastDay},
			RollupQuery{Check: check, Region: region, Res: Minute, Since: lastDay, Until: until})
	}
	var out Rollup
	for _, q := range parts {
		if !q.Since.Before(q.Until) {
			continue
		}
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
