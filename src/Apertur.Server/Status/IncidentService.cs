using Apertur.Server.Data;
using Apertur.Server.Hosting;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Status;

/// <summary>
/// Incidents of the status page: an admin opens one with a first message, posts updates (each sets the state) and resolves
/// it with a last one (docs/operations.md "Status page"). The status page shows the change at once on this replica.
/// </summary>
public sealed class IncidentService(AperturDb db, TimeProvider time, StatusService status)
{
    public const int MaxTitleLength = 200;
    public const int MaxMessageLength = 4000;

    /// <summary>How far back the status page and the dashboard list incidents (open ones are listed whatever their age).</summary>
    public static readonly TimeSpan History = TimeSpan.FromDays(90);

    /// <summary>An incident with its updates, newest first.</summary>
    public sealed record Entry(Incident Incident, IReadOnlyList<IncidentUpdate> Updates);

    public async Task<Incident> CreateAsync(string? title, string? state, string? message, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var incident = new Incident
        {
            Id = Guid.CreateVersion7(now),
            Title = Text(title, "A title", MaxTitleLength),
            State = ValidState(state),
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Incidents.Add(incident);
        AddUpdate(incident, incident.State, message, now);
        await db.SaveChangesAsync(ct);
        status.Forget();
        return incident;
    }

    public async Task<Incident> PostUpdateAsync(Guid incidentId, string? state, string? message, CancellationToken ct)
    {
        var incident = await db.Incidents.FirstOrDefaultAsync(i => i.Id == incidentId, ct)
            ?? throw ApiException.NotFound("This incident does not exist.");
        var now = time.GetUtcNow();
        var newState = ValidState(state);
        AddUpdate(incident, newState, message, now);
        incident.State = newState;
        incident.UpdatedAt = now;
        incident.ResolvedAt = newState == IncidentStates.Resolved ? incident.ResolvedAt ?? now : null;
        await db.SaveChangesAsync(ct);
        status.Forget();
        return incident;
    }

    /// <summary>Open incidents and those of the last <see cref="History"/>, open first, then newest first; each with its updates.</summary>
    public async Task<IReadOnlyList<Entry>> RecentAsync(CancellationToken ct)
    {
        var since = time.GetUtcNow() - History;
        var incidents = await db.Incidents.AsNoTracking()
            .Where(i => i.ResolvedAt == null || i.CreatedAt >= since)
            .OrderByDescending(i => i.CreatedAt)
            .Take(100)
            .ToListAsync(ct);
        var ids = incidents.Select(i => i.Id).ToList();
        var updates = (await db.IncidentUpdates.AsNoTracking().Where(u => ids.Contains(u.IncidentId)).ToListAsync(ct))
            .ToLookup(u => u.IncidentId);
        return incidents
            .OrderBy(i => i.ResolvedAt is null ? 0 : 1)
            .ThenByDescending(i => i.CreatedAt)
            .Select(i => new Entry(i, updates[i.Id].OrderByDescending(u => u.CreatedAt).ThenByDescending(u => u.Id).ToList()))
            .ToList();
    }

    private void AddUpdate(Incident incident, string state, string? message, DateTimeOffset now) =>
        db.IncidentUpdates.Add(new IncidentUpdate
        {
            Id = Guid.CreateVersion7(now),
            IncidentId = incident.Id,
            State = state,
            Message = Text(message, "A message", MaxMessageLength),
            CreatedAt = now,
        });

    private static string ValidState(string? state) => IncidentStates.IsValid(state)
        ? state!
        : throw ApiException.BadRequest($"The state must be one of {string.Join(", ", IncidentStates.All)}.");

    private static string Text(string? value, string what, int max)
    {
        var trimmed = value?.Trim() ?? "";
        if (trimmed.Length == 0)
        {
            throw ApiException.BadRequest($"{what} is required.");
        }
        return trimmed.Length <= max ? trimmed : throw ApiException.BadRequest($"{what} must be at most {max} characters.");
    }
}
