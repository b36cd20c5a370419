-- Rollups trail the raw records by up to 10 s: the writer sums the records
-- it commits in memory and writes the sums every 10 s, and queries add the
-- sums not yet written. rollup_seq is the highest results.seq counted in
-- the rollup tables; at open, the records after it (whose sums a crash
-- lost) are summed again. Every record stored so far is in the rollups.
CREATE TABLE rollup_seq (seq INTEGER NOT NULL);
INSERT INTO rollup_seq (seq) SELECT COALESCE(MAX(seq), 0) FROM results;
