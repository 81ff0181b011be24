namespace Apertur.Server.Sessions;

/// <summary>
/// How many sessions a project has (table <c>session_counts</c>, migration 0016; docs/performance.md "Sessions that exist"):
/// the sessions list's total. Written only by the usage roll-up (Stats/UsageRollup.cs), which adds the
/// <see cref="SessionCountDelta"/>s into it.
/// </summary>
public sealed class SessionCount
{
    public Guid ProjectId { get; set; }
    public int Sessions { get; set; }
}

/// <summary>
/// +1 for a session inserted, −1 for one deleted, not rolled up yet (table <c>session_count_deltas</c>): the database's
/// triggers only insert these, so no two writers wait on the project's <see cref="SessionCount"/>.
/// </summary>
public sealed class SessionCountDelta
{
    public long Id { get; set; }
    public Guid ProjectId { get; set; }
    public int Sessions { get; set; }
}
