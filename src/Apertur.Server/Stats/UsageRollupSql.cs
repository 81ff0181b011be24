namespace Apertur.Server.Stats;

/// <summary>
/// The SQL of the usage roll-up (<see cref="UsageRollup"/>; docs/performance.md "Usage aggregates"), apart and without
/// dependencies so that bench/HistoryBench, which writes the tables directly, rolls up with the very same statements.
/// </summary>
public static class UsageRollupSql
{
    /// <summary>
    /// PostgreSQL, one statement: the deltas deleted, summed and added, the usage's to the day rows, the session count's to the
    /// projects' rows in session_counts (migration 0016); its one row is how many were moved.
    /// </summary>
    public const string PostgresMove = """
        WITH moved AS (
            DELETE FROM usage_deltas
            RETURNING project_id, env, day, destination_id, sessions, images_uploaded, images_delivered, deliveries_sent, deliveries_failed
        ), days AS (
            INSERT INTO usage_days (project_id, env, day, sessions, images_uploaded, images_delivered, deliveries_sent, deliveries_failed)
            SELECT project_id, env, day, SUM(sessions), SUM(images_uploaded), SUM(images_delivered), SUM(deliveries_sent), SUM(deliveries_failed)
            FROM moved WHERE destination_id IS NULL
            GROUP BY project_id, env, day
            ORDER BY project_id, env, day
            ON CONFLICT (project_id, env, day) DO UPDATE SET
                sessions = usage_days.sessions + excluded.sessions,
                images_uploaded = usage_days.images_uploaded + excluded.images_uploaded,
                images_delivered = usage_days.images_delivered + excluded.images_delivered,
                deliveries_sent = usage_days.deliveries_sent + excluded.deliveries_sent,
                deliveries_failed = usage_days.deliveries_failed + excluded.deliveries_failed
            RETURNING 1
        ), destinations AS (
            INSERT INTO usage_destination_days (project_id, env, day, destination_id, deliveries_sent, deliveries_failed)
            SELECT project_id, env, day, destination_id, SUM(deliveries_sent), SUM(deliveries_failed)
            FROM moved WHERE destination_id IS NOT NULL
            GROUP BY project_id, env, day, destination_id
            ORDER BY project_id, env, day, destination_id
            ON CONFLICT (project_id, env, day, destination_id) DO UPDATE SET
                deliveries_sent = usage_destination_days.deliveries_sent + excluded.deliveries_sent,
                deliveries_failed = usage_destination_days.deliveries_failed + excluded.deliveries_failed
            RETURNING 1
        ), counted AS (
            DELETE FROM session_count_deltas
            RETURNING project_id, sessions
        ), counts AS (
            INSERT INTO session_counts (project_id, sessions)
            SELECT project_id, SUM(sessions) FROM counted
            GROUP BY project_id
            ORDER BY project_id
            ON CONFLICT (project_id) DO UPDATE SET sessions = session_counts.sessions + excluded.sessions
            RETURNING 1
        )
        SELECT ((SELECT COUNT(*) FROM moved) + (SELECT COUNT(*) FROM counted))::int AS "Value"
        """;

    /// <summary>
    /// SQLite, in one transaction with <see cref="SqliteDelete"/> after it: the sums of <see cref="PostgresMove"/>; "WHERE …"
    /// before GROUP BY keeps the upsert's ON CONFLICT unambiguous.
    /// </summary>
    public const string SqliteAdd = """
        INSERT INTO usage_days (project_id, env, day, sessions, images_uploaded, images_delivered, deliveries_sent, deliveries_failed)
        SELECT project_id, env, day, SUM(sessions), SUM(images_uploaded), SUM(images_delivered), SUM(deliveries_sent), SUM(deliveries_failed)
        FROM usage_deltas WHERE destination_id IS NULL
        GROUP BY project_id, env, day
        ON CONFLICT (project_id, env, day) DO UPDATE SET
            sessions = sessions + excluded.sessions,
            images_uploaded = images_uploaded + excluded.images_uploaded,
            images_delivered = images_delivered + excluded.images_delivered,
            deliveries_sent = deliveries_sent + excluded.deliveries_sent,
            deliveries_failed = deliveries_failed + excluded.deliveries_failed;
        INSERT INTO usage_destination_days (project_id, env, day, destination_id, deliveries_sent, deliveries_failed)
        SELECT project_id, env, day, destination_id, SUM(deliveries_sent), SUM(deliveries_failed)
        FROM usage_deltas WHERE destination_id IS NOT NULL
        GROUP BY project_id, env, day, destination_id
        ON CONFLICT (project_id, env, day, destination_id) DO UPDATE SET
            deliveries_sent = deliveries_sent + excluded.deliveries_sent,
            deliveries_failed = deliveries_failed + excluded.deliveries_failed;
        INSERT INTO session_counts (project_id, sessions)
        SELECT project_id, SUM(sessions) FROM session_count_deltas WHERE true
        GROUP BY project_id
        ON CONFLICT (project_id) DO UPDATE SET sessions = sessions + excluded.sessions;
        """;

    /// <summary>SQLite: the deltas added by <see cref="SqliteAdd"/>; the rows it affects are how many were moved.</summary>
    public const string SqliteDelete = "DELETE FROM usage_deltas; DELETE FROM session_count_deltas";
}
