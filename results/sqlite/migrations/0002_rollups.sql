-- Rollups per check × region × bucket, maintained in the same transaction
-- as the raw inserts. bucket_start is unix seconds aligned to the
-- resolution (UTC); durations are nanoseconds; hist is results.Histogram
-- as 48 little-endian uint32 counts (192 bytes).
CREATE TABLE rollup_minute (
    check_name   TEXT    NOT NULL,
    region       TEXT    NOT NULL,
    bucket_start INTEGER NOT NULL,
    total        INTEGER NOT NULL,
    failed       INTEGER NOT NULL,
    degraded     INTEGER NOT NULL,
    dur_sum      INTEGER NOT NULL,
    dur_min      INTEGER NOT NULL,
    dur_max      INTEGER NOT NULL,
    hist         BLOB    NOT NULL,
    PRIMARY KEY (check_name, region, bucket_start)
) WITHOUT ROWID;

CREATE TABLE rollup_day (
    check_name   TEXT    NOT NULL,
    region       TEXT    NOT NULL,
    bucket_start INTEGER NOT NULL,
    total        INTEGER NOT NULL,
    failed       INTEGER NOT NULL,
    degraded     INTEGER NOT NULL,
    dur_sum      INTEGER NOT NULL,
    dur_min      INTEGER NOT NULL,
    dur_max      INTEGER NOT NULL,
    hist         BLOB    NOT NULL,
    PRIMARY KEY (check_name, region, bucket_start)
) WITHOUT ROWID;
