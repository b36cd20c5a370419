package agent

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/vantageprobe/vantage/results"
)

// DefaultSpoolMaxBytes is the default bound on the record bytes a Spool keeps.
const DefaultSpoolMaxBytes = 1 << 30

// ErrSpoolClosed is returned by operations on a closed Spool.
var ErrSpoolClosed = errors.New("spool is closed")

// spoolSchemaVersion is the PRAGMA user_version of the spool file.
const spoolSchemaVersion = 1

const spoolSchema = `CREATE TABLE IF NOT EXISTS spool (
	seq  INTEGER PRIMARY KEY AUTOINCREMENT,
	id   TEXT    NOT NULL,
	size INTEGER NOT NULL,
	rec  BLOB    NOT NULL
)`

// SpoolOptions configure a Spool.
type SpoolOptions struct {
	Path     string       // SQLite file, created if missing
	MaxBytes int64        // bound on stored record bytes; default 1 GiB (DefaultSpoolMaxBytes)
	Logger   *slog.Logger // default discard
}

// withDefaults fills in zero values and checks the rest.
func (o SpoolOptions) withDefaults() (SpoolOptions, error) {
	if o.Path == "" {
		return o, errors.New("path is empty")
	}
	if strings.ContainsRune(o.Path, '?') {
		return o, fmt.Errorf("path %q contains '?'", o.Path)
	}
	if o.MaxBytes < 0 {
		return o, fmt.Errorf("max bytes %d is negative", o.MaxBytes)
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultSpoolMaxBytes
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// Spooled is one record waiting in the spool.
type Spooled struct {
	Seq    int64 // position in the spool; increases with every append, never reused
	Record results.Record
}

// SpoolStats describe what a Spool holds.
type SpoolStats struct {
	Records int64 // records stored
	Bytes   int64 // encoded record bytes stored (the file itself is larger)
	Dropped int64 // records dropped because the spool was full, since OpenSpool
}

// Spool is a durable FIFO of records waiting to be pushed. Safe for
// concurrent use.
//
// Records are stored as JSON in one SQLite file through a single
// connection; writes are serialised so that the in-memory Stats always
// match the file.
type Spool struct {
	db       *sql.DB // exactly one connection
	log      *slog.Logger
	maxBytes int64

	mu       sync.RWMutex // Append, Remove and Close hold it exclusively, Peek shared
	closed   bool
	closeErr error

	statsMu sync.Mutex
	stats   SpoolStats
}

// OpenSpool opens (creating if needed) the spool file at o.Path. It
// refuses a file whose schema is newer than this binary knows.
func OpenSpool(ctx context.Context, o SpoolOptions) (*Spool, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("open spool: %w", err)
	}
	db, err := sql.Open("sqlite", spoolDSN(o.Path))
	if err != nil {
		return nil, fmt.Errorf("open spool %s: %w", o.Path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	s := &Spool{db: db, log: o.Logger, maxBytes: o.MaxBytes}
	if err := migrateSpool(ctx, db); err != nil {
		return nil, fmt.Errorf("open spool %s: %w", o.Path, errors.Join(err, db.Close()))
	}
	err = db.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(size), 0) FROM spool`).
		Scan(&s.stats.Records, &s.stats.Bytes)
	if err != nil {
		return nil, fmt.Errorf("open spool %s: read stats: %w", o.Path, errors.Join(err, db.Close()))
	}
	return s, nil
}

// spoolDSN returns the connection string; pragmas go in the DSN so that
// every connection the pool opens gets them.
func spoolDSN(path string) string {
	return path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
}

// migrateSpool creates the schema in a new file and checks the version of
// an existing one, refusing a newer one before writing anything.
func migrateSpool(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback() // a no-op after Commit
	var v int
	if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if v > spoolSchemaVersion {
		return fmt.Errorf("spool schema version %d is newer than this binary supports (%d); upgrade vantage or move the file away",
			v, spoolSchemaVersion)
	}
	if _, err := tx.ExecContext(ctx, spoolSchema); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	if v < spoolSchemaVersion {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, spoolSchemaVersion)); err != nil {
			return fmt.Errorf("set schema version: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Append stores recs, in order, in one transaction. If the spool then
// holds more than MaxBytes, the oldest entries (possibly some of recs) are
// deleted in the same transaction until it fits; they are counted in
// Stats().Dropped and reported in one warning.
func (s *Spool) Append(ctx context.Context, recs ...results.Record) error {
	blobs := make([][]byte, len(recs))
	var added int64
	for i := range recs {
		b, err := json.Marshal(&recs[i])
		if err != nil {
			return fmt.Errorf("append to spool: encode record %s: %w", recs[i].ID, err)
		}
		blobs[i] = b
		added += int64(len(b))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("append to spool: %w", ErrSpoolClosed)
	}
	if len(recs) == 0 {
		return nil
	}
	over := s.Stats().Bytes + added - s.maxBytes
	dropped, freed, err := s.appendTx(ctx, recs, blobs, over)
	if err != nil {
		return fmt.Errorf("append to spool: %w", err)
	}
	s.statsMu.Lock()
	s.stats.Records += int64(len(recs)) - dropped
	s.stats.Bytes += added - freed
	s.stats.Dropped += dropped
	bytes := s.stats.Bytes
	s.statsMu.Unlock()
	if dropped > 0 {
		s.log.Warn("spool full: dropped oldest results", "dropped", dropped, "spool_bytes", bytes)
	}
	return nil
}

// appendTx inserts recs and, when over > 0, deletes the oldest entries
// totalling at least over bytes. It returns what it deleted.
func (s *Spool) appendTx(ctx context.Context, recs []results.Record, blobs [][]byte, over int64) (dropped, freed int64, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, err
	}
	defer tx.Rollback() // a no-op after Commit
	ins, err := tx.PrepareContext(ctx, `INSERT INTO spool (id, size, rec) VALUES (?, ?, ?)`)
	if err != nil {
		return 0, 0, err
	}
	defer ins.Close()
	for i, b := range blobs {
		if _, err := ins.ExecContext(ctx, recs[i].ID, len(b), b); err != nil {
			return 0, 0, fmt.Errorf("insert record %s: %w", recs[i].ID, err)
		}
	}
	if over > 0 {
		if dropped, freed, err = trimOldest(ctx, tx, over); err != nil {
			return 0, 0, fmt.Errorf("drop oldest: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, 0, err
	}
	return dropped, freed, nil
}

// trimOldest deletes the fewest oldest entries whose sizes add up to at
// least over bytes.
func trimOldest(ctx context.Context, tx *sql.Tx, over int64) (n, freed int64, err error) {
	rows, err := tx.QueryContext(ctx, `SELECT seq, size FROM spool ORDER BY seq`)
	if err != nil {
		return 0, 0, err
	}
	var cut int64
	for freed < over && rows.Next() {
		var size int64
		if err := rows.Scan(&cut, &size); err != nil {
			return 0, 0, errors.Join(err, rows.Close())
		}
		n++
		freed += size
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, 0, err
	}
	if n == 0 {
		return 0, 0, nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM spool WHERE seq <= ?`, cut); err != nil {
		return 0, 0, err
	}
	return n, freed, nil
}

// Peek returns the n oldest entries, oldest first, leaving them in the
// spool; fewer when the spool holds fewer.
func (s *Spool) Peek(ctx context.Context, n int) ([]Spooled, error) {
	if n <= 0 {
		return nil, fmt.Errorf("peek spool: n is %d, must be positive", n)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, fmt.Errorf("peek spool: %w", ErrSpoolClosed)
	}
	out, err := s.peek(ctx, n)
	if err != nil {
		return nil, fmt.Errorf("peek spool: %w", err)
	}
	return out, nil
}

func (s *Spool) peek(ctx context.Context, n int) ([]Spooled, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, rec FROM spool ORDER BY seq LIMIT ?`, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]Spooled, 0, min(n, 1024))
	for rows.Next() {
		var (
			e    Spooled
			blob []byte
		)
		if err := rows.Scan(&e.Seq, &blob); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(blob, &e.Record); err != nil {
			return nil, fmt.Errorf("decode entry %d: %w", e.Seq, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// Remove deletes every entry with Seq <= upToSeq; call it once the
// entries returned by Peek are pushed.
func (s *Spool) Remove(ctx context.Context, upToSeq int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("remove from spool: %w", ErrSpoolClosed)
	}
	n, freed, err := s.removeTx(ctx, upToSeq)
	if err != nil {
		return fmt.Errorf("remove from spool: %w", err)
	}
	s.statsMu.Lock()
	s.stats.Records -= n
	s.stats.Bytes -= freed
	s.statsMu.Unlock()
	return nil
}

func (s *Spool) removeTx(ctx context.Context, upToSeq int64) (n, freed int64, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, err
	}
	defer tx.Rollback() // a no-op after Commit
	err = tx.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(size), 0) FROM spool WHERE seq <= ?`, upToSeq).
		Scan(&n, &freed)
	if err != nil || n == 0 {
		return 0, 0, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM spool WHERE seq <= ?`, upToSeq); err != nil {
		return 0, 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, 0, err
	}
	return n, freed, nil
}

// Stats returns what the spool holds. It does no I/O: the counts are kept
// in memory, initialised from the file by OpenSpool. It keeps working
// after Close.
func (s *Spool) Stats() SpoolStats {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	return s.stats
}

// Close closes the spool file, waiting for operations in progress. It is
// idempotent; later calls return the first call's result.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.closeErr
	}
	s.closed = true
	if err := s.db.Close(); err != nil {
		s.closeErr = fmt.Errorf("close spool: %w", err)
	}
	return s.closeErr
}
