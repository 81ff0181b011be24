-- Idempotent uploads (PostgreSQL): the client's Idempotency-Key and the SHA-256 of the stored bytes, on the image row.
-- A key is unique per session, so a retry whose first answer was lost finds the image it already stored.
ALTER TABLE images ADD COLUMN idempotency_key text NULL;
ALTER TABLE images ADD COLUMN content_sha256 bytea NULL;
CREATE UNIQUE INDEX ux_images_session_idempotency_key ON images(session_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
