-- Incidents of the public status page (PostgreSQL; docs/operations.md "Status page"): posted and updated by a dashboard admin,
-- shown on /status for 90 days. state: investigating, identified, monitoring or resolved (the latest update's).
CREATE TABLE incidents (
    id uuid PRIMARY KEY,
    title text NOT NULL,
    state text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    resolved_at timestamptz NULL
);
CREATE INDEX ix_incidents_created ON incidents(created_at);

-- Each message posted on an incident, with the state it set.
CREATE TABLE incident_updates (
    id uuid PRIMARY KEY,
    incident_id uuid NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    state text NOT NULL,
    message text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX ix_incident_updates_incident ON incident_updates(incident_id, created_at);

-- The status page counts the attempts of the last 15 minutes and the event webhook deliveries updated in them.
CREATE INDEX ix_delivery_attempts_started ON delivery_attempts(started_at);
CREATE INDEX ix_webhook_deliveries_updated ON webhook_deliveries(updated_at);
