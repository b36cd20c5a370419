-- Browser-check screenshots (PNG), one per result that has one, kept as
-- long as the raw results. started is unix nanoseconds, as in results.
CREATE TABLE screenshots (
    id         TEXT    PRIMARY KEY,
    check_name TEXT    NOT NULL,
    region     TEXT    NOT NULL,
    started    INTEGER NOT NULL,
    png        BLOB    NOT NULL
);

CREATE INDEX screenshots_check_region_started ON screenshots (check_name, region, started);
