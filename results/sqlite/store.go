// Package sqlite is the embedded results store: raw records plus minute,
// hour and day rollups in one SQLite file (modernc.org/sqlite, pure Go).
//
// One writer goroutine owns a single-connection pool and commits queued
// records in batches with the latest-record table; it sums their rollups
// in memory and writes them every 10 s in a batch's transaction (see
// pending.go), and queries add the sums not yet written. Queries use a
// separate read pool (WAL mode).
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"modernc.org/sqlite" // also registers the "sqlite" driver, which the read pool uses
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/vantageprobe/vantage/results"
)

// ErrClosed is returned by operations on a closed store.
var ErrClosed = errors.New("results store is closed")

// Options configure a Store. Zero values take the defaults.
type Options struct {
	Path          string        // database file, created if missing
	QueueSize     int           // bounded write queue in records; default 16384
	BatchSize     int           // max records per transaction; default 10000 (at most QueueSize)
	FlushInterval time.Duration // max age of a queued record before it is committed; default 200ms
	// RollupInterval is how long the rollup sums of committed records may
	// stay in memory before they are written (queries add them meanwhile,
	// and Open sums them again after a crash); default 10s.
	RollupInterval time.Duration
	// RawRetention bounds raw records, the latest-record table and minute
	// rollups; default 30 days.
	RawRetention time.Duration
	// RollupRetention bounds day rollups; default 400 days (or RawRetention
	// if longer); it may not be shorter than RawRetention.
	RollupRetention time.Duration
	// HourRetention bounds hour rollups; default 90 days, at least
	// RawRetention and at most RollupRetention.
	HourRetention time.Duration
	// PruneInterval is the period of the background retention pass;
	// default 10 minutes, negative disables it (Prune still works).
	PruneInterval time.Duration
	MaxResults    int // cap for Query.Limit; default 1000
	// ReadOnly opens the database for queries while another process (a
	// running server) may write it: nothing is written (Write and Prune
	// fail, no background pruning, a database at an older schema is
	// refused rather than upgraded), and rollups lack that process's sums
	// not yet written (up to its RollupInterval; after a crash, until it
	// starts again).
	ReadOnly   bool
	Logger     *slog.Logger          // default: discard
	Registerer prometheus.Registerer // optional; nil registers no metrics
	Now        func() time.Time      // clock for retention; default time.Now
}

// Option defaults.
const (
	DefaultQueueSize       = 16384
	DefaultBatchSize       = 10000
	DefaultFlushInterval   = 200 * time.Millisecond
	DefaultRollupInterval  = 10 * time.Second
	DefaultRawRetention    = 30 * 24 * time.Hour
	DefaultRollupRetention = 400 * 24 * time.Hour
	DefaultHourRetention   = 90 * 24 * time.Hour
	DefaultPruneInterval   = 10 * time.Minute
	DefaultMaxResults      = 1000
)

// withDefaults fills in zero values and checks the rest.
func (o Options) withDefaults() (Options, error) {
	if o.Path == "" {
		return o, errors.New("path is empty")
	}
	if strings.ContainsRune(o.Path, '?') {
		return o, fmt.Errorf("path %q contains '?'", o.Path)
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.QueueSize, DefaultQueueSize)
	def(&o.BatchSize, DefaultBatchSize)
	def(&o.MaxResults, DefaultMaxResults)
	o.BatchSize = min(o.BatchSize, o.QueueSize)
	defDur(&o.FlushInterval, DefaultFlushInterval)
	defDur(&o.RollupInterval, DefaultRollupInterval)
	defDur(&o.RawRetention, DefaultRawRetention)
	defDur(&o.RollupRetention, max(DefaultRollupRetention, o.RawRetention))
	defDur(&o.HourRetention, min(max(DefaultHourRetention, o.RawRetention), o.RollupRetention))
	defDur(&o.PruneInterval, DefaultPruneInterval)
	if o.ReadOnly {
		o.PruneInterval = -1
	}
	if o.FlushInterval < 0 || o.RollupInterval < 0 || o.RawRetention < 0 || o.RollupRetention < 0 || o.HourRetention < 0 {
		return o, errors.New("flush interval and retentions must be positive")
	}
	if o.RollupRetention < o.RawRetention {
		return o, fmt.Errorf("rollup retention %s is shorter than raw retention %s", o.RollupRetention, o.RawRetention)
	}
	if o.HourRetention < o.RawRetention || o.HourRetention > o.RollupRetention {
		return o, fmt.Errorf("hour rollup retention %s is not between raw retention %s and rollup retention %s",
			o.HourRetention, o.RawRetention, o.RollupRetention)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o, nil
}

// Store is the SQLite results store. It implements results.Store and is
// safe for concurrent use.
type Store struct {
	opts    Options
	log     *slog.Logger
	wdb     *sql.DB // exactly one connection: the writer and the pruner
	rdb     *sql.DB // read pool
	q       *queue
	stats   counters
	metrics *metrics // nil without a Registerer

	life    context.Context // canceled by Close; ends pruning
	endLife context.CancelFunc
	pruneMu sync.Mutex // one retention pass at a time
	dropLog struct {   // see logDrops
		sync.Mutex
		at    time.Time // of the last log
		total int64     // dropped as of the last log
	}
	pending    pendingRollups      // sums of committed records not yet in the rollup tables
	unmarked   map[string][]string // ReadOnly: regions by check of the records after rollup_seq at Open
	writerDone chan struct{}
	prunerDone chan struct{}
	closeOnce  sync.Once
	closeErr   error

	// hoursSince is the first hour with complete hour rollups (see
	// migration 0004): earlier hours are summed from minute rollups. Zero
	// when every hour has them.
	hoursSince time.Time

	// latestLen is how many records the last Latest returned: the next
	// one's slice starts with that capacity (growing it by appending
	// allocated twice what it holds).
	latestLen atomic.Int64

	stmtMu      sync.Mutex
	stmts       map[string]*sql.Stmt // prepared reads by query text (bounded)
	stmtsClosed bool
}

var _ results.Store = (*Store)(nil)

// Open opens (creating and migrating if needed) the database at o.Path and
// starts the writer and the background pruner. It refuses a database whose
// schema is newer than this binary (*SchemaTooNewError), changing nothing.
func Open(ctx context.Context, o Options) (*Store, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("open results store: %w", err)
	}
	wdb, rdb, err := openDBs(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("open results store %s: %w%s%s", o.Path, err, damageHint(err), writableHint(o.Path))
	}
	var since int64
	if err := rdb.QueryRowContext(ctx, `SELECT hours_since FROM rollup_hour_since`).Scan(&since); err != nil {
		return nil, fmt.Errorf("open results store %s: read rollup_hour_since: %w", o.Path, errors.Join(err, wdb.Close(), rdb.Close()))
	}
	life, endLife := context.WithCancel(context.Background())
	s := &Store{
		opts: o, log: o.Logger, wdb: wdb, rdb: rdb,
		q:    newQueue(o.QueueSize, o.BatchSize, o.FlushInterval),
		life: life, endLife: endLife,
		writerDone: make(chan struct{}), prunerDone: make(chan struct{}),
	}
	fail := func(err error) (*Store, error) {
		endLife()
		return nil, fmt.Errorf("open results store %s: %w", o.Path, errors.Join(err, wdb.Close(), rdb.Close()))
	}
	s.pending.every = o.RollupInterval
	if o.ReadOnly {
		if s.unmarked, err = unmarkedRegions(ctx, wdb); err != nil {
			return fail(err)
		}
	} else {
		n, err := s.pending.adoptUnwritten(ctx, wdb)
		if err != nil {
			return fail(err)
		}
		if n > 0 {
			s.log.Info("rollups of results stored before a crash summed again", "results", n)
		}
	}
	if since > 0 { // 0: a database with every hour rollup (created with them)
		s.hoursSince = time.Unix(since, 0).UTC()
	}
	if o.Registerer != nil {
		if s.metrics, err = newMetrics(o.Registerer, s); err != nil {
			return fail(err)
		}
	}
	go s.runWriter()
	go s.runPruner()
	return s, nil
}

// dsn returns the connection string: pragmas go in the DSN so that every
// pooled connection gets them. The writer checkpoints the WAL every 10,000
// pages (40 MB) rather than 1,000: a batch dirties a page per series in
// each index, and fewer checkpoints copy each hot page to the database
// file fewer times (≈ +20 % ingest). Page caches live outside the Go heap,
// one per connection, and fill up to their size over hours: 2 MB for the
// writer and 256 KB for each reader (the OS's page cache holds the file
// anyway). Measured at 1,000 checks every second: a 4 MB writer cache held
// 5-7 MiB more RSS at the same CPU and commit time (bulk ingest, 10,000-
// record transactions, about 10 % faster); 1 MB per reader built a status
// page of 200 checks with a year of history no faster than 256 KB.
func dsn(path string, readOnly bool) string {
	p := "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(ON)"
	if readOnly {
		return path + "?" + p + "&_pragma=query_only(1)&_pragma=cache_size(-256)"
	}
	return path + "?" + p + "&_pragma=cache_size(-2000)&_pragma=wal_autocheckpoint(10000)" +
		"&_pragma=journal_size_limit(67108864)&_txlock=immediate"
}

// connector opens connections of one driver with one DSN.
type connector struct {
	driver *sqlite.Driver
	dsn    string
}

func (c connector) Connect(context.Context) (driver.Conn, error) { return c.driver.Open(c.dsn) }
func (c connector) Driver() driver.Driver                        { return c.driver }

// readConns is the size of the read pool; WAL readers never block each
// other or the writer.
const readConns = 4

// openDBs opens and migrates the writer, then opens the read pool.
func openDBs(ctx context.Context, o Options) (wdb, rdb *sql.DB, err error) {
	// The writer's driver has the function the rollup upserts use; it is
	// registered on this driver alone, not on the process-wide "sqlite".
	var wd sqlite.Driver
	if err := wd.RegisterDeterministicScalarFunction(histAddFunc, 2, histAdd); err != nil {
		return nil, nil, err
	}
	wdb = sql.OpenDB(connector{driver: &wd, dsn: dsn(o.Path, false)})
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	wdb.SetConnMaxIdleTime(0)
	check := func(ctx context.Context, db *sql.DB) error { return migrate(ctx, db, o.Now) }
	if o.ReadOnly {
		check = checkSchema
	}
	if err := check(ctx, wdb); err != nil {
		return nil, nil, errors.Join(err, wdb.Close())
	}
	rdb, err = sql.Open("sqlite", dsn(o.Path, true))
	if err != nil {
		return nil, nil, errors.Join(err, wdb.Close())
	}
	rdb.SetMaxOpenConns(readConns)
	rdb.SetMaxIdleConns(readConns)
	if err := rdb.PingContext(ctx); err != nil {
		return nil, nil, errors.Join(fmt.Errorf("open read pool: %w", err), rdb.Close(), wdb.Close())
	}
	return wdb, rdb, nil
}

// Close stops accepting writes, commits everything queued, stops the
// pruner and closes the database. It is idempotent; later calls return
// the first call's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.endLife()
		<-s.prunerDone
		s.pruneMu.Lock() // waits for a caller's Prune, which life's end cancels
		s.q.close()
		<-s.writerDone
		s.logDrops(true)
		s.stmtMu.Lock()
		for _, st := range s.stmts {
			st.Close()
		}
		s.stmts, s.stmtsClosed = nil, true
		s.stmtMu.Unlock()
		err := errors.Join(s.q.lost(), s.rdb.Close(), s.wdb.Close()) // the writer last: it checkpoints the WAL
		s.pruneMu.Unlock()
		if s.metrics != nil {
			s.metrics.unregister()
		}
		if err != nil {
			s.closeErr = fmt.Errorf("close results store: %w", err)
		}
	})
	return s.closeErr
}

// maxStmts bounds the prepared reads kept: a query's text varies only with
// its table, the number of regions and which bounds are set.
const maxStmts = 64

// query runs a read on the read pool through a statement prepared once
// per text (parsing is about a tenth of a small range scan); texts beyond
// maxStmts run unprepared.
func (s *Store) query(ctx context.Context, text string, args ...any) (*sql.Rows, error) {
	s.stmtMu.Lock()
	st, ok := s.stmts[text]
	room := !ok && !s.stmtsClosed && len(s.stmts) < maxStmts
	s.stmtMu.Unlock()
	if room { // prepared outside the lock: it waits for a pooled connection
		fresh, err := s.rdb.PrepareContext(ctx, text)
		if err != nil {
			return nil, err
		}
		s.stmtMu.Lock()
		if cur, dup := s.stmts[text]; dup || s.stmtsClosed {
			fresh.Close() // another reader was first, or Close began
			st = cur
		} else {
			if s.stmts == nil {
				s.stmts = map[string]*sql.Stmt{}
			}
			s.stmts[text], st = fresh, fresh
		}
		s.stmtMu.Unlock()
	}
	if st == nil {
		return s.rdb.QueryContext(ctx, text, args...)
	}
	return st.QueryContext(ctx, args...)
}

// closed reports whether Close has begun.
func (s *Store) closed() bool { return s.life.Err() != nil }

// writableHint says why path cannot be written, when it cannot: a
// read-only file system or missing permissions leave SQLite saying only
// "unable to open database file" or "attempt to write a readonly
// database". It changes nothing: the file is opened for writing without
// truncating it and closed, and the directory (where SQLite keeps the
// -wal and -shm files, and creates a new database) is probed with a
// temporary file only when the file is fine or missing.
func writableHint(path string) string {
	why := func(err error) string {
		switch {
		case errors.Is(err, syscall.EROFS):
			return " (the file system is mounted read-only: remount it read-write, or set storage.path elsewhere)"
		case errors.Is(err, os.ErrPermission):
			return " (no permission to write " + filepath.Dir(path) + " or the file; the user running vantage needs both)"
		}
		return ""
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	switch {
	case errors.Is(err, os.ErrNotExist): // a new database: the directory decides
	case err != nil:
		return why(err)
	default:
		f.Close()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".vantage-write-check-*")
	if err != nil {
		return why(err)
	}
	tmp.Close()
	os.Remove(tmp.Name())
	return ""
}

// damageHint explains SQLite's "file is not a database" and "database disk
// image is malformed" to whoever reads the error at start-up.
func damageHint(err error) string {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return ""
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
		return " (the file is damaged or not a SQLite database; it was left as it is: restore it from a backup, or move it away to start afresh)"
	}
	return ""
}
