-- Erasure (docs/api.md "Upload sessions", "Delete"): a session deleted on demand, and images whose bytes are gone from the image
-- store, with why (PostgreSQL). The rows stay so the delivery log can show what was deleted.
-- bytes_deleted_reason: 'session_deleted' (DELETE of the session) or 'retention' (the retention sweep).
ALTER TABLE sessions ADD COLUMN deleted_at timestamptz NULL;
ALTER TABLE images ADD COLUMN bytes_deleted_at timestamptz NULL;
ALTER TABLE images ADD COLUMN bytes_deleted_reason text NULL;
