-- Usage of purged records (PostgreSQL; docs/operations.md "Retention"): the record purge adds the counts of the sessions, images and
-- deliveries it deletes here, in the transaction that deletes them, so a row is counted either live or here, never both, and
-- the stats (Stats/UsageStats.cs) read live rows plus these. day is a UTC date: the day a session was created,
-- an image uploaded (images_delivered: the upload day of an image sent to a destination or acknowledged), a delivery finished.
CREATE TABLE usage_days (
    project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    env text NOT NULL,
    day date NOT NULL,
    sessions integer NOT NULL,
    images_uploaded integer NOT NULL,
    images_delivered integer NOT NULL,
    deliveries_sent integer NOT NULL,
    deliveries_failed integer NOT NULL,
    PRIMARY KEY (project_id, env, day)
);

-- Finished deliveries per destination, by the upload day of their image; kept after the destination is deleted.
CREATE TABLE usage_destination_days (
    project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    env text NOT NULL,
    day date NOT NULL,
    destination_id uuid NOT NULL,
    deliveries_sent integer NOT NULL,
    deliveries_failed integer NOT NULL,
    PRIMARY KEY (project_id, env, day, destination_id)
);

-- The purge walks the oldest first.
CREATE INDEX ix_sessions_created ON sessions(created_at);
CREATE INDEX ix_event_logs_created ON event_logs(created_at);
