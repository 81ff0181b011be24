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
/// (docs/performance.md "Usage aggregates"), and the session count's (<see cref="Sessions.SessionCountDelta"/>, migration 0016)
/// into the projects' counts, in one transaction: the deltas summed per day (and destination) or project, added to the rows,
/// deleted. Idempotent and safe to run anywhere at any time: on PostgreSQL the deltas are taken by
/// <c>DELETE … RETURNING</c> in the statement that adds them, so a delta is added once however many roll-ups run, and a
/// transaction-scoped advisory lock lets one roll-up at a time do it (another returns at once: it would wait, then find
/// nothing). On SQLite the one writer runs them one after the other. A reader sees the deltas or their sum in the day rows,
/// never both: the move commits at once.
/// </summary>
public sealed class UsageRollup(IServiceScopeFactory scopes)
{
    // A key of its own, not the periodic job's (Data/PostgresJobLock.cs): that one is held by the job's pass on another connection.
    private static readonly long MovingKey = PostgresJobLock.Key(Jobs.UsageRollup + ":moving");

    /// <summary>One roll-up; the number of deltas moved (0 when another roll-up was moving them).</summary>
    public async Task<int> RollUpAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        int moved;
        if (db.Database.IsSqlite())
        {
            await db.Database.ExecuteSqlRawAsync(UsageRollupSql.SqliteAdd, ct);
            moved = await db.Database.ExecuteSqlRawAsync(UsageRollupSql.SqliteDelete, ct);
        }
        else
        {
            var locked = (await db.Database.SqlQueryRaw<bool>("SELECT pg_try_advisory_xact_lock({0}) AS \"Value\"", MovingKey).ToListAsync(ct)).Single();
            if (!locked)
            {
                return 0;
            }
            // Not composable (a data-modifying WITH must be the top level): run as written.
            moved = (await db.Database.SqlQueryRaw<int>(UsageRollupSql.PostgresMove).ToListAsync(ct)).Single();
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
