// Package results defines result records, the store contract, and the
// uptime, latency and SLO arithmetic over them (pure functions).
package results

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	"github.com/vantageprobe/vantage/probes"
)

// Record is one probe result of one check from one region, as stored.
type Record struct {
	ID       string // unique; a retried write of the same ID is stored once
	Check    string
	Region   string
	Kind     probes.Kind
	Target   string
	Started  time.Time // UTC
	Duration time.Duration
	OK       bool
	Degraded bool
	// ErrorClass is probes.ErrorClass of the failure ("" when OK).
	ErrorClass string
	Error      string // failure message ("" when OK)
	Warning    string // why degraded ("" otherwise)
	Phases     probes.Phases
	TraceID    string

	// Kind-specific detail; zero when it does not apply.
	StatusCode int       // HTTP status of the final response
	CertExpiry time.Time // earliest expiry in the TLS chain
	DNSRcode   string    // DNS response code mnemonic
	// Detail is the kind-specific detail as JSON (HTTP version and
	// redirects, TLS subject/issuer/SANs, DNS answers …), or nil.
	Detail []byte
	// Screenshot is a PNG of a browser check (written, and read back only
	// through Store.Screenshot), or nil.
	Screenshot []byte
}

// ErrNotFound says that what was asked for is not stored.
var ErrNotFound = errors.New("not found")

// NewID returns a fresh record id: 32 hex digits, time-ordered like a
// UUIDv7 (48 bits of Unix milliseconds, then 80 random bits), so that ids
// written together land together in an index.
func NewID() string {
	var b [16]byte
	ms := uint64(time.Now().UnixMilli())
	for i := range 6 {
		b[i] = byte(ms >> (40 - 8*i))
	}
	_, _ = rand.Read(b[6:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// Store keeps records and their rollups.
type Store interface {
	// Write queues records for storage; it blocks only when the write
	// queue is full (backpressure), never drops.
	Write(ctx context.Context, recs ...Record) error
	// Flush returns once every record queued before the call is committed.
	Flush(ctx context.Context) error
	// Latest returns the newest record of every check × region.
	Latest(ctx context.Context) ([]Record, error)
	// Results returns raw records matching q, newest first.
	Results(ctx context.Context, q Query) ([]Record, error)
	// Rollups returns the aggregates of one check (all regions when
	// q.Region is empty, merged per bucket) at resolution q.Res, oldest first.
	Rollups(ctx context.Context, q RollupQuery) ([]Rollup, error)
	// Count counts the raw records matching q exactly: total, and good
	// among them (see CountQuery). It serves latency SLOs, which rollups
	// cannot answer exactly, so it only reaches back as far as the raw
	// retention.
	Count(ctx context.Context, q CountQuery) (good, total int64, err error)
	// Screenshot returns the PNG stored with result id, or an error
	// wrapping ErrNotFound.
	Screenshot(ctx context.Context, id string) ([]byte, error)
	// Close flushes the queue and closes the store.
	Close() error
}

// Query selects raw records.
type Query struct {
	Check  string    // required
	Region string    // "" = every region
	Since  time.Time // inclusive; zero = no bound
	Until  time.Time // exclusive; zero = no bound
	Limit  int       // 0 = the store's cap
}

// CountQuery selects raw records to count and says which are good. A
// record is good when it passed (degraded counts as passed) and, when
// MaxDuration > 0, took at most MaxDuration.
type CountQuery struct {
	Check       string        // required
	Region      string        // "" = every region
	Since       time.Time     // inclusive; zero = no bound
	Until       time.Time     // exclusive; zero = no bound
	MaxDuration time.Duration // 0 = availability: good = passed; < 0 is an error
}

// Resolution is the bucket width of rollups.
type Resolution time.Duration

// Rollup resolutions.
const (
	Minute = Resolution(time.Minute)
	Hour   = Resolution(time.Hour)
	Day    = Resolution(24 * time.Hour)
)

// RollupQuery selects rollup buckets.
type RollupQuery struct {
	Check  string
	Region string // "" = all regions merged per bucket
	Res    Resolution
	Since  time.Time // bucket start ≥ Since
	Until  time.Time // bucket start < Until
}

// FromResult turns a probe result of check, probed from region, into a
// record with a fresh ID.
func FromResult(check, region string, r probes.Result) Record {
	return FromResultDetail(check, region, r, r.Detail())
}

// FromResultDetail is FromResult for a caller that has r.Detail() already.
func FromResultDetail(check, region string, r probes.Result, d probes.ReportDetail) Record {
	rec := Record{
		ID: NewID(), Check: check, Region: region, Kind: r.Kind, Target: r.Target,
		Started: r.Started.UTC(), Duration: r.Duration, OK: r.OK, Degraded: r.Degraded,
		ErrorClass: probes.ErrorClass(r.Err), Phases: r.Phases, TraceID: r.TraceID,
	}
	if r.Err != nil {
		rec.Error = r.Err.Error()
	}
	if r.Warning != nil {
		rec.Warning = r.Warning.Error()
	}
	if r.HTTP != nil {
		rec.StatusCode = r.HTTP.StatusCode
	}
	if r.TLS != nil {
		rec.CertExpiry = r.TLS.EarliestChainExpiry
	}
	if r.DNS != nil {
		rec.DNSRcode = r.DNS.Rcode
	}
	if r.Browser != nil {
		rec.Screenshot = r.Browser.Screenshot
	}
	if d != (probes.ReportDetail{}) {
		rec.Detail, _ = json.Marshal(d) // plain structs: cannot fail
	}
	return rec
}

// Report is the record in the JSON form `vantage check --json` prints.
func (rec Record) Report() probes.Report {
	rep := probes.Report{
		ID: rec.ID, Check: rec.Check, Region: rec.Region, Type: rec.Kind, Target: rec.Target,
		Started: rec.Started.UTC(), OK: rec.OK, Degraded: rec.Degraded, Error: rec.Error,
		ErrorClass: rec.ErrorClass, Warning: rec.Warning, Duration: rec.Duration.Seconds(),
		Phases: rec.Phases.PhaseSeconds(), TraceID: rec.TraceID,
	}
	if len(rec.Detail) > 0 {
		_ = json.Unmarshal(rec.Detail, &rep.ReportDetail) // written by FromResult; a damaged blob leaves the blocks out
	}
	return rep
}
