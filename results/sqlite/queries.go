package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/vantageprobe/vantage/results"
)

// Latest returns the newest record of every check × region, ordered by
// check and region: the rows the small latest table points at.
func (s *Store) Latest(ctx context.Context) ([]results.Record, error) {
	if s.closed() {
		return nil, fmt.Errorf("latest results: %w", ErrClosed)
	}
	recs, err := s.queryRecords(ctx, int(s.latestLen.Load()), `SELECT `+qualifiedColumnList("results")+
		` FROM latest JOIN results ON results.seq = latest.seq ORDER BY latest.check_name, latest.region`)
	if err != nil {
		return nil, fmt.Errorf("latest results: %w", err)
	}
	s.latestLen.Store(int64(len(recs)))
	return recs, nil
}

// Results returns the raw records matching q, newest first, at most
// q.Limit (0 or more than MaxResults: MaxResults). Without a region it
// reads each region's newest rows by index and merges them.
func (s *Store) Results(ctx context.Context, q results.Query) ([]results.Record, error) {
	if q.Check == "" {
		return nil, errors.New("query results: check is required")
	}
	if s.closed() {
		return nil, fmt.Errorf("query results: %w", ErrClosed)
	}
	limit := s.opts.MaxResults
	if q.Limit > 0 {
		limit = min(q.Limit, limit)
	}
	regions := []string{q.Region}
	if q.Region == "" {
		var err error
		if regions, err = s.regions(ctx, q.Check); err != nil {
			return nil, fmt.Errorf("query results: %w", err)
		}
	}
	var out []results.Record
	for _, region := range regions {
		recs, err := s.regionResults(ctx, q, region, limit)
		if err != nil {
			return nil, fmt.Errorf("query results: %w", err)
		}
		out = append(out, recs...)
	}
	slices.SortStableFunc(out, func(a, b results.Record) int {
		return cmp.Or(b.Started.Compare(a.Started), cmp.Compare(a.Region, b.Region))
	})
	return out[:min(len(out), limit)], nil
}

// regionResults returns the newest limit records of one check × region.
func (s *Store) regionResults(ctx context.Context, q results.Query, region string, limit int) ([]results.Record, error) {
	query, args := resultsQuery(q, region, limit)
	return s.queryRecords(ctx, 0, query, args...)
}

// resultsQuery selects the newest limit records of q.Check in region, a
// backward range scan of the (check_name, region, started) index.
func resultsQuery(q results.Query, region string, limit int) (string, []any) {
	query := `SELECT ` + recordColumnList() + ` FROM results WHERE check_name = ? AND region = ?`
	args := []any{q.Check, region}
	if !q.Since.IsZero() {
		query += ` AND started >= ?`
		args = append(args, q.Since.UnixNano())
	}
	if !q.Until.IsZero() {
		query += ` AND started < ?`
		args = append(args, q.Until.UnixNano())
	}
	return query + ` ORDER BY started DESC, seq DESC LIMIT ?`, append(args, limit)
}

// queryRecords runs a query selecting recordColumnList.
func (s *Store) queryRecords(ctx context.Context, capacity int, query string, args ...any) ([]results.Record, error) {
	rows, err := s.rdb.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]results.Record, 0, capacity)
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// regionsQuery lists the regions of a check, a primary-key prefix scan.
const regionsQuery = `SELECT DISTINCT region FROM rollup_day WHERE check_name = ? ORDER BY region`

// regions lists the regions that have results of check. Day rollups are
// kept longest and exist for every stored record (in the table or in the
// pending sums), so they are the index.
func (s *Store) regions(ctx context.Context, check string) ([]string, error) {
	s.pending.mu.RLock()
	defer s.pending.mu.RUnlock()
	return s.regionsLocked(ctx, check)
}

// regionsLocked is regions for a caller that holds pending.mu shared.
func (s *Store) regionsLocked(ctx context.Context, check string) ([]string, error) {
	rows, err := s.rdb.QueryContext(ctx, regionsQuery, check)
	if err != nil {
		return nil, fmt.Errorf("list regions: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, fmt.Errorf("list regions: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, r := range s.unmarked[check] {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return s.pending.regionsLocked(check, out), nil
}

// Rollups returns the buckets of q.Check at resolution q.Res with
// q.Since ≤ start < q.Until (zero times: unbounded), oldest first. With
// q.Region empty, every region's bucket is merged into one (Region "").
func (s *Store) Rollups(ctx context.Context, q results.RollupQuery) ([]results.Rollup, error) {
	table, err := rollupTable(q.Res)
	if err != nil {
		return nil, fmt.Errorf("query rollups: %w", err)
	}
	if q.Check == "" {
		return nil, errors.New("query rollups: check is required")
	}
	if s.closed() {
		return nil, fmt.Errorf("query rollups: %w", ErrClosed)
	}
	// Shared across the reads of the tables and of the pending sums: a
	// flush commits under the exclusive lock, so each record counts once.
	s.pending.mu.RLock()
	defer s.pending.mu.RUnlock()
	regions := []string{q.Region}
	if q.Region == "" {
		if regions, err = s.regionsLocked(ctx, q.Check); err != nil {
			return nil, fmt.Errorf("query rollups: %w", err)
		}
	}
	var out []results.Rollup
	if q.Res == results.Hour && !s.hoursSince.IsZero() && s.hoursSince.After(q.Since) {
		out, err = s.hoursFromMinutes(ctx, q, regions)
		if err != nil {
			return nil, fmt.Errorf("query rollups: %w", err)
		}
		if !q.Until.IsZero() && !q.Until.After(s.hoursSince) {
			return s.pending.mergeLocked(out, q), nil
		}
		tq := q
		tq.Since = s.hoursSince
		rest, err := s.queryRollups(ctx, table, tq, regions)
		if err != nil {
			return nil, fmt.Errorf("query rollups: %w", err)
		}
		return s.pending.mergeLocked(append(out, rest...), q), nil
	}
	out, err = s.queryRollups(ctx, table, q, regions)
	if err != nil {
		return nil, fmt.Errorf("query rollups: %w", err)
	}
	return s.pending.mergeLocked(out, q), nil
}

// hoursFromMinutes sums the hour buckets of q before hoursSince from the
// minute rollups: the hours of a database upgraded to hour rollups, until
// they are older than any reader asks for.
func (s *Store) hoursFromMinutes(ctx context.Context, q results.RollupQuery, regions []string) ([]results.Rollup, error) {
	mq := q
	mq.Res = results.Minute
	if !q.Since.IsZero() {
		mq.Since = results.Hour.BucketStart(q.Since)
		if mq.Since.Before(q.Since) {
			mq.Since = mq.Since.Add(time.Hour)
		}
	}
	mq.Until = s.hoursSince
	if !q.Until.IsZero() {
		if u := results.Hour.BucketStart(q.Until.Add(time.Hour - time.Nanosecond)); u.Before(mq.Until) {
			mq.Until = u
		}
	}
	if !mq.Since.IsZero() && !mq.Since.Before(mq.Until) {
		return nil, nil
	}
	mins, err := s.queryRollups(ctx, "rollup_minute", mq, regions)
	if err != nil {
		return nil, err
	}
	var out []results.Rollup
	for _, m := range mins {
		h := results.Hour.BucketStart(m.Start)
		if n := len(out); n > 0 && out[n-1].Start.Equal(h) && out[n-1].Region == m.Region {
			out[n-1].Merge(m)
			continue
		}
		m.Start, m.Res = h, results.Hour
		out = append(out, m)
	}
	return out, nil
}

// queryRollups reads the buckets of q.Check in regions, merging buckets
// with the same start when q.Region is empty.
func (s *Store) queryRollups(ctx context.Context, table string, q results.RollupQuery, regions []string) ([]results.Rollup, error) {
	if len(regions) == 0 {
		return nil, nil
	}
	query, args := rollupsQuery(table, q, regions)
	rows, err := s.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []results.Rollup
	for rows.Next() {
		ru := results.Rollup{Check: q.Check, Res: q.Res}
		var start int64
		if err := scanRollup(prefixScanner{rows, []any{&ru.Region, &start}}, &ru); err != nil {
			return nil, fmt.Errorf("scan %s: %w", table, err)
		}
		ru.Start = time.Unix(start, 0).UTC()
		if q.Region == "" {
			ru.Region = ""
			if n := len(out); n > 0 && out[n-1].Start.Equal(ru.Start) {
				out[n-1].Merge(ru)
				continue
			}
		}
		out = append(out, ru)
	}
	return out, rows.Err()
}

// rollupsQuery selects the buckets of q.Check in regions from table,
// primary-key range scans, oldest first.
func rollupsQuery(table string, q results.RollupQuery, regions []string) (string, []any) {
	query := `SELECT region, bucket_start, ` + rollupValues + ` FROM ` + table +
		` WHERE check_name = ? AND region IN (` + placeholders(len(regions)) + `)`
	args := []any{q.Check}
	for _, r := range regions {
		args = append(args, r)
	}
	if !q.Since.IsZero() {
		query += ` AND bucket_start >= ?`
		args = append(args, ceilUnix(q.Since))
	}
	if !q.Until.IsZero() {
		query += ` AND bucket_start < ?`
		args = append(args, ceilUnix(q.Until))
	}
	return query + ` ORDER BY bucket_start, region`, args
}

// prefixScanner scans leading columns into prefix, then the rest into the
// destinations Scan is given.
type prefixScanner struct {
	row    interface{ Scan(dest ...any) error }
	prefix []any
}

func (p prefixScanner) Scan(dest ...any) error {
	return p.row.Scan(append(p.prefix, dest...)...)
}

// ceilUnix is t in unix seconds rounded up: for whole-second bucket starts
// b, b ≥ t ⇔ b ≥ ceilUnix(t) and b < t ⇔ b < ceilUnix(t).
func ceilUnix(t time.Time) int64 {
	if t.Nanosecond() > 0 {
		return t.Unix() + 1
	}
	return t.Unix()
}

// Screenshot returns the PNG stored with the result id, or an error
// wrapping results.ErrNotFound.
func (s *Store) Screenshot(ctx context.Context, id string) ([]byte, error) {
	if s.closed() {
		return nil, fmt.Errorf("read screenshot: %w", ErrClosed)
	}
	var png []byte
	err := s.rdb.QueryRowContext(ctx, `SELECT png FROM screenshots WHERE id = ?`, id).Scan(&png)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("screenshot of result %q: %w", id, results.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read screenshot: %w", err)
	}
	return png, nil
}
