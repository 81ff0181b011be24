namespace Apertur.Server.Hosting;

/// <summary>
/// Runs a periodic job's pass once per deployment (docs/scale-out.md): on PostgreSQL under an advisory lock, so two
/// replicas never run the same pass at once (Data/PostgresJobLock.cs); alone on SQLite. The jobs stay idempotent on their
/// own (guarded claims); the lock only spares the duplicate work. Chosen in Data/DataServices.cs.
/// </summary>
public interface IJobLock
{
    /// <summary>Runs <paramref name="pass"/> unless another replica is running the job <paramref name="job"/>; false when skipped.</summary>
    Task<bool> TryRunAsync(string job, Func<CancellationToken, Task> pass, CancellationToken ct);
}

/// <summary>One process (SQLite): every pass runs.</summary>
public sealed class InProcessJobLock : IJobLock
{
    public async Task<bool> TryRunAsync(string job, Func<CancellationToken, Task> pass, CancellationToken ct)
    {
        await pass(ct);
        return true;
    }
}

/// <summary>The names of the periodic jobs, as their locks know them.</summary>
public static class Jobs
{
    public const string SessionExpirySweep = "session-expiry-sweep";
    public const string FailureEmails = "failure-emails";
    public const string ReconnectNotices = "reconnect-notices";
    public const string Retention = "retention";
    public const string OrphanCheck = "orphan-check";
    public const string RecordPurge = "record-purge";
    public const string UsageRollup = "usage-rollup";
}
