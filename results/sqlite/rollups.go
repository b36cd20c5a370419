package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"slices"
	"time"

	"modernc.org/sqlite"

	"github.com/vantageprobe/vantage/results"
)

// rollupTable returns the table holding rollups of resolution res.
func rollupTable(res results.Resolution) (string, error) {
	switch res {
	case results.Minute:
		return "rollup_minute", nil
	case results.Hour:
		return "rollup_hour", nil
	case results.Day:
		return "rollup_day", nil
	}
	return "", fmt.Errorf("unsupported rollup resolution %s", time.Duration(res))
}

// rollupValues are the aggregate columns, in scanRollup order.
const rollupValues = "total, failed, degraded, dur_sum, dur_min, dur_max, hist"

// bucketKey identifies one rollup row.
type bucketKey struct {
	check, region string
	start         int64 // unix seconds
}

// upsertRollups merges agg into the stored rollups of resolution res: one
// upsert per touched bucket, whose conflict clause adds the counts and
// the histograms (histAddFunc) in SQLite, so no bucket is read back.
func upsertRollups(ctx context.Context, tx *sql.Tx, res results.Resolution, agg map[bucketKey]*results.Rollup) error {
	if len(agg) == 0 {
		return nil
	}
	table, err := rollupTable(res)
	if err != nil {
		return err
	}
	put, err := tx.PrepareContext(ctx, `INSERT INTO `+table+` (check_name, region, bucket_start, `+rollupValues+
		`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (check_name, region, bucket_start) DO UPDATE SET
		total = total + excluded.total, failed = failed + excluded.failed, degraded = degraded + excluded.degraded,
		dur_sum = dur_sum + excluded.dur_sum, dur_min = min(dur_min, excluded.dur_min), dur_max = max(dur_max, excluded.dur_max),
		hist = `+histAddFunc+`(hist, excluded.hist)`)
	if err != nil {
		return fmt.Errorf("prepare %s upsert: %w", table, err)
	}
	defer put.Close()
	for _, k := range sortedKeys(agg) {
		ru := agg[k]
		if _, err := put.ExecContext(ctx, k.check, k.region, k.start, ru.Total, ru.Failed, ru.Degraded,
			int64(ru.DurationSum), int64(ru.DurationMin), int64(ru.DurationMax), encodeHist(&ru.Hist)); err != nil {
			return fmt.Errorf("write %s %s/%s@%d: %w", table, k.check, k.region, k.start, err)
		}
	}
	return nil
}

// histAddFunc is the SQL function the writer's connection has for
// adding two encoded histograms (histAdd).
const histAddFunc = "vantage_hist_add"

// histAdd adds two encoded histograms (either form) bucket by bucket.
func histAdd(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	a, okA := args[0].([]byte)
	b, okB := args[1].([]byte)
	if !okA || !okB {
		return nil, fmt.Errorf("%s: want two histograms", histAddFunc)
	}
	var ha, hb results.Histogram
	if err := decodeHist(a, &ha); err != nil {
		return nil, fmt.Errorf("%s: %w", histAddFunc, err)
	}
	if err := decodeHist(b, &hb); err != nil {
		return nil, fmt.Errorf("%s: %w", histAddFunc, err)
	}
	ha.Merge(hb)
	return encodeHist(&ha), nil
}

// sortedKeys returns the keys of agg in primary-key order, for locality.
func sortedKeys(agg map[bucketKey]*results.Rollup) []bucketKey {
	keys := make([]bucketKey, 0, len(agg))
	for k := range agg {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b bucketKey) int {
		return cmp.Or(cmp.Compare(a.check, b.check), cmp.Compare(a.region, b.region), cmp.Compare(a.start, b.start))
	})
	return keys
}

// scanRollup reads the rollupValues columns into ru.
func scanRollup(row interface{ Scan(dest ...any) error }, ru *results.Rollup) error {
	var sum, lo, hi int64
	var hist []byte
	if err := row.Scan(&ru.Total, &ru.Failed, &ru.Degraded, &sum, &lo, &hi, &hist); err != nil {
		return err
	}
	ru.DurationSum, ru.DurationMin, ru.DurationMax = time.Duration(sum), time.Duration(lo), time.Duration(hi)
	return decodeHist(hist, &ru.Hist)
}
