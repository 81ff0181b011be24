-- Cloud drive destinations (Google Drive, Dropbox, OneDrive): each connected destination's OAuth grant, and the
-- server-side state of connect flows in progress, so any replica can complete a callback (PostgreSQL).
-- Tokens and PKCE verifiers are stored encrypted with Data Protection; state is stored as its SHA-256 only.
CREATE TABLE oauth_connections (
    destination_id uuid NOT NULL PRIMARY KEY REFERENCES destinations(id) ON DELETE CASCADE,
    project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    provider text NOT NULL,
    status text NOT NULL,
    generation bigint NOT NULL,
    refresh_token text NOT NULL,
    access_token text NULL,
    access_expires_at timestamptz NULL,
    scope text NULL,
    account_name text NULL,
    last_error text NULL,
    connected_at timestamptz NOT NULL,
    refreshed_at timestamptz NULL,
    needs_reconnect_at timestamptz NULL,
    reconnect_notified_at timestamptz NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX ix_oauth_connections_notice ON oauth_connections(status, reconnect_notified_at);

CREATE TABLE oauth_states (
    id uuid NOT NULL PRIMARY KEY,
    state_hash bytea NOT NULL UNIQUE,
    project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    destination_id uuid NOT NULL REFERENCES destinations(id) ON DELETE CASCADE,
    provider text NOT NULL,
    code_verifier text NOT NULL,
    redirect_uri text NOT NULL,
    return_url text NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at timestamptz NULL
);
CREATE INDEX ix_oauth_states_expires ON oauth_states(expires_at);
