-- Usage kept as it happens (SQLite; docs/performance.md "Usage aggregates"). usage_days and usage_destination_days held the
-- usage of purged records only; from here on they hold all of it, maintained by the triggers below in the transaction of
-- every row change they count, whatever code made it. The stats (Stats/UsageStats.cs) read only them, so their cost does
-- not grow with the number of images. Rows are never taken out on DELETE: the record purge removes records, not usage.
--   sessions            +1 on the day a session is created
--   images_uploaded     +1 on the day an image is uploaded
--   images_delivered    +1 on the upload day of an image when it first reaches a destination or is acknowledged (delivered_at)
--   deliveries_sent/failed  the deliveries whose status is sent/failed, on the day of their last update; a change of status
--                       or of updated_at takes the old state out and puts the new one in (a retried failure leaves "failed")
--   usage_destination_days  the same per destination, on the upload day of the delivery's image

-- When the image first reached a destination (its first delivery sent) or was acknowledged by a long-polling client: set once,
-- guarded by "IS NULL", so an image counts once as delivered however many of its deliveries are sent.
ALTER TABLE images ADD COLUMN delivered_at INTEGER NULL;

-- The project of a delivery, for the delivery log's index (Deliveries/DeliveryLog.cs); set by UploadCommitter.
ALTER TABLE deliveries ADD COLUMN project_id TEXT NOT NULL DEFAULT '';

-- Back-fill, before the triggers exist (SQLite: this runs under the one writer, nothing changes meanwhile).
UPDATE deliveries SET project_id = (SELECT i.project_id FROM images i WHERE i.id = deliveries.image_id);
UPDATE images SET delivered_at = (
    SELECT MIN(t) FROM (
        SELECT images.acknowledged_at AS t
        UNION ALL
        SELECT d.updated_at FROM deliveries d WHERE d.image_id = images.id AND d.status = 'sent'));

INSERT INTO usage_days (project_id, env, day, sessions, images_uploaded, images_delivered, deliveries_sent, deliveries_failed)
SELECT project_id, env, day, SUM(sessions), SUM(images_uploaded), SUM(images_delivered), SUM(deliveries_sent), SUM(deliveries_failed)
FROM (
    SELECT project_id, env, date(created_at / 1000, 'unixepoch') AS day, 1 AS sessions, 0 AS images_uploaded, 0 AS images_delivered,
        0 AS deliveries_sent, 0 AS deliveries_failed
    FROM sessions
    UNION ALL
    SELECT project_id, env, date(created_at / 1000, 'unixepoch'), 0, 1, delivered_at IS NOT NULL, 0, 0
    FROM images
    UNION ALL
    SELECT i.project_id, i.env, date(d.updated_at / 1000, 'unixepoch'), 0, 0, 0, d.status = 'sent', d.status = 'failed'
    FROM deliveries d JOIN images i ON i.id = d.image_id
    WHERE d.status IN ('sent', 'failed'))
WHERE true
GROUP BY project_id, env, day
ON CONFLICT (project_id, env, day) DO UPDATE SET
    sessions = sessions + excluded.sessions,
    images_uploaded = images_uploaded + excluded.images_uploaded,
    images_delivered = images_delivered + excluded.images_delivered,
    deliveries_sent = deliveries_sent + excluded.deliveries_sent,
    deliveries_failed = deliveries_failed + excluded.deliveries_failed;

INSERT INTO usage_destination_days (project_id, env, day, destination_id, deliveries_sent, deliveries_failed)
SELECT i.project_id, i.env, date(i.created_at / 1000, 'unixepoch'), d.destination_id, SUM(d.status = 'sent'), SUM(d.status = 'failed')
FROM deliveries d JOIN images i ON i.id = d.image_id
WHERE d.status IN ('sent', 'failed')
GROUP BY i.project_id, i.env, date(i.created_at / 1000, 'unixepoch'), d.destination_id
ON CONFLICT (project_id, env, day, destination_id) DO UPDATE SET
    deliveries_sent = deliveries_sent + excluded.deliveries_sent,
    deliveries_failed = deliveries_failed + excluded.deliveries_failed;

-- The triggers. SQLite fires each for every row, in the statement's transaction.
CREATE TRIGGER usage_session_created AFTER INSERT ON sessions
BEGIN
    INSERT INTO usage_days (project_id, env, day, sessions, images_uploaded, images_delivered, deliveries_sent, deliveries_failed)
    VALUES (new.project_id, new.env, date(new.created_at / 1000, 'unixepoch'), 1, 0, 0, 0, 0)
    ON CONFLICT (project_id, env, day) DO UPDATE SET sessions = sessions + 1;
END;

CREATE TRIGGER usage_image_uploaded AFTER INSERT ON images
BEGIN
    INSERT INTO usage_days (project_id, env, day, sessions, images_uploaded, images_delivered, deliveries_sent, deliveries_failed)
    VALUES (new.project_id, new.env, date(new.created_at / 1000, 'unixepoch'), 0, 1, new.delivered_at IS NOT NULL, 0, 0)
    ON CONFLICT (project_id, env, day) DO UPDATE SET
        images_uploaded = images_uploaded + 1,
        images_delivered = images_delivered + excluded.images_delivered;
END;

-- An acknowledgement delivers the image (when no destination did before).
CREATE TRIGGER image_acknowledged AFTER UPDATE OF acknowledged_at ON images
WHEN new.acknowledged_at IS NOT NULL AND new.delivered_at IS NULL
BEGIN
    UPDATE images SET delivered_at = new.acknowledged_at WHERE id = new.id AND delivered_at IS NULL;
END;

CREATE TRIGGER usage_image_delivered AFTER UPDATE OF delivered_at ON images
WHEN (old.delivered_at IS NULL) <> (new.delivered_at IS NULL)
BEGIN
    INSERT INTO usage_days (project_id, env, day, sessions, images_uploaded, images_delivered, deliveries_sent, deliveries_failed)
    VALUES (new.project_id, new.env, date(new.created_at / 1000, 'unixepoch'), 0, 0, CASE WHEN new.delivered_at IS NULL THEN -1 ELSE 1 END, 0, 0)
    ON CONFLICT (project_id, env, day) DO UPDATE SET images_delivered = images_delivered + excluded.images_delivered;
END;

-- A delivery's finished state: taken out as it was (old), put in as it is (new).
CREATE TRIGGER usage_delivery_inserted AFTER INSERT ON deliveries
WHEN new.status IN ('sent', 'failed')
BEGIN
    INSERT INTO usage_days (project_id, env, day, sessions, images_uploaded, images_delivered, deliveries_sent, deliveries_failed)
    SELECT i.project_id, i.env, date(new.updated_at / 1000, 'unixepoch'), 0, 0, 0, new.status = 'sent', new.status = 'failed'
    FROM images i WHERE i.id = new.image_id
    ON CONFLICT (project_id, env, day) DO UPDATE SET
        deliveries_sent = deliveries_sent + excluded.deliveries_sent,
        deliveries_failed = deliveries_failed + excluded.deliveries_failed;
    INSERT INTO usage_destination_days (project_id, env, day, destination_id, deliveries_sent, deliveries_failed)
    SELECT i.project_id, i.env, date(i.created_at / 1000, 'unixepoch'), new.destination_id, new.status = 'sent', new.status = 'failed'
    FROM images i WHERE i.id = new.image_id
    ON CONFLICT (project_id, env, day, destination_id) DO UPDATE SET
        deliveries_sent = deliveries_sent + excluded.deliveries_sent,
        deliveries_failed = deliveries_failed + excluded.deliveries_failed;
    UPDATE images SET delivered_at = new.updated_at WHERE id = new.image_id AND new.status = 'sent' AND delivered_at IS NULL;
END;

CREATE TRIGGER usage_delivery_changed AFTER UPDATE OF status, updated_at ON deliveries
WHEN old.status IN ('sent', 'failed') OR new.status IN ('sent', 'failed')
BEGIN
    INSERT INTO usage_days (project_id, env, day, sessions, images_uploaded, images_delivered, deliveries_sent, deliveries_failed)
    SELECT i.project_id, i.env, date(old.updated_at / 1000, 'unixepoch'), 0, 0, 0, -(old.status = 'sent'), -(old.status = 'failed')
    FROM images i WHERE i.id = old.image_id AND old.status IN ('sent', 'failed')
    ON CONFLICT (project_id, env, day) DO UPDATE SET
        deliveries_sent = deliveries_sent + excluded.deliveries_sent,
        deliveries_failed = deliveries_failed + excluded.deliveries_failed;
    INSERT INTO usage_days (project_id, env, day, sessions, images_uploaded, images_delivered, deliveries_sent, deliveries_failed)
    SELECT i.project_id, i.env, date(new.updated_at / 1000, 'unixepoch'), 0, 0, 0, new.status = 'sent', new.status = 'failed'
    FROM images i WHERE i.id = new.image_id AND new.status IN ('sent', 'failed')
    ON CONFLICT (project_id, env, day) DO UPDATE SET
        deliveries_sent = deliveries_sent + excluded.deliveries_sent,
        deliveries_failed = deliveries_failed + excluded.deliveries_failed;
    INSERT INTO usage_destination_days (project_id, env, day, destination_id, deliveries_sent, deliveries_failed)
    SELECT i.project_id, i.env, date(i.created_at / 1000, 'unixepoch'), new.destination_id,
        (new.status = 'sent') - (old.status = 'sent'), (new.status = 'failed') - (old.status = 'failed')
    FROM images i WHERE i.id = new.image_id AND old.status <> new.status
    ON CONFLICT (project_id, env, day, destination_id) DO UPDATE SET
        deliveries_sent = deliveries_sent + excluded.deliveries_sent,
        deliveries_failed = deliveries_failed + excluded.deliveries_failed;
    UPDATE images SET delivered_at = new.updated_at WHERE id = new.image_id AND new.status = 'sent' AND delivered_at IS NULL;
END;

-- The stats read these by project and environment.
-- The delivery log: a project's deliveries newest first (Deliveries/DeliveryLog.cs; docs/performance.md).
CREATE INDEX ix_deliveries_project_created ON deliveries(project_id, created_at, id);
-- The sessions list: newest first with its tie-breaker inside the index.
DROP INDEX ix_sessions_project_created;
CREATE INDEX ix_sessions_project_created ON sessions(project_id, created_at, id);
