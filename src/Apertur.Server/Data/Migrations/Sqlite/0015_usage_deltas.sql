-- Usage counted insert-only (SQLite; docs/performance.md "Usage aggregates"), the model PostgreSQL needs to avoid a hot row and
-- deadlocks, kept the same here so that both databases are read and rolled up alike: the triggers only INSERT a delta row into
-- usage_deltas; the usage roll-up (Stats/UsageRollup.cs, every Apertur:Usage:RollupInterval and at start) moves the deltas
-- into usage_days and usage_destination_days in one transaction; the stats (Stats/UsageStats.cs) read the day rows plus the
-- deltas not yet moved, in one statement. The migration runs under the one writer: every change before it is in usage_days,
-- every change after it in usage_deltas.

-- destination_id null: a delta of usage_days; set: a delta of usage_destination_days (deliveries_sent/failed only).
CREATE TABLE usage_deltas (
    id INTEGER PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    env TEXT NOT NULL,
    day TEXT NOT NULL,
    destination_id TEXT NULL,
    sessions INTEGER NOT NULL DEFAULT 0,
    images_uploaded INTEGER NOT NULL DEFAULT 0,
    images_delivered INTEGER NOT NULL DEFAULT 0,
    deliveries_sent INTEGER NOT NULL DEFAULT 0,
    deliveries_failed INTEGER NOT NULL DEFAULT 0
);
-- The stats add the deltas of one project and environment (and days) to the day rows.
CREATE INDEX ix_usage_deltas_project ON usage_deltas(project_id, env, day);

DROP TRIGGER usage_session_created;
CREATE TRIGGER usage_session_created AFTER INSERT ON sessions
BEGIN
    INSERT INTO usage_deltas (project_id, env, day, sessions)
    VALUES (new.project_id, new.env, date(new.created_at / 1000, 'unixepoch'), 1);
END;

DROP TRIGGER usage_image_uploaded;
CREATE TRIGGER usage_image_uploaded AFTER INSERT ON images
BEGIN
    INSERT INTO usage_deltas (project_id, env, day, images_uploaded, images_delivered)
    VALUES (new.project_id, new.env, date(new.created_at / 1000, 'unixepoch'), 1, new.delivered_at IS NOT NULL);
END;

DROP TRIGGER usage_image_delivered;
CREATE TRIGGER usage_image_delivered AFTER UPDATE OF delivered_at ON images
WHEN (old.delivered_at IS NULL) <> (new.delivered_at IS NULL)
BEGIN
    INSERT INTO usage_deltas (project_id, env, day, images_delivered)
    VALUES (new.project_id, new.env, date(new.created_at / 1000, 'unixepoch'), CASE WHEN new.delivered_at IS NULL THEN -1 ELSE 1 END);
END;

-- A delivery's finished state: taken out as it was (old), put in as it is (new).
DROP TRIGGER usage_delivery_inserted;
CREATE TRIGGER usage_delivery_inserted AFTER INSERT ON deliveries
WHEN new.status IN ('sent', 'failed')
BEGIN
    INSERT INTO usage_deltas (project_id, env, day, deliveries_sent, deliveries_failed)
    SELECT i.project_id, i.env, date(new.updated_at / 1000, 'unixepoch'), new.status = 'sent', new.status = 'failed'
    FROM images i WHERE i.id = new.image_id;
    INSERT INTO usage_deltas (project_id, env, day, destination_id, deliveries_sent, deliveries_failed)
    SELECT i.project_id, i.env, date(i.created_at / 1000, 'unixepoch'), new.destination_id, new.status = 'sent', new.status = 'failed'
    FROM images i WHERE i.id = new.image_id;
    UPDATE images SET delivered_at = new.updated_at WHERE id = new.image_id AND new.status = 'sent' AND delivered_at IS NULL;
END;

DROP TRIGGER usage_delivery_changed;
CREATE TRIGGER usage_delivery_changed AFTER UPDATE OF status, updated_at ON deliveries
WHEN old.status IN ('sent', 'failed') OR new.status IN ('sent', 'failed')
BEGIN
    INSERT INTO usage_deltas (project_id, env, day, deliveries_sent, deliveries_failed)
    SELECT i.project_id, i.env, date(old.updated_at / 1000, 'unixepoch'), -(old.status = 'sent'), -(old.status = 'failed')
    FROM images i WHERE i.id = old.image_id AND old.status IN ('sent', 'failed');
    INSERT INTO usage_deltas (project_id, env, day, deliveries_sent, deliveries_failed)
    SELECT i.project_id, i.env, date(new.updated_at / 1000, 'unixepoch'), new.status = 'sent', new.status = 'failed'
    FROM images i WHERE i.id = new.image_id AND new.status IN ('sent', 'failed');
    INSERT INTO usage_deltas (project_id, env, day, destination_id, deliveries_sent, deliveries_failed)
    SELECT i.project_id, i.env, date(i.created_at / 1000, 'unixepoch'), new.destination_id,
        (new.status = 'sent') - (old.status = 'sent'), (new.status = 'failed') - (old.status = 'failed')
    FROM images i WHERE i.id = new.image_id AND old.status <> new.status;
    UPDATE images SET delivered_at = new.updated_at WHERE id = new.image_id AND new.status = 'sent' AND delivered_at IS NULL;
END;

-- The uploads history and an event webhook's deliveries (the API's numbered lists, Hosting/OffsetPage.cs): their tie-breaker
-- inside the index, as for sessions and deliveries in 0014, so a page is read from either end of it without a sort.
DROP INDEX ix_images_project_created;
CREATE INDEX ix_images_project_created ON images(project_id, created_at, id);
DROP INDEX ix_webhook_deliveries_webhook;
CREATE INDEX ix_webhook_deliveries_webhook ON webhook_deliveries(webhook_id, created_at, id);
