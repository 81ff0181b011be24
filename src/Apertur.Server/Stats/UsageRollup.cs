using Apertur.Server.Data;
using Apertur.Server.Hosting;
using Apertur.Server.Queues;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Apertur.Server.Stats;

/// <summary>Settings section <c>Apertur:Usage</c>: how often the usage deltas are rolled up into the daily usage.</summary>
public sealed class UsageOptions : ISettings
{
    public const string Section = "Apertur:Usage";

    /// <summary>
    /// How often the usage roll-up runs (one replica at a time; also at start). The stats read the deltas not yet rolled up,
    /// so this bounds their number, not the figures' freshness. Default 15 seconds.
    /// </summary>
    public TimeSpan RollupInterval { get; set; } = TimeSpan.FromSeconds(15);

    public IReadOnlyList<string> Problems() =>
        RollupInterval <= TimeSpan.Zero ? [$"{Section}:{nameof(RollupInterval)} must be positive (got {RollupInterval})."] : [];
}

/// <summary>
/// Moves the usage deltas that the database's triggers insert (<see cref="UsageDelta"/>, migration 0015) into the daily usage
/// (docs/performance.md "Usage aggregates"), in one transaction: the deltas summed per day (and destination), added to the day
/// rows, deleted. Idempotent and safe to run anywhere at any time: on PostgreSQL the deltas are taken by
/// <c>DELETE … RETURNING</c> in the statement that adds them, so a delta is added once however many roll-ups run, and a
/// transaction-scoped advisory lock lets one roll-up at a time do it (another returns at once: it would wait, then find
/// nothing). On SQLite the one writer runs them one after the other. A reader sees the deltas or their sum in the day rows,
/// never both: the move commits at once.
/// </summary>
public sealed class UsageRollup(IServiceScopeFactory scopes)
{
    // A key of its own, not the periodic job's (Data/PostgresJobLock.cs): that one is held by the job's pass on another connection.
    private static readonly long MovingKey = PostgresJobLock.Key(Jobs.UsageRollup + ":moving");

    private const string PostgresMove = """
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
        )
        SELECT COUNT(*)::int AS "Value" FROM moved
        """;

    // SQLite: "WHERE …" before GROUP BY keeps the upsert's ON CONFLICT unambiguous.
    private const string SqliteAdd = """
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
        """;

    /// <summary>One roll-up; the number of deltas moved (0 when another roll-up was moving them).</summary>
    public async Task<int> RollUpAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        int moved;
        if (db.Database.IsSqlite())
        {
            await db.Database.ExecuteSqlRawAsync(SqliteAdd, ct);
            moved = await db.Database.ExecuteSqlRawAsync("DELETE FROM usage_deltas", ct);
        }
        else
        {
            var locked = (await db.Database.SqlQueryRaw<bool>("SELECT pg_try_advisory_xact_lock({0}) AS \"Value\"", MovingKey).ToListAsync(ct)).Single();
            if (!locked)
            {
                return 0;
            }
            // Not composable (a data-modifying WITH must be the top level): run as written.
            moved = (await db.Database.SqlQueryRaw<int>(PostgresMove).ToListAsync(ct)).Single();
        }
        await tx.CommitAsync(ct);
        return moved;
    }
}

/// <summary>The periodic usage roll-up (docs/operations.md "Periodic jobs"): at start, then every <c>Apertur:Usage:RollupInterval</c>.</summary>
public sealed class UsageRollupJob(UsageRollup rollup, TimeProvider time, IOptions<UsageOptions> options, IOptions<WorkersOptions> workers,
    IJobLock jobs, ILogger<UsageRollupJob> logger)
    : PeriodicJob(Jobs.UsageRollup, "Usage roll-up", time, workers, jobs, logger)
{
    protected override TimeSpan Interval => options.Value.RollupInterval;

    protected override Task RunPassAsync(CancellationToken ct) => rollup.RollUpAsync(ct);
}
