-- The dashboard (PostgreSQL): operator accounts, project membership with roles, project settings the dashboard edits.
CREATE TABLE dashboard_users (
    id uuid NOT NULL PRIMARY KEY,
    username text NOT NULL,
    password_hash text NOT NULL,
    is_admin boolean NOT NULL,
    must_change_password boolean NOT NULL,
    failed_logins integer NOT NULL,
    locked_until timestamptz NULL,
    security_stamp text NOT NULL,
    last_login_at timestamptz NULL,
    created_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX ux_dashboard_users_username ON dashboard_users(username);

CREATE TABLE project_members (
    project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES dashboard_users(id) ON DELETE CASCADE,
    role text NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (project_id, user_id)
);
CREATE INDEX ix_project_members_user ON project_members(user_id);

-- Per-project overrides of server settings; NULL means "the server's setting".
ALTER TABLE projects ADD COLUMN retry_window_minutes integer NULL;
ALTER TABLE projects ADD COLUMN default_max_images integer NULL;
ALTER TABLE projects ADD COLUMN default_expiry_minutes integer NULL;
ALTER TABLE projects ADD COLUMN default_max_image_size_mb integer NULL;

-- The delivery log filters by destination.
CREATE INDEX ix_deliveries_destination ON deliveries(destination_id, created_at);
