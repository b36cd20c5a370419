package sqlite

import (
	"database/sql"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/vantageprobe/vantage/probes"
	"github.com/vantageprobe/vantage/results"
)

// recordColumns are the columns of a record in the results and latest
// tables, in the order of recordArgs and scanRecord.
var recordColumns = []string{
	"id", "check_name", "region", "kind", "target", "started", "duration_ns", "ok", "degraded",
	"error_class", "error", "warning",
	"resolve_ns", "connect_ns", "tls_ns", "processing_ns", "transfer_ns",
	"trace_id", "status_code", "cert_expiry", "dns_rcode", "detail",
}

// recordColumnList is recordColumns as a select/insert list.
func recordColumnList() string { return strings.Join(recordColumns, ", ") }

// placeholders returns "?, ?, …" with n marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// recordArgs returns the column values of r in recordColumns order.
func recordArgs(r *results.Record) []any {
	var certExpiry, detail any // NULL unless set
	if !r.CertExpiry.IsZero() {
		certExpiry = r.CertExpiry.Unix()
	}
	if len(r.Detail) > 0 {
		detail = r.Detail
	}
	p := r.Phases
	return []any{
		r.ID, r.Check, r.Region, string(r.Kind), r.Target, r.Started.UnixNano(), int64(r.Duration), r.OK, r.Degraded,
		r.ErrorClass, r.Error, r.Warning,
		int64(p.Resolve), int64(p.Connect), int64(p.TLS), int64(p.Processing), int64(p.Transfer),
		r.TraceID, r.StatusCode, certExpiry, r.DNSRcode, detail,
	}
}

// scanRecord reads one row selected with recordColumnList.
func scanRecord(rows *sql.Rows) (results.Record, error) {
	var (
		r                                 results.Record
		kind                              string
		started, dur                      int64
		resolve, connect, tls, proc, xfer int64
		certExpiry                        sql.NullInt64
		detail                            []byte
	)
	err := rows.Scan(&r.ID, &r.Check, &r.Region, &kind, &r.Target, &started, &dur, &r.OK, &r.Degraded,
		&r.ErrorClass, &r.Error, &r.Warning,
		&resolve, &connect, &tls, &proc, &xfer,
		&r.TraceID, &r.StatusCode, &certExpiry, &r.DNSRcode, &detail)
	if err != nil {
		return r, fmt.Errorf("scan record: %w", err)
	}
	r.Kind = probes.Kind(kind)
	r.Started = time.Unix(0, started).UTC()
	r.Duration = time.Duration(dur)
	r.Phases = probes.Phases{
		Resolve: time.Duration(resolve), Connect: time.Duration(connect), TLS: time.Duration(tls),
		Processing: time.Duration(proc), Transfer: time.Duration(xfer),
	}
	if certExpiry.Valid {
		r.CertExpiry = time.Unix(certExpiry.Int64, 0).UTC()
	}
	if len(detail) > 0 {
		r.Detail = detail // Scan into *[]byte copies
	}
	return r, nil
}

// histBytes is the size of an encoded histogram.
const histBytes = 4 * results.HistBuckets

// encodeHist encodes h as HistBuckets little-endian uint32 counts.
func encodeHist(h *results.Histogram) []byte {
	b := make([]byte, histBytes)
	for i, c := range h {
		binary.LittleEndian.PutUint32(b[4*i:], c)
	}
	return b
}

// decodeHist is the inverse of encodeHist.
func decodeHist(b []byte, h *results.Histogram) error {
	if len(b) != histBytes {
		return fmt.Errorf("decode histogram: %d bytes, want %d", len(b), histBytes)
	}
	for i := range h {
		h[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return nil
}
