-- Apertur schema v1 (SQLite). Times are INTEGER unix milliseconds (UTC); ids are TEXT UUIDs; lists are JSON TEXT.
CREATE TABLE projects (
    id TEXT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    webhook_secret TEXT NULL,
    notification_email TEXT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id TEXT NOT NULL PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    env TEXT NOT NULL,
    prefix TEXT NOT NULL,
    key_hash BLOB NOT NULL UNIQUE,
    label TEXT NOT NULL,
    is_active INTEGER NOT NULL,
    last_used_at INTEGER NULL,
    max_images INTEGER NULL,
    allowed_mime_types TEXT NOT NULL,
    max_image_dimension INTEGER NULL,
    long_polling_enabled INTEGER NOT NULL,
    default_destinations TEXT NOT NULL,
    allowed_ips TEXT NOT NULL,
    allowed_domains TEXT NOT NULL,
    signing_secret TEXT NULL,
    signing_required INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX ix_api_keys_project ON api_keys(project_id);

CREATE TABLE destinations (
    id TEXT NOT NULL PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    name TEXT NOT NULL,
    config TEXT NOT NULL,
    is_active INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX ix_destinations_project ON destinations(project_id);

CREATE TABLE sessions (
    id TEXT NOT NULL PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    api_key_id TEXT NULL,
    env TEXT NOT NULL,
    status TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    max_images INTEGER NOT NULL,
    allowed_mime_types TEXT NOT NULL,
    max_image_dimension INTEGER NULL,
    max_image_bytes INTEGER NOT NULL,
    password_hash TEXT NULL,
    tags TEXT NOT NULL,
    metadata TEXT NULL,
    label TEXT NULL,
    long_polling INTEGER NOT NULL,
    image_count INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    last_changed_at INTEGER NOT NULL
);
CREATE INDEX ix_sessions_project_created ON sessions(project_id, created_at);

CREATE TABLE session_destinations (
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    destination_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (session_id, destination_id)
);

CREATE TABLE images (
    id TEXT NOT NULL PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    project_id TEXT NOT NULL,
    env TEXT NOT NULL,
    image_index INTEGER NOT NULL,
    filename TEXT NOT NULL,
    mime_type TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    source TEXT NOT NULL,
    is_encrypted INTEGER NOT NULL,
    acknowledged_at INTEGER NULL,
    in_poll_queue INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX ix_images_session ON images(session_id, image_index);
CREATE INDEX ix_images_project_created ON images(project_id, created_at);

CREATE TABLE deliveries (
    id TEXT NOT NULL PRIMARY KEY,
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    session_id TEXT NOT NULL,
    destination_id TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    last_error TEXT NULL,
    next_attempt_at INTEGER NOT NULL,
    lease_token TEXT NULL,
    lease_expires_at INTEGER NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX ix_deliveries_due ON deliveries(status, next_attempt_at);
CREATE INDEX ix_deliveries_image ON deliveries(image_id);
CREATE INDEX ix_deliveries_session ON deliveries(session_id);

CREATE TABLE server_keys (
    id TEXT NOT NULL PRIMARY KEY,
    public_key_pem TEXT NOT NULL,
    protected_private_key TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE data_protection_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    friendly_name TEXT NULL,
    xml TEXT NOT NULL
);
