-- Rate limits counted in the database: the same table as PostgreSQL's, so both schemas stay alike. SQLite runs one
-- process per data directory and counts in memory (Hosting/RateLimiting.cs); this table stays empty there.
CREATE TABLE rate_counters (
    partition_key TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (partition_key, window_start)
);
CREATE INDEX ix_rate_counters_window_start ON rate_counters(window_start);
