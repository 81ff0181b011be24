-- The dashboard (SQLite): operator accounts, project membership with roles, project settings the dashboard edits.
CREATE TABLE dashboard_users (
    id TEXT NOT NULL PRIMARY KEY,
    username TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    is_admin INTEGER NOT NULL,
    must_change_password INTEGER NOT NULL,
    failed_logins INTEGER NOT NULL,
    locked_until INTEGER NULL,
    security_stamp TEXT NOT NULL,
    last_login_at INTEGER NULL,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX ux_dashboard_users_username ON dashboard_users(username);

CREATE TABLE project_members (
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES dashboard_users(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, user_id)
);
CREATE INDEX ix_project_members_user ON project_members(user_id);

-- Per-project overrides of server settings; NULL means "the server's setting".
ALTER TABLE projects ADD COLUMN retry_window_minutes INTEGER NULL;
ALTER TABLE projects ADD COLUMN default_max_images INTEGER NULL;
ALTER TABLE projects ADD COLUMN default_expiry_minutes INTEGER NULL;
ALTER TABLE projects ADD COLUMN default_max_image_size_mb INTEGER NULL;

-- The delivery log filters by destination.
CREATE INDEX ix_deliveries_destination ON deliveries(destination_id, created_at);
