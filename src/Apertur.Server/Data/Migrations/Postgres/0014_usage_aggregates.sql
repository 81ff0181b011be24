-- Usage kept as it happens (PostgreSQL; docs/performance.md "Usage aggregates"). usage_days and usage_destination_days held the
-- usage of purged records only; from here on they hold all of it, maintained by the triggers below in the transaction of
-- every row change they count, whatever code made it. The stats (Stats/UsageStats.cs) read only them, so their cost does
-- not grow with the number of images. Nothing is taken out on DELETE: the record purge removes records, not usage.
--   sessions            +1 on the day a session is created
--   images_uploaded     +1 on the day an image is uploaded
--   images_delivered    +1 on the upload day of an image when it first reaches a destination or is acknowledged (delivered_at)
--   deliveries_sent/failed  the deliveries whose status is sent/failed, on the day of their last update; a change of status
--                       or of updated_at takes the old state out and puts the new one in (a retried failure leaves "failed")
--   usage_destination_days  the same per destination, on the upload day of the delivery's image
-- The counting triggers are deferred to the commit: every transaction then takes the lock of a usage row last and holds it only
-- while it commits (uploads lock their session row, the delivery recorder its deliveries and sessions: a usage row taken in
-- between would make them wait on each other in a circle).

-- Writers wait until this migration commits: the back-fill counts every row once, before the triggers count the next ones.
LOCK TABLE sessions, images, deliveries IN SHARE ROW EXCLUSIVE MODE;

-- When the image first reached a destination (its first delivery sent) or was acknowledged by a long-polling client: set once,
-- guarded by "IS NULL" under the image's row lock, so an image counts once as delivered however many of its deliveries are sent,
-- even by transactions that commit at the same time.
ALTER TABLE images ADD COLUMN delivered_at timestamptz NULL;

-- The project of a delivery, for the delivery log's index (Deliveries/DeliveryLog.cs); set by UploadCommitter.
ALTER TABLE deliveries ADD COLUMN project_id uuid NULL;
UPDATE deliveries d SET project_id = i.project_id FROM images i WHERE i.id = d.image_id;
ALTER TABLE deliveries ALTER COLUMN project_id SET NOT NULL;

UPDATE images i SET delivered_at = LEAST(i.acknowledged_at,
    (SELECT MIN(d.updated_at) FROM deliveries d WHERE d.image_id = i.id AND d.status = 'sent'));

CREATE FUNCTION usage_add(p_project uuid, p_env text, p_day date, p_sessions int, p_uploaded int, p_delivered int, p_sent int, p_failed int)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO usage_days (project_id, env, day, sessions, images_uploaded, images_delivered, deliveries_sent, deliveries_failed)
    VALUES (p_project, p_env, p_day, p_sessions, p_uploaded, p_delivered, p_sent, p_failed)
    ON CONFLICT (project_id, env, day) DO UPDATE SET
        sessions = usage_days.sessions + excluded.sessions,
        images_uploaded = usage_days.images_uploaded + excluded.images_uploaded,
        images_delivered = usage_days.images_delivered + excluded.images_delivered,
        deliveries_sent = usage_days.deliveries_sent + excluded.deliveries_sent,
        deliveries_failed = usage_days.deliveries_failed + excluded.deliveries_failed;
$$;

SELECT usage_add(project_id, env, day, SUM(sessions)::int, SUM(images_uploaded)::int, SUM(images_delivered)::int,
    SUM(deliveries_sent)::int, SUM(deliveries_failed)::int)
FROM (
    SELECT project_id, env, (created_at AT TIME ZONE 'UTC')::date AS day, 1 AS sessions, 0 AS images_uploaded, 0 AS images_delivered,
        0 AS deliveries_sent, 0 AS deliveries_failed
    FROM sessions
    UNION ALL
    SELECT project_id, env, (created_at AT TIME ZONE 'UTC')::date, 0, 1, (delivered_at IS NOT NULL)::int, 0, 0
    FROM images
    UNION ALL
    SELECT i.project_id, i.env, (d.updated_at AT TIME ZONE 'UTC')::date, 0, 0, 0, (d.status = 'sent')::int, (d.status = 'failed')::int
    FROM deliveries d JOIN images i ON i.id = d.image_id
    WHERE d.status IN ('sent', 'failed')) live
GROUP BY project_id, env, day;

INSERT INTO usage_destination_days (project_id, env, day, destination_id, deliveries_sent, deliveries_failed)
SELECT i.project_id, i.env, (i.created_at AT TIME ZONE 'UTC')::date, d.destination_id,
    SUM((d.status = 'sent')::int), SUM((d.status = 'failed')::int)
FROM deliveries d JOIN images i ON i.id = d.image_id
WHERE d.status IN ('sent', 'failed')
GROUP BY 1, 2, 3, 4
ON CONFLICT (project_id, env, day, destination_id) DO UPDATE SET
    deliveries_sent = usage_destination_days.deliveries_sent + excluded.deliveries_sent,
    deliveries_failed = usage_destination_days.deliveries_failed + excluded.deliveries_failed;

CREATE FUNCTION usage_session_created() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM usage_add(NEW.project_id, NEW.env, (NEW.created_at AT TIME ZONE 'UTC')::date, 1, 0, 0, 0, 0);
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER usage_session_created AFTER INSERT ON sessions DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION usage_session_created();

CREATE FUNCTION usage_image_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM usage_add(NEW.project_id, NEW.env, (NEW.created_at AT TIME ZONE 'UTC')::date, 0, 1, (NEW.delivered_at IS NOT NULL)::int, 0, 0);
    ELSE
        PERFORM usage_add(NEW.project_id, NEW.env, (NEW.created_at AT TIME ZONE 'UTC')::date, 0, 0,
            (NEW.delivered_at IS NOT NULL)::int - (OLD.delivered_at IS NOT NULL)::int, 0, 0);
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER usage_image_uploaded AFTER INSERT ON images DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION usage_image_changed();
CREATE CONSTRAINT TRIGGER usage_image_delivered AFTER UPDATE ON images DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN ((OLD.delivered_at IS NULL) <> (NEW.delivered_at IS NULL)) EXECUTE FUNCTION usage_image_changed();

-- An acknowledgement delivers the image (when no destination did before).
CREATE FUNCTION image_acknowledged() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.delivered_at := NEW.acknowledged_at;
    RETURN NEW;
END $$;
CREATE TRIGGER image_acknowledged BEFORE UPDATE OF acknowledged_at ON images
    FOR EACH ROW WHEN (NEW.acknowledged_at IS NOT NULL AND NEW.delivered_at IS NULL) EXECUTE FUNCTION image_acknowledged();

-- A sent delivery delivers its image, at once (the image's row lock, taken after the delivery's: the order of DeliveryRecorder).
CREATE FUNCTION delivery_delivers_image() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE images SET delivered_at = NEW.updated_at WHERE id = NEW.image_id AND delivered_at IS NULL;
    RETURN NULL;
END $$;
CREATE TRIGGER delivery_inserted_sent AFTER INSERT ON deliveries
    FOR EACH ROW WHEN (NEW.status = 'sent') EXECUTE FUNCTION delivery_delivers_image();
CREATE TRIGGER delivery_became_sent AFTER UPDATE OF status ON deliveries
    FOR EACH ROW WHEN (NEW.status = 'sent' AND OLD.status <> 'sent') EXECUTE FUNCTION delivery_delivers_image();

-- A delivery's finished state: taken out as it was (OLD), put in as it is (NEW).
CREATE FUNCTION usage_delivery_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    img record;
    old_sent int := 0;
    old_failed int := 0;
    new_sent int := (NEW.status = 'sent')::int;
    new_failed int := (NEW.status = 'failed')::int;
BEGIN
    SELECT project_id, env, created_at INTO img FROM images WHERE id = NEW.image_id;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        old_sent := (OLD.status = 'sent')::int;
        old_failed := (OLD.status = 'failed')::int;
        IF old_sent + old_failed > 0 THEN
            PERFORM usage_add(img.project_id, img.env, (OLD.updated_at AT TIME ZONE 'UTC')::date, 0, 0, 0, -old_sent, -old_failed);
        END IF;
    END IF;
    IF new_sent + new_failed > 0 THEN
        PERFORM usage_add(img.project_id, img.env, (NEW.updated_at AT TIME ZONE 'UTC')::date, 0, 0, 0, new_sent, new_failed);
    END IF;
    IF new_sent <> old_sent OR new_failed <> old_failed THEN
        INSERT INTO usage_destination_days (project_id, env, day, destination_id, deliveries_sent, deliveries_failed)
        VALUES (img.project_id, img.env, (img.created_at AT TIME ZONE 'UTC')::date, NEW.destination_id, new_sent - old_sent, new_failed - old_failed)
        ON CONFLICT (project_id, env, day, destination_id) DO UPDATE SET
            deliveries_sent = usage_destination_days.deliveries_sent + excluded.deliveries_sent,
            deliveries_failed = usage_destination_days.deliveries_failed + excluded.deliveries_failed;
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER usage_delivery_inserted AFTER INSERT ON deliveries DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.status IN ('sent', 'failed')) EXECUTE FUNCTION usage_delivery_changed();
CREATE CONSTRAINT TRIGGER usage_delivery_changed AFTER UPDATE OF status, updated_at ON deliveries DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (OLD.status IN ('sent', 'failed') OR NEW.status IN ('sent', 'failed')) EXECUTE FUNCTION usage_delivery_changed();

-- The delivery log: a project's deliveries newest first (Deliveries/DeliveryLog.cs; docs/performance.md).
CREATE INDEX ix_deliveries_project_created ON deliveries(project_id, created_at, id);
-- The sessions list: newest first with its tie-breaker inside the index.
DROP INDEX ix_sessions_project_created;
CREATE INDEX ix_sessions_project_created ON sessions(project_id, created_at, id);
