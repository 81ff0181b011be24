-- Event webhooks: the once-only marker of project.session.expired (PostgreSQL).
ALTER TABLE sessions ADD COLUMN expired_announced_at timestamptz NULL;
-- Sessions that expired before this version are not announced after the upgrade.
UPDATE sessions SET expired_announced_at = expires_at WHERE expires_at <= now();
CREATE INDEX ix_sessions_expiry_unannounced ON sessions(expires_at) WHERE expired_announced_at IS NULL;
