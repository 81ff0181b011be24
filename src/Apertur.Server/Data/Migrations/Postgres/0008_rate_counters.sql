-- Rate limits counted in the database (PostgreSQL), so every replica sees the same count (docs/scale-out.md):
-- one row per policy partition and one-minute window, bumped by one upsert per check; old windows are deleted.
CREATE TABLE rate_counters (
    partition_key text NOT NULL,
    window_start bigint NOT NULL,
    count integer NOT NULL,
    PRIMARY KEY (partition_key, window_start)
);
CREATE INDEX ix_rate_counters_window_start ON rate_counters(window_start);
