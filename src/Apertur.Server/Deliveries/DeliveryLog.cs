using Apertur.Server.Data;
using Apertur.Server.Hosting;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Deliveries;

/// <summary>Which deliveries of a project to list; null fields do not filter. Dates bound <c>created_at</c>, end excluded.</summary>
public sealed record DeliveryFilter(string? Status = null, Guid? SessionId = null, Guid? DestinationId = null, DateTimeOffset? From = null,
    DateTimeOffset? Until = null);

/// <summary>One delivery with its destination's name and kind (null once the destination was deleted) and its last attempt's duration.</summary>
public sealed record DeliveryEntry(Delivery Delivery, string? DestinationName, string? DestinationType, int? LastDurationMs)
{
    public DeliveryView ToView()
    {
        var d = Delivery;
        var waiting = d.Status is DeliveryStatus.Pending or DeliveryStatus.Retrying;
        return new DeliveryView(d.Id.ToString(), d.ImageId.ToString(), d.SessionId.ToString(), d.DestinationId.ToString(),
            DestinationName, DestinationType, d.Status, d.Attempts, d.LastError, d.LastStatusCode,
            waiting ? Iso.Format(d.NextAttemptAt) : null, Iso.Format(d.CreatedAt), Iso.Format(d.UpdatedAt));
    }
}

/// <summary>
/// The project's image delivery log and its manual retry, for the deliveries API and the dashboard: list with filters,
/// one delivery with its attempts, and re-queueing failed deliveries with a fresh retry window (docs/api.md "Deliveries").
/// </summary>
public sealed class DeliveryLog(AperturDb db, TimeProvider time, DeliveryNudge nudge)
{
    public static readonly IReadOnlyList<string> Statuses =
        [DeliveryStatus.Pending, DeliveryStatus.Sending, DeliveryStatus.Sent, DeliveryStatus.Failed, DeliveryStatus.Retrying, DeliveryStatus.Cancelled];

    /// <summary>
    /// A page of the log, newest first, and the total that matches the filter (the API's paging contract). Both are read
    /// through the project's index on (project_id, created_at, id), the page from its nearer end (<see cref="OffsetPage"/>;
    /// docs/performance.md).
    /// </summary>
    public async Task<(List<DeliveryEntry> Entries, int Total)> ListAsync(Guid projectId, DeliveryFilter filter, int page, int pageSize, CancellationToken ct)
    {
        var query = Filtered(projectId, filter);
        var total = await query.CountAsync(ct);
        var rows = await OffsetPage.ReadAsync(Newest(query), Oldest(query), total, page, pageSize, ct);
        return (await EntriesAsync(rows, ct), total);
    }

    /// <summary>
    /// The <paramref name="size"/> newest deliveries older than <paramref name="before"/> (the newest when null), for the
    /// dashboard: no count, and the cursor of the next page when there are more. Its cost does not depend on how far back it is.
    /// </summary>
    public async Task<(List<DeliveryEntry> Entries, ListCursor? Older)> OlderThanAsync(Guid projectId, DeliveryFilter filter, ListCursor? before, int size,
        CancellationToken ct)
    {
        var query = Filtered(projectId, filter);
        if (before is { } c)
        {
            // The first condition is implied by the second; it is what PostgreSQL can start the index range from.
            query = query.Where(r => r.Delivery.CreatedAt <= c.CreatedAt
                && (r.Delivery.CreatedAt < c.CreatedAt || (r.Delivery.CreatedAt == c.CreatedAt && r.Delivery.Id.CompareTo(c.Id) < 0)));
        }
        var rows = await Newest(query).Take(size + 1).ToListAsync(ct);
        var older = rows.Count > size ? new ListCursor(rows[size - 1].Delivery.CreatedAt, rows[size - 1].Delivery.Id) : null;
        return (await EntriesAsync(rows.Take(size).ToList(), ct), older);
    }

    private IQueryable<DeliveryRow> Filtered(Guid projectId, DeliveryFilter filter)
    {
        var query = Rows(projectId);
        if (!string.IsNullOrEmpty(filter.Status))
        {
            query = Statuses.Contains(filter.Status)
                ? query.Where(r => r.Delivery.Status == filter.Status)
                : throw ApiException.BadRequest($"'status' must be one of {string.Join(", ", Statuses)}.");
        }
        if (filter.SessionId is { } session)
        {
            query = query.Where(r => r.Delivery.SessionId == session);
        }
        if (filter.DestinationId is { } destination)
        {
            query = query.Where(r => r.Delivery.DestinationId == destination);
        }
        if (filter.From is { } from)
        {
            query = query.Where(r => r.Delivery.CreatedAt >= from);
        }
        if (filter.Until is { } until)
        {
            query = query.Where(r => r.Delivery.CreatedAt < until);
        }
        return query;
    }

    private static IQueryable<DeliveryRow> Newest(IQueryable<DeliveryRow> query) =>
        query.OrderByDescending(r => r.Delivery.CreatedAt).ThenByDescending(r => r.Delivery.Id);

    private static IQueryable<DeliveryRow> Oldest(IQueryable<DeliveryRow> query) =>
        query.OrderBy(r => r.Delivery.CreatedAt).ThenBy(r => r.Delivery.Id);

    private async Task<List<DeliveryEntry>> EntriesAsync(List<DeliveryRow> rows, CancellationToken ct)
    {
        var ids = rows.Select(r => r.Delivery.Id).ToList();
        var durations = (await db.DeliveryAttempts.AsNoTracking().Where(a => ids.Contains(a.DeliveryId))
                .Select(a => new { a.DeliveryId, a.Attempt, a.StartedAt, a.DurationMs }).ToListAsync(ct))
            .GroupBy(a => a.DeliveryId)
            .ToDictionary(g => g.Key, g => g.OrderBy(a => a.StartedAt).ThenBy(a => a.Attempt).Last().DurationMs);
        return rows.Select(r => r.ToEntry(durations.TryGetValue(r.Delivery.Id, out var ms) ? ms : null)).ToList();
    }

    /// <summary>One delivery of the project with its attempts, oldest first; 404 when it is not the project's.</summary>
    public async Task<(DeliveryEntry Entry, List<DeliveryAttempt> Attempts)> GetAsync(Guid projectId, Guid deliveryId, CancellationToken ct)
    {
        var row = await FindAsync(projectId, deliveryId, ct);
        var attempts = await db.DeliveryAttempts.AsNoTracking().Where(a => a.DeliveryId == deliveryId)
            .OrderBy(a => a.StartedAt).ThenBy(a => a.Attempt).ToListAsync(ct);
        return (row.ToEntry(attempts.Count > 0 ? attempts[^1].DurationMs : null), attempts);
    }

    /// <summary>Re-queues one failed delivery (409 <c>DELIVERY_NOT_FAILED</c> otherwise) and returns it as it is now.</summary>
    public async Task<DeliveryEntry> RetryAsync(Guid projectId, Guid deliveryId, CancellationToken ct)
    {
        var row = await FindAsync(projectId, deliveryId, ct);
        var now = Iso.Millis(time.GetUtcNow());
        var requeued = await Requeue(db.Deliveries.Where(d => d.Id == row.Delivery.Id && d.Status == DeliveryStatus.Failed), now, ct);
        if (requeued == 0)
        {
            throw new ApiException(409, "DELIVERY_NOT_FAILED", $"Only a failed delivery can be retried; this one is {row.Delivery.Status}.");
        }
        await TouchSessionsAsync([row.Delivery.SessionId], now, ct);
        nudge.Poke();
        return (await FindAsync(projectId, deliveryId, ct)).ToEntry(null);
    }

    /// <summary>Re-queues every failed delivery of the project (of one session, when given); the count re-queued.</summary>
    public async Task<int> RetryFailedAsync(Guid projectId, Guid? sessionId, CancellationToken ct)
    {
        var failed = db.Deliveries.Where(d => d.Status == DeliveryStatus.Failed && d.ProjectId == projectId);
        if (sessionId is { } session)
        {
            failed = failed.Where(d => d.SessionId == session);
        }
        var now = Iso.Millis(time.GetUtcNow());
        var sessions = await failed.Select(d => d.SessionId).Distinct().ToListAsync(ct);
        var count = await Requeue(failed, now, ct);
        await TouchSessionsAsync(sessions, now, ct);
        if (count > 0)
        {
            nudge.Poke();
        }
        return count;
    }

    /// <summary>Due now, a fresh retry window and schedule, not yet notified: as if it had just been uploaded.</summary>
    private static Task<int> Requeue(IQueryable<Delivery> deliveries, DateTimeOffset now, CancellationToken ct) =>
        deliveries.ExecuteUpdateAsync(s => s
            .SetProperty(d => d.Status, DeliveryStatus.Pending)
            .SetProperty(d => d.Attempts, 0)
            .SetProperty(d => d.NextAttemptAt, now)
            .SetProperty(d => d.FirstAttemptAt, (DateTimeOffset?)null)
            .SetProperty(d => d.NotifiedAt, (DateTimeOffset?)null)
            .SetProperty(d => d.LeaseToken, (Guid?)null)
            .SetProperty(d => d.LeaseExpiresAt, (DateTimeOffset?)null)
            .SetProperty(d => d.UpdatedAt, now), ct);

    private async Task TouchSessionsAsync(List<Guid> sessionIds, DateTimeOffset now, CancellationToken ct)
    {
        if (sessionIds.Count > 0)
        {
            await db.Sessions.Where(s => sessionIds.Contains(s.Id) && s.LastChangedAt < now)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.LastChangedAt, now), ct);
        }
    }

    private IQueryable<DeliveryRow> Rows(Guid projectId) =>
        from d in db.Deliveries.AsNoTracking()
        where d.ProjectId == projectId
        join dest in db.Destinations.AsNoTracking() on d.DestinationId equals dest.Id into found
        from dest in found.DefaultIfEmpty()
        select new DeliveryRow { Delivery = d, DestinationName = dest == null ? null : dest.Name, DestinationType = dest == null ? null : dest.Type };

    private async Task<DeliveryRow> FindAsync(Guid projectId, Guid deliveryId, CancellationToken ct) =>
        await Rows(projectId).FirstOrDefaultAsync(r => r.Delivery.Id == deliveryId, ct)
        ?? throw ApiException.NotFound("Delivery not found.", "DELIVERY_NOT_FOUND");

    private sealed class DeliveryRow
    {
        public required Delivery Delivery { get; init; }
        public string? DestinationName { get; init; }
        public string? DestinationType { get; init; }

        public DeliveryEntry ToEntry(int? lastDurationMs) => new(Delivery, DestinationName, DestinationType, lastDurationMs);
    }
}
