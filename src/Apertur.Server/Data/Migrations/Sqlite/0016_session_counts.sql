-- The sessions that exist, per project (SQLite; docs/performance.md "Sessions that exist"): the API's sessions list answers its
-- exact total (GET /api/v1/sessions, Sessions/SessionService.cs) without counting the project's rows, which grew with the
-- history. Kept like the usage (0015), insert-only: a trigger inserts a delta row of +1 for every session inserted and -1 for
-- every session deleted (the record purge; the erasure on demand keeps the row, so the list and its total keep it too); the
-- usage roll-up (Stats/UsageRollup.cs) moves the deltas into the project's row; the total is that row plus the deltas not
-- moved yet, in one statement. Not the usage's "sessions" (created per day), which a deletion never lowers. The migration
-- runs under the one writer: the back-fill counts every row once, the triggers the next ones.

CREATE TABLE session_counts (
    project_id TEXT NOT NULL PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
    sessions INTEGER NOT NULL
);

CREATE TABLE session_count_deltas (
    id INTEGER PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    sessions INTEGER NOT NULL
);
-- The total adds the deltas of one project to its row.
CREATE INDEX ix_session_count_deltas_project ON session_count_deltas(project_id);

INSERT INTO session_counts (project_id, sessions)
SELECT project_id, COUNT(*) FROM sessions GROUP BY project_id;

CREATE TRIGGER session_counted_insert AFTER INSERT ON sessions
BEGIN
    INSERT INTO session_count_deltas (project_id, sessions) VALUES (new.project_id, 1);
END;

-- A deletion cascading from its project's counts nothing: the project's row and deltas go with it (and a delta of a
-- project already deleted would break its foreign key).
CREATE TRIGGER session_counted_delete AFTER DELETE ON sessions
BEGIN
    INSERT INTO session_count_deltas (project_id, sessions)
    SELECT old.project_id, -1 WHERE EXISTS (SELECT 1 FROM projects WHERE id = old.project_id);
END;
