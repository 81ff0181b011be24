namespace Apertur.Server.Status;

/// <summary>An incident of the public status page, posted and updated by a dashboard admin (docs/operations.md "Status page").</summary>
public sealed class Incident
{
    public Guid Id { get; set; }
    public required string Title { get; set; }
    /// <summary>One of <see cref="IncidentStates"/>: the state of the latest update.</summary>
    public required string State { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    /// <summary>When an update set it <see cref="IncidentStates.Resolved"/>; null while it is open.</summary>
    public DateTimeOffset? ResolvedAt { get; set; }
}

/// <summary>One message posted on an incident, with the state it set.</summary>
public sealed class IncidentUpdate
{
    public Guid Id { get; set; }
    public Guid IncidentId { get; set; }
    public required string State { get; set; }
    public required string Message { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>The states of an incident, in the order it usually goes through them (the common status-page vocabulary).</summary>
public static class IncidentStates
{
    public const string Investigating = "investigating";
    public const string Identified = "identified";
    public const string Monitoring = "monitoring";
    public const string Resolved = "resolved";

    public static IReadOnlyList<string> All { get; } = [Investigating, Identified, Monitoring, Resolved];

    public static bool IsValid(string? state) => state is not null && All.Contains(state);

    /// <summary>How the page names a state ("Investigating").</summary>
    public static string Label(string state) => state.Length == 0 ? state : char.ToUpperInvariant(state[0]) + state[1..];
}
