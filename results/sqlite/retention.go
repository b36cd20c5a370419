package sqlite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vantageprobe/vantage/results"
)

// pruneBatch is the most rows one retention transaction deletes, so that
// the writer, which shares the single write connection, never waits long.
const pruneBatch = 5000

// Per-pair delete statements: ?1 check, ?2 region, ?3 cutoff, ?4 row budget.
const (
	pruneResultsSQL = `DELETE FROM results WHERE seq IN (SELECT seq FROM results
		WHERE check_name = ?1 AND region = ?2 AND started < ?3 LIMIT ?4)`
	pruneRollupSQL = `DELETE FROM %[1]s WHERE check_name = ?1 AND region = ?2 AND bucket_start IN (
		SELECT bucket_start FROM %[1]s WHERE check_name = ?1 AND region = ?2 AND bucket_start < ?3 LIMIT ?4)`
	pruneLatestSQL      = `DELETE FROM latest WHERE started < ?`
	pruneScreenshotsSQL = `DELETE FROM screenshots WHERE id IN (SELECT id FROM screenshots
		WHERE check_name = ?1 AND region = ?2 AND started < ?3 LIMIT ?4)`
)

// pair is one check × region.
type pair struct{ check, region string }

// Prune runs one retention pass: raw records, latest rows and minute
// rollups older than RawRetention, hour rollups older than HourRetention
// and day rollups older than RollupRetention (whole buckets only). It deletes in transactions of at
// most 5000 rows on the write connection, so batches of new records
// interleave with it. It writes the pending rollup sums first. It returns
// the number of rows deleted.
func (s *Store) Prune(ctx context.Context) (deleted int64, err error) {
	if s.closed() {
		return 0, fmt.Errorf("prune results: %w", ErrClosed)
	}
	if s.opts.ReadOnly {
		return 0, fmt.Errorf("prune results: %w", errReadOnly)
	}
	s.pruneMu.Lock()
	defer s.pruneMu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.life, cancel) // Close ends a pass early
	defer stop()

	// The pending rollup sums go to the tables first, so that a bucket
	// past its retention is deleted now, not written back after. If they
	// cannot be written (a full disk), pruning goes on: it frees room.
	if err := s.flushPending(ctx); err != nil {
		s.log.Warn("pending rollups not written before pruning", "err", err)
	}
	now := s.opts.Now()
	rawCut := now.Add(-s.opts.RawRetention)
	dayCut := results.Day.BucketStart(now.Add(-s.opts.RollupRetention))
	hourCut := results.Hour.BucketStart(now.Add(-s.opts.HourRetention))
	pairs, err := s.pairs(ctx)
	if err != nil {
		return 0, fmt.Errorf("prune results: %w", err)
	}
	steps := []struct {
		stmt   string
		cutoff int64
	}{
		{pruneResultsSQL, rawCut.UnixNano()},
		{pruneScreenshotsSQL, rawCut.UnixNano()},
		{fmt.Sprintf(pruneRollupSQL, "rollup_minute"), results.Minute.BucketStart(rawCut).Unix()},
		{fmt.Sprintf(pruneRollupSQL, "rollup_hour"), hourCut.Unix()},
		{fmt.Sprintf(pruneRollupSQL, "rollup_day"), dayCut.Unix()},
	}
	for _, st := range steps {
		n, err := s.pruneTable(ctx, st.stmt, pairs, st.cutoff)
		deleted += n
		if err != nil {
			s.stats.pruned.Add(deleted)
			return deleted, fmt.Errorf("prune results: %w", err)
		}
	}
	res, err := s.wdb.ExecContext(ctx, pruneLatestSQL, rawCut.UnixNano())
	if err == nil {
		n, _ := res.RowsAffected() // the driver always knows
		deleted += n
	}
	s.stats.pruned.Add(deleted)
	if err != nil {
		return deleted, fmt.Errorf("prune results: latest: %w", err)
	}
	return deleted, nil
}

// pairs lists every check × region with stored rollups (a superset of
// those with raw rows: day rollups are kept at least as long).
func (s *Store) pairs(ctx context.Context) ([]pair, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT DISTINCT check_name, region FROM rollup_day`)
	if err != nil {
		return nil, fmt.Errorf("list series: %w", err)
	}
	defer rows.Close()
	var out []pair
	for rows.Next() {
		var p pair
		if err := rows.Scan(&p.check, &p.region); err != nil {
			return nil, fmt.Errorf("list series: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// pruneTable runs stmt for every pair until it deletes no more rows, in
// transactions of at most pruneBatch rows each.
func (s *Store) pruneTable(ctx context.Context, stmt string, pairs []pair, cutoff int64) (int64, error) {
	var total int64
	for i := 0; i < len(pairs); {
		n, next, err := s.pruneStep(ctx, stmt, pairs, i, cutoff)
		total += n
		if err != nil {
			return total, err
		}
		i = next
	}
	return total, nil
}

// pruneStep is one transaction of pruneTable, starting at pairs[i]; it
// returns the index of the first pair not finished.
func (s *Store) pruneStep(ctx context.Context, stmt string, pairs []pair, i int, cutoff int64) (deleted int64, next int, err error) {
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return 0, i, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() // a no-op after Commit
	budget := int64(pruneBatch)
	for ; i < len(pairs) && budget > 0; i++ {
		res, err := tx.ExecContext(ctx, stmt, pairs[i].check, pairs[i].region, cutoff, budget)
		if err != nil {
			return 0, i, fmt.Errorf("delete %s/%s: %w", pairs[i].check, pairs[i].region, err)
		}
		n, _ := res.RowsAffected() // the driver always knows
		deleted += n
		budget -= n
		if budget == 0 {
			break // this pair may have more: start the next transaction with it
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, i, fmt.Errorf("commit: %w", err)
	}
	return deleted, i, nil
}

// runPruner runs a retention pass every PruneInterval until Close.
func (s *Store) runPruner() {
	defer close(s.prunerDone)
	if s.opts.PruneInterval < 0 {
		return
	}
	tick := time.NewTicker(s.opts.PruneInterval)
	defer tick.Stop()
	for {
		select {
		case <-s.life.Done():
			return
		case <-tick.C:
		}
		start := time.Now()
		n, err := s.Prune(s.life)
		switch {
		case err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, ErrClosed):
			s.log.Error("prune results", "err", err)
		case n > 0:
			s.log.Info("pruned results", "rows", n, "duration", time.Since(start))
		}
	}
}
