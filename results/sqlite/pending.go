package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/vantageprobe/vantage/results"
)

// Rollups trail the raw records. The writer sums the records it commits
// in memory and writes the sums to the rollup tables every
// Options.RollupInterval (10 s; sooner once rollupFlushKeys buckets are
// pending, and at Close and Prune), in the transaction of a batch: a check
// probed every second then costs one upsert per bucket every 10 s instead
// of one per record, which was half of the writer's work.
//
// Nothing is lost or stale for it:
//   - Rollups adds the pending sums to what it reads, under a lock the
//     writer takes to commit a flush, so a query sees each record once;
//   - rollup_seq holds the highest results.seq counted in the tables,
//     written with every flush; at Open the records after it (whose sums a
//     crash lost) are summed again from the results table into the
//     pending sums, written with the next flush.
const rollupFlushKeys = 30000

// resolutions are the rollup tables' resolutions, in pending's order.
var resolutions = [...]results.Resolution{results.Minute, results.Hour, results.Day}

// pendingKey is one pending minute of a check.
type pendingKey struct {
	region string
	start  int64 // unix seconds
}

// pendingRollups holds the minute sums of committed records not yet in
// the rollup tables; the hour and day sums are added up from them (the
// sums are exact, so this is the same as summing the records), which
// keeps one bucket per check × region × minute in memory.
type pendingRollups struct {
	// flushMu is held by whoever changes the tables or the sums: the
	// writer's batches and flushes (writer and pruner share one
	// connection; this keeps a flush from reading sums a batch is adding).
	flushMu sync.Mutex
	// mu guards the sums; a reader holds it (shared) across its read of
	// the tables and of the sums, and a flush holds it across its commit.
	mu    sync.RWMutex
	sums  map[string]map[pendingKey]*results.Rollup // minute sums by check
	keys  int                                       // minutes in sums
	since time.Time                                 // when the sums were last empty; zero: empty
	every time.Duration                             // Options.RollupInterval
}

// due reports whether the sums should be written with the next commit.
func (p *pendingRollups) due(now time.Time, adding int) bool {
	return p.keys+adding >= rollupFlushKeys || (!p.since.IsZero() && now.Sub(p.since) >= p.every)
}

// dueIn returns how long until the sums are due; false when empty.
func (p *pendingRollups) dueIn(now time.Time) (time.Duration, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.since.IsZero() {
		return 0, false
	}
	return p.since.Add(p.every).Sub(now), true
}

// addLocked adds recs to the sums; the caller holds mu.
func (p *pendingRollups) addLocked(recs []*results.Record, now time.Time) {
	if len(recs) > 0 && p.since.IsZero() {
		p.since = now
	}
	if p.sums == nil {
		p.sums = make(map[string]map[pendingKey]*results.Rollup)
	}
	for _, r := range recs {
		byKey := p.sums[r.Check]
		if byKey == nil {
			byKey = make(map[pendingKey]*results.Rollup)
			p.sums[r.Check] = byKey
		}
		k := pendingKey{r.Region, results.Minute.BucketStart(r.Started).Unix()}
		ru := byKey[k]
		if ru == nil {
			ru = &results.Rollup{}
			byKey[k] = ru
			p.keys++
		}
		ru.Add(*r)
	}
}

// clearLocked empties the sums after a flush; the caller holds mu.
func (p *pendingRollups) clearLocked() {
	p.sums, p.keys, p.since = nil, 0, time.Time{}
}

// bucketOf returns the start of the bucket of res holding the minute
// starting at minute (unix seconds).
func bucketOf(res results.Resolution, minute int64) int64 {
	return res.BucketStart(time.Unix(minute, 0)).Unix()
}

// write upserts the sums into the rollup tables at every resolution and
// moves rollup_seq to upTo, in tx; the sums are left as they are (the
// commit may fail). The caller holds flushMu.
func (p *pendingRollups) write(ctx context.Context, tx *sql.Tx, upTo int64) error {
	minutes := make(map[bucketKey]*results.Rollup, p.keys)
	for check, byKey := range p.sums {
		for k, ru := range byKey {
			minutes[bucketKey{check, k.region, k.start}] = ru
		}
	}
	for _, res := range resolutions {
		agg := minutes
		if res != results.Minute {
			agg = make(map[bucketKey]*results.Rollup)
			for k, ru := range minutes {
				k.start = bucketOf(res, k.start)
				if cur, ok := agg[k]; ok {
					cur.Merge(*ru)
				} else {
					cp := *ru
					agg[k] = &cp
				}
			}
		}
		if err := upsertRollups(ctx, tx, res, agg); err != nil {
			return err
		}
	}
	// Never backwards: a second store on the file (which Vantage does not
	// run, but an overlapping restart might) must not unmark the first's.
	if _, err := tx.ExecContext(ctx, `UPDATE rollup_seq SET seq = max(seq, ?)`, upTo); err != nil {
		return fmt.Errorf("mark rollups: %w", err)
	}
	return nil
}

// flushPending writes the pending sums in a transaction of their own: when
// they are due and no batch comes, and before Prune and at Close. A failure
// leaves them pending (tried again RollupInterval later); their records
// are in the results table either way.
func (s *Store) flushPending(ctx context.Context) error {
	p := &s.pending
	p.flushMu.Lock()
	defer p.flushMu.Unlock()
	if p.keys == 0 {
		return nil
	}
	err := func() error {
		tx, err := s.wdb.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		defer tx.Rollback() // a no-op after Commit
		floor, err := seqFloor(ctx, tx)
		if err != nil {
			return err
		}
		if err := p.write(ctx, tx, floor-1); err != nil {
			return err
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		p.clearLocked()
		return nil
	}()
	if err != nil {
		p.mu.Lock()
		p.since = time.Now() // due again RollupInterval from now
		p.mu.Unlock()
		return fmt.Errorf("write pending rollups: %w", err)
	}
	return nil
}

// mergeLocked adds the pending sums q asks for to out (buckets of q,
// oldest first, regions merged when q.Region is empty), keeping that
// order. The caller holds mu shared since before it read out.
func (p *pendingRollups) mergeLocked(out []results.Rollup, q results.RollupQuery) []results.Rollup {
	byKey := p.sums[q.Check]
	if len(byKey) == 0 || !slices.Contains(resolutions[:], q.Res) {
		return out
	}
	since, until := int64(0), int64(0)
	if !q.Since.IsZero() {
		since = ceilUnix(q.Since)
	}
	if !q.Until.IsZero() {
		until = ceilUnix(q.Until)
	}
	type slot struct {
		region string
		start  int64
	}
	at := make(map[slot]int, len(out))
	for j, ru := range out {
		at[slot{ru.Region, ru.Start.Unix()}] = j
	}
	added := false
	for k, ru := range byKey {
		start := bucketOf(q.Res, k.start)
		if (q.Region != "" && k.region != q.Region) || (!q.Since.IsZero() && start < since) || (!q.Until.IsZero() && start >= until) {
			continue
		}
		sl := slot{q.Region, start}
		if j, ok := at[sl]; ok {
			out[j].Merge(*ru)
			continue
		}
		nr := *ru
		nr.Check, nr.Region, nr.Res, nr.Start = q.Check, q.Region, q.Res, time.Unix(start, 0).UTC()
		at[sl] = len(out)
		out = append(out, nr)
		added = true
	}
	if added {
		slices.SortStableFunc(out, func(a, b results.Rollup) int {
			return cmp.Or(a.Start.Compare(b.Start), cmp.Compare(a.Region, b.Region))
		})
	}
	return out
}

// regionsLocked adds the regions with pending sums of check to regions
// (sorted, distinct). The caller holds mu shared.
func (p *pendingRollups) regionsLocked(check string, regions []string) []string {
	for k := range p.sums[check] {
		if !slices.Contains(regions, k.region) {
			regions = append(regions, k.region)
		}
	}
	slices.Sort(regions)
	return regions
}

// adoptUnwritten sums the records after rollup_seq, whose sums a crash
// lost, into p (they are written with the next flush like any others).
// Only the store that writes the database does this: a ReadOnly one would
// take the sums of a server still running.
func (p *pendingRollups) adoptUnwritten(ctx context.Context, db *sql.DB) (adopted int, err error) {
	rows, err := db.QueryContext(ctx, `SELECT `+recordColumnList()+` FROM results WHERE seq > (SELECT seq FROM rollup_seq) ORDER BY seq`)
	if err != nil {
		return 0, fmt.Errorf("read results after rollup_seq: %w", err)
	}
	defer rows.Close()
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return 0, fmt.Errorf("read results after rollup_seq: %w", err)
		}
		p.addLocked([]*results.Record{&r}, now)
		adopted++
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("read results after rollup_seq: %w", err)
	}
	return adopted, nil
}

// unmarkedRegions lists, per check, the regions of the records after
// rollup_seq: a ReadOnly store cannot see a writer's pending sums, and a
// check × region whose every record is still after the mark (a new check,
// or a server that crashed and has not started again) has no day rollup
// to be listed by yet.
func unmarkedRegions(ctx context.Context, db *sql.DB) (map[string][]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT DISTINCT check_name, region FROM results WHERE seq > (SELECT seq FROM rollup_seq)`)
	if err != nil {
		return nil, fmt.Errorf("read regions after rollup_seq: %w", err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var check, region string
		if err := rows.Scan(&check, &region); err != nil {
			return nil, fmt.Errorf("read regions after rollup_seq: %w", err)
		}
		out[check] = append(out[check], region)
	}
	return out, rows.Err()
}

// seqFloor returns the seq the next record gets in tx: past every seq
// stored and past rollup_seq, read in the (immediate, so locked)
// transaction. SQLite alone would reuse the highest rowid freed when
// retention empties the table, which may be at or below the mark. With
// one writer, every record up to seqFloor−1 is in the rollup tables or the
// pending sums, so a flush marks that far.
func seqFloor(ctx context.Context, tx *sql.Tx) (int64, error) {
	var floor int64
	err := tx.QueryRowContext(ctx, `SELECT MAX(COALESCE((SELECT MAX(seq) FROM results), 0), (SELECT seq FROM rollup_seq)) + 1`).Scan(&floor)
	if err != nil {
		return 0, fmt.Errorf("read the next seq: %w", err)
	}
	return floor, nil
}
