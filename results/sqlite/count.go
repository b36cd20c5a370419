package sqlite

import (
	"context"
	"errors"
	"fmt"

	"github.com/vantageprobe/vantage/results"
)

// Count counts the raw records of q.Check (q.Region, or every region) with
// q.Since ≤ started < q.Until, and the good ones among them: passed, and
// no slower than q.MaxDuration when it is set. It is one aggregate over
// range scans of the (check_name, region, started) index, one range per
// region.
func (s *Store) Count(ctx context.Context, q results.CountQuery) (good, total int64, err error) {
	if q.Check == "" {
		return 0, 0, errors.New("count results: check is required")
	}
	if q.MaxDuration < 0 {
		return 0, 0, fmt.Errorf("count results: negative max duration %s", q.MaxDuration)
	}
	if s.closed() {
		return 0, 0, fmt.Errorf("count results: %w", ErrClosed)
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
		return 0, 0, nil
	}
	regions := []string{q.Region}
	if q.Region == "" {
		if regions, err = s.regions(ctx, q.Check); err != nil {
			return 0, 0, fmt.Errorf("count results: %w", err)
		}
		if len(regions) == 0 {
			return 0, 0, nil
		}
	}
	query, args := countQuery(q, regions)
	if err := s.rdb.QueryRowContext(ctx, query, args...).Scan(&total, &good); err != nil {
		return 0, 0, fmt.Errorf("count results of %s: %w", q.Check, err)
	}
	return good, total, nil
}

// countQuery counts the rows of q.Check in regions within q's bounds, and
// the good ones, in portable SQL.
func countQuery(q results.CountQuery, regions []string) (string, []any) {
	goodExpr := `ok = 1`
	var args []any
	if q.MaxDuration > 0 {
		goodExpr += ` AND duration_ns <= ?`
		args = append(args, int64(q.MaxDuration))
	}
	query := `SELECT COUNT(*), COALESCE(SUM(CASE WHEN ` + goodExpr + ` THEN 1 ELSE 0 END), 0) FROM results` +
		` WHERE check_name = ? AND region IN (` + placeholders(len(regions)) + `)`
	args = append(args, q.Check)
	for _, r := range regions {
		args = append(args, r)
	}
	if !q.Since.IsZero() {
		query += ` AND started >= ?`
		args = append(args, q.Since.UnixNano())
	}
	if !q.Until.IsZero() {
		query += ` AND started < ?`
		args = append(args, q.Until.UnixNano())
	}
	return query, args
}
