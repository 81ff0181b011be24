-- Delivery engine, webhook secret rotation and event webhooks (PostgreSQL).
ALTER TABLE projects ADD COLUMN previous_webhook_secret text NULL;
ALTER TABLE projects ADD COLUMN previous_webhook_secret_expires_at timestamptz NULL;

ALTER TABLE deliveries ADD COLUMN first_attempt_at timestamptz NULL;
ALTER TABLE deliveries ADD COLUMN remote_ref text NULL;
ALTER TABLE deliveries ADD COLUMN last_status_code integer NULL;
ALTER TABLE deliveries ADD COLUMN notified_at timestamptz NULL;

CREATE TABLE delivery_attempts (
    id uuid NOT NULL PRIMARY KEY,
    delivery_id uuid NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
    attempt integer NOT NULL,
    started_at timestamptz NOT NULL,
    duration_ms integer NOT NULL,
    outcome text NOT NULL,
    status_code integer NULL,
    response_snippet text NULL,
    error text NULL
);
CREATE INDEX ix_delivery_attempts_delivery ON delivery_attempts(delivery_id, attempt);

CREATE TABLE event_webhooks (
    id uuid NOT NULL PRIMARY KEY,
    project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    url text NOT NULL,
    secret text NOT NULL,
    signature_method text NOT NULL,
    topics text NOT NULL,
    is_active boolean NOT NULL,
    max_retries integer NOT NULL,
    retry_intervals text NOT NULL,
    disable_after_failures integer NOT NULL,
    consecutive_failures integer NOT NULL,
    custom_headers text NOT NULL,
    disabled_at timestamptz NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX ix_event_webhooks_project ON event_webhooks(project_id);

CREATE TABLE event_logs (
    id uuid NOT NULL PRIMARY KEY,
    project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    topic text NOT NULL,
    env text NOT NULL,
    payload text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX ix_event_logs_project_created ON event_logs(project_id, created_at);

CREATE TABLE webhook_deliveries (
    id uuid NOT NULL PRIMARY KEY,
    webhook_id uuid NOT NULL REFERENCES event_webhooks(id) ON DELETE CASCADE,
    event_log_id uuid NOT NULL REFERENCES event_logs(id) ON DELETE CASCADE,
    topic text NOT NULL,
    status text NOT NULL,
    attempts integer NOT NULL,
    response_code integer NULL,
    response_body text NULL,
    duration_ms integer NOT NULL,
    last_error text NULL,
    next_retry_at timestamptz NULL,
    lease_token uuid NULL,
    lease_expires_at timestamptz NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX ix_webhook_deliveries_due ON webhook_deliveries(status, next_retry_at);
CREATE INDEX ix_webhook_deliveries_webhook ON webhook_deliveries(webhook_id, created_at);
