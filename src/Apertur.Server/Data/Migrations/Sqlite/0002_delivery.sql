-- Delivery engine, webhook secret rotation and event webhooks (SQLite).
ALTER TABLE projects ADD COLUMN previous_webhook_secret TEXT NULL;
ALTER TABLE projects ADD COLUMN previous_webhook_secret_expires_at INTEGER NULL;

ALTER TABLE deliveries ADD COLUMN first_attempt_at INTEGER NULL;
ALTER TABLE deliveries ADD COLUMN remote_ref TEXT NULL;
ALTER TABLE deliveries ADD COLUMN last_status_code INTEGER NULL;
ALTER TABLE deliveries ADD COLUMN notified_at INTEGER NULL;

CREATE TABLE delivery_attempts (
    id TEXT NOT NULL PRIMARY KEY,
    delivery_id TEXT NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
    attempt INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    status_code INTEGER NULL,
    response_snippet TEXT NULL,
    error TEXT NULL
);
CREATE INDEX ix_delivery_attempts_delivery ON delivery_attempts(delivery_id, attempt);

CREATE TABLE event_webhooks (
    id TEXT NOT NULL PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    signature_method TEXT NOT NULL,
    topics TEXT NOT NULL,
    is_active INTEGER NOT NULL,
    max_retries INTEGER NOT NULL,
    retry_intervals TEXT NOT NULL,
    disable_after_failures INTEGER NOT NULL,
    consecutive_failures INTEGER NOT NULL,
    custom_headers TEXT NOT NULL,
    disabled_at INTEGER NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX ix_event_webhooks_project ON event_webhooks(project_id);

CREATE TABLE event_logs (
    id TEXT NOT NULL PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    topic TEXT NOT NULL,
    env TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX ix_event_logs_project_created ON event_logs(project_id, created_at);

CREATE TABLE webhook_deliveries (
    id TEXT NOT NULL PRIMARY KEY,
    webhook_id TEXT NOT NULL REFERENCES event_webhooks(id) ON DELETE CASCADE,
    event_log_id TEXT NOT NULL REFERENCES event_logs(id) ON DELETE CASCADE,
    topic TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    response_code INTEGER NULL,
    response_body TEXT NULL,
    duration_ms INTEGER NOT NULL,
    last_error TEXT NULL,
    next_retry_at INTEGER NULL,
    lease_token TEXT NULL,
    lease_expires_at INTEGER NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX ix_webhook_deliveries_due ON webhook_deliveries(status, next_retry_at);
CREATE INDEX ix_webhook_deliveries_webhook ON webhook_deliveries(webhook_id, created_at);
