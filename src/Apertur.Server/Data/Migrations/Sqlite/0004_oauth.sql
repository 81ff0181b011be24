-- Cloud drive destinations (Google Drive, Dropbox, OneDrive): each connected destination's OAuth grant, and the
-- server-side state of connect flows in progress, so any replica can complete a callback (SQLite; times are unix ms).
-- Tokens and PKCE verifiers are stored encrypted with Data Protection; state is stored as its SHA-256 only.
CREATE TABLE oauth_connections (
    destination_id TEXT NOT NULL PRIMARY KEY REFERENCES destinations(id) ON DELETE CASCADE,
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    status TEXT NOT NULL,
    generation INTEGER NOT NULL,
    refresh_token TEXT NOT NULL,
    access_token TEXT NULL,
    access_expires_at INTEGER NULL,
    scope TEXT NULL,
    account_name TEXT NULL,
    last_error TEXT NULL,
    connected_at INTEGER NOT NULL,
    refreshed_at INTEGER NULL,
    needs_reconnect_at INTEGER NULL,
    reconnect_notified_at INTEGER NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX ix_oauth_connections_notice ON oauth_connections(status, reconnect_notified_at);

CREATE TABLE oauth_states (
    id TEXT NOT NULL PRIMARY KEY,
    state_hash BLOB NOT NULL UNIQUE,
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    destination_id TEXT NOT NULL REFERENCES destinations(id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    code_verifier TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    return_url TEXT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER NULL
);
CREATE INDEX ix_oauth_states_expires ON oauth_states(expires_at);
