-- Raw probe results: one row per record. started is unix nanoseconds,
-- cert_expiry unix seconds (NULL when the check has no certificate),
-- durations are nanoseconds, booleans 0/1, detail is JSON (NULL when none).
-- "check" is a reserved word in SQL, hence check_name.
CREATE TABLE results (
    seq           INTEGER PRIMARY KEY,
    id            TEXT    NOT NULL UNIQUE,
    check_name    TEXT    NOT NULL,
    region        TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    target        TEXT    NOT NULL,
    started       INTEGER NOT NULL,
    duration_ns   INTEGER NOT NULL,
    ok            INTEGER NOT NULL,
    degraded      INTEGER NOT NULL,
    error_class   TEXT    NOT NULL,
    error         TEXT    NOT NULL,
    warning       TEXT    NOT NULL,
    resolve_ns    INTEGER NOT NULL,
    connect_ns    INTEGER NOT NULL,
    tls_ns        INTEGER NOT NULL,
    processing_ns INTEGER NOT NULL,
    transfer_ns   INTEGER NOT NULL,
    trace_id      TEXT    NOT NULL,
    status_code   INTEGER NOT NULL,
    cert_expiry   INTEGER,
    dns_rcode     TEXT    NOT NULL,
    detail        BLOB
);

CREATE INDEX results_check_region_started ON results (check_name, region, started);

-- The newest record of every check × region, a copy of its results row,
-- updated in the same transaction as the insert.
CREATE TABLE latest (
    check_name    TEXT    NOT NULL,
    region        TEXT    NOT NULL,
    id            TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    target        TEXT    NOT NULL,
    started       INTEGER NOT NULL,
    duration_ns   INTEGER NOT NULL,
    ok            INTEGER NOT NULL,
    degraded      INTEGER NOT NULL,
    error_class   TEXT    NOT NULL,
    error         TEXT    NOT NULL,
    warning       TEXT    NOT NULL,
    resolve_ns    INTEGER NOT NULL,
    connect_ns    INTEGER NOT NULL,
    tls_ns        INTEGER NOT NULL,
    processing_ns INTEGER NOT NULL,
    transfer_ns   INTEGER NOT NULL,
    trace_id      TEXT    NOT NULL,
    status_code   INTEGER NOT NULL,
    cert_expiry   INTEGER,
    dns_rcode     TEXT    NOT NULL,
    detail        BLOB,
    PRIMARY KEY (check_name, region)
);
