-- Hourly rollups, maintained like the others in the same transaction as
-- the raw inserts; kept for the hourly retention (default 90 days), so that
-- charts of days and edges of local days read 24 rows a day, not 1,440.
CREATE TABLE rollup_hour (
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

-- hours_since (unix seconds) is the first hour whose hourly rollups are
-- complete: 0 for a database created with this table, the next hour after
-- the upgrade for one that had results before. Hours before it are summed
-- from minute rollups when read.
CREATE TABLE rollup_hour_since (hours_since INTEGER NOT NULL);
INSERT INTO rollup_hour_since (hours_since)
SELECT CASE WHEN EXISTS (SELECT 1 FROM rollup_minute) OR EXISTS (SELECT 1 FROM results)
    THEN (CAST(strftime('%s', 'now') AS INTEGER) / 3600 + 1) * 3600 ELSE 0 END;
