package sqlite

import (
	"database/sql"
	"encoding/binary"
	"fmt"
	"math"
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

// qualifiedColumnList is recordColumnList with each column of table.
func qualifiedColumnList(table string) string {
	return table + "." + strings.Join(recordColumns, ", "+table+".")
}

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

// A histogram is stored in one of two forms, told apart by length:
//
//   - dense: exactly histBytes bytes, HistBuckets little-endian uint32
//     counts (the only form before schema 4's databases were written by
//     this version; still read);
//   - sparse: histSparse, then for each bucket with a count its index (one
//     byte) and the count (uvarint), in bucket order. A rollup of a minute
//     holds one or two observations: 3–5 bytes instead of 192, which is
//     most of a minute rollup's row.
//
// encodeHist writes the sparse form unless it would be exactly histBytes
// long (then the dense one, the same size).

// histBytes is the size of a dense histogram.
const histBytes = 4 * results.HistBuckets

// histSparse starts a sparse histogram.
const histSparse = 0x01

// encodeHist encodes h, sparse unless that is histBytes long.
func encodeHist(h *results.Histogram) []byte {
	b := make([]byte, 1, 16)
	b[0] = histSparse
	for i, c := range h {
		if c != 0 {
			b = append(b, byte(i))
			b = binary.AppendUvarint(b, uint64(c))
		}
	}
	if len(b) != histBytes {
		return b
	}
	d := make([]byte, histBytes)
	for i, c := range h {
		binary.LittleEndian.PutUint32(d[4*i:], c)
	}
	return d
}

// decodeHist reads either form into h.
func decodeHist(b []byte, h *results.Histogram) error {
	*h = results.Histogram{}
	if len(b) == histBytes {
		for i := range h {
			h[i] = binary.LittleEndian.Uint32(b[4*i:])
		}
		return nil
	}
	if len(b) == 0 || b[0] != histSparse {
		return fmt.Errorf("decode histogram: %d bytes, neither dense (%d) nor sparse", len(b), histBytes)
	}
	for rest := b[1:]; len(rest) > 0; {
		i := int(rest[0])
		c, n := binary.Uvarint(rest[1:])
		if i >= len(h) || n <= 0 || c > math.MaxUint32 {
			return fmt.Errorf("decode histogram: bad bucket at byte %d", len(b)-len(rest))
		}
		h[i] = uint32(c)
		rest = rest[1+n:]
	}
	return nil
}
