-- Usage counted insert-only (PostgreSQL; docs/performance.md "Usage aggregates"). The triggers of 0014 upserted usage_days and
-- usage_destination_days at commit: every commit of a project's day waited on one row, and two commits touching two of the
-- same rows in opposite order (a batch spanning projects, midnight, per-destination rows of different upload days)
-- deadlocked. From here on the triggers only INSERT a delta row into usage_deltas: no shared row is locked, so nothing waits
-- and nothing can deadlock on usage. The usage roll-up (Stats/UsageRollup.cs, every Apertur:Usage:RollupInterval and at
-- start) moves the deltas into the day rows in one transaction: DELETE … RETURNING, grouped, upserted; the stats
-- (Stats/UsageStats.cs) read the day rows plus the deltas not yet moved, in one statement, so they are exact at once.
-- The triggers are no longer deferred: a plain insert takes its locks (the project's key-share lock, which the inserted
-- session, image or delivery takes anyway) in any order without harm, and an error shows at the statement, not at commit.

-- Writers wait until this migration commits: every transaction is counted either by the old triggers (in usage_days,
-- committed before) or by the new ones (in usage_deltas), never both.
LOCK TABLE sessions, images, deliveries IN SHARE ROW EXCLUSIVE MODE;

-- destination_id null: a delta of usage_days; set: a delta of usage_destination_days (deliveries_sent/failed only).
CREATE TABLE usage_deltas (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    env text NOT NULL,
    day date NOT NULL,
    destination_id uuid NULL,
    sessions integer NOT NULL DEFAULT 0,
    images_uploaded integer NOT NULL DEFAULT 0,
    images_delivered integer NOT NULL DEFAULT 0,
    deliveries_sent integer NOT NULL DEFAULT 0,
    deliveries_failed integer NOT NULL DEFAULT 0
);
-- The stats add the deltas of one project and environment (and days) to the day rows.
CREATE INDEX ix_usage_deltas_project ON usage_deltas(project_id, env, day);

CREATE OR REPLACE FUNCTION usage_add(p_project uuid, p_env text, p_day date, p_sessions int, p_uploaded int, p_delivered int, p_sent int, p_failed int)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO usage_deltas (project_id, env, day, sessions, images_uploaded, images_delivered, deliveries_sent, deliveries_failed)
    VALUES (p_project, p_env, p_day, p_sessions, p_uploaded, p_delivered, p_sent, p_failed);
$$;

CREATE OR REPLACE FUNCTION usage_delivery_changed() RETURNS trigger LANGUAGE plpgsql AS $$
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
        INSERT INTO usage_deltas (project_id, env, day, destination_id, deliveries_sent, deliveries_failed)
        VALUES (img.project_id, img.env, (img.created_at AT TIME ZONE 'UTC')::date, NEW.destination_id, new_sent - old_sent, new_failed - old_failed);
    END IF;
    RETURN NULL;
END $$;

-- The same triggers, fired at the end of each statement instead of at commit.
DROP TRIGGER usage_session_created ON sessions;
CREATE TRIGGER usage_session_created AFTER INSERT ON sessions
    FOR EACH ROW EXECUTE FUNCTION usage_session_created();
DROP TRIGGER usage_image_uploaded ON images;
CREATE TRIGGER usage_image_uploaded AFTER INSERT ON images
    FOR EACH ROW EXECUTE FUNCTION usage_image_changed();
DROP TRIGGER usage_image_delivered ON images;
CREATE TRIGGER usage_image_delivered AFTER UPDATE ON images
    FOR EACH ROW WHEN ((OLD.delivered_at IS NULL) <> (NEW.delivered_at IS NULL)) EXECUTE FUNCTION usage_image_changed();
DROP TRIGGER usage_delivery_inserted ON deliveries;
CREATE TRIGGER usage_delivery_inserted AFTER INSERT ON deliveries
    FOR EACH ROW WHEN (NEW.status IN ('sent', 'failed')) EXECUTE FUNCTION usage_delivery_changed();
DROP TRIGGER usage_delivery_changed ON deliveries;
CREATE TRIGGER usage_delivery_changed AFTER UPDATE OF status, updated_at ON deliveries
    FOR EACH ROW WHEN (OLD.status IN ('sent', 'failed') OR NEW.status IN ('sent', 'failed')) EXECUTE FUNCTION usage_delivery_changed();

-- The uploads history and an event webhook's deliveries (the API's numbered lists, Hosting/OffsetPage.cs): their tie-breaker
-- inside the index, as for sessions and deliveries in 0014, so a page is read from either end of it without a sort.
DROP INDEX ix_images_project_created;
CREATE INDEX ix_images_project_created ON images(project_id, created_at, id);
DROP INDEX ix_webhook_deliveries_webhook;
CREATE INDEX ix_webhook_deliveries_webhook ON webhook_deliveries(webhook_id, created_at, id);
