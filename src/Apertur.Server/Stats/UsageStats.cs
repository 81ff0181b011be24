using Apertur.Server.Data;
using Apertur.Server.Deliveries;
using Apertur.Server.Uploads;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Stats;

/// <summary>Usage counts of one project in one environment (live or test).</summary>
public sealed record UsageTotals(int SessionsThisMonth, int SessionsTotal, int ImagesUploaded, int ImagesDelivered, int Sent, int Failed)
{
    /// <summary>Sent / (sent + failed) deliveries in percent, one decimal; 100.0 with no finished delivery (nothing has failed).</summary>
    public double SuccessRate => Sent + Failed == 0 ? 100.0 : Math.Round(Sent * 100.0 / (Sent + Failed), 1);
}

/// <summary>One UTC day: images uploaded, and deliveries that ended sent or failed that day (by their last update).</summary>
public sealed record UsageDay(DateOnly Day, int Uploaded, int Sent, int Failed);

/// <summary>Finished deliveries to one destination in the period.</summary>
public sealed record DestinationUsage(Guid DestinationId, string? Name, string? Type, int Sent, int Failed);

/// <summary>
/// The project's usage, for <c>GET /api/v1/stats</c> (live only) and the dashboard's charts (live and test apart).
/// <c>ImagesDelivered</c> counts images that reached at least one destination or were acknowledged by a long-polling client.
/// Every figure is the live rows plus the daily usage of the records already purged (<see cref="UsageLedger"/>), so the
/// record purge changes no number (docs/operations.md "Retention").
/// </summary>
public sealed class UsageStats(AperturDb db)
{
    /// <summary>The project's active keys of both environments: keys are configuration, not usage.</summary>
    public Task<int> ActiveKeysAsync(Guid projectId, CancellationToken ct) =>
        db.ApiKeys.AsNoTracking().CountAsync(k => k.ProjectId == projectId && k.IsActive, ct);

    public async Task<UsageTotals> TotalsAsync(Guid projectId, string env, DateTimeOffset now, CancellationToken ct)
    {
        var monthStart = new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero);
        var sessions = db.Sessions.AsNoTracking().Where(s => s.ProjectId == projectId && s.Env == env);
        var sessionsTotal = await sessions.CountAsync(ct);
        var sessionsThisMonth = await sessions.CountAsync(s => s.CreatedAt >= monthStart, ct);

        var images = db.Images.AsNoTracking().Where(i => i.ProjectId == projectId && i.Env == env);
        var imagesUploaded = await images.CountAsync(ct);
        var imagesDelivered = await Delivered(db, images).CountAsync(ct);

        var deliveries = db.Deliveries.AsNoTracking().Where(d => images.Any(i => i.Id == d.ImageId));
        var sent = await deliveries.CountAsync(d => d.Status == DeliveryStatus.Sent, ct);
        var failed = await deliveries.CountAsync(d => d.Status == DeliveryStatus.Failed, ct);

        var firstOfMonth = DateOnly.FromDateTime(monthStart.UtcDateTime);
        var purged = await db.DailyUsage.AsNoTracking().Where(u => u.ProjectId == projectId && u.Env == env)
            .GroupBy(u => u.ProjectId)
            .Select(g => new UsageTotals(g.Sum(u => u.Day >= firstOfMonth ? u.Sessions : 0), g.Sum(u => u.Sessions), g.Sum(u => u.ImagesUploaded),
                g.Sum(u => u.ImagesDelivered), g.Sum(u => u.DeliveriesSent), g.Sum(u => u.DeliveriesFailed)))
            .FirstOrDefaultAsync(ct);
        return new UsageTotals(sessionsThisMonth + (purged?.SessionsThisMonth ?? 0), sessionsTotal + (purged?.SessionsTotal ?? 0),
            imagesUploaded + (purged?.ImagesUploaded ?? 0), imagesDelivered + (purged?.ImagesDelivered ?? 0),
            sent + (purged?.Sent ?? 0), failed + (purged?.Failed ?? 0));
    }

    /// <summary>The images among <paramref name="images"/> counted as delivered: sent to at least one destination, or acknowledged.</summary>
    public static IQueryable<Image> Delivered(AperturDb db, IQueryable<Image> images) =>
        images.Where(i => i.AcknowledgedAt != null || db.Deliveries.Any(d => d.ImageId == i.Id && d.Status == DeliveryStatus.Sent));

    /// <summary>
    /// The last <paramref name="days"/> UTC days up to today, oldest first. Counted here from the period's timestamps (read
    /// through the project/created index), because day arithmetic differs between SQLite's integers and PostgreSQL's timestamptz.
    /// </summary>
    public async Task<List<UsageDay>> DailyAsync(Guid projectId, string env, DateTimeOffset now, int days, CancellationToken ct)
    {
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var first = today.AddDays(1 - days);
        var start = new DateTimeOffset(first.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var uploads = await db.Images.AsNoTracking().Where(i => i.ProjectId == projectId && i.Env == env && i.CreatedAt >= start)
            .Select(i => i.CreatedAt).ToListAsync(ct);
        var finished = await (
                from d in db.Deliveries.AsNoTracking()
                join i in db.Images.AsNoTracking() on d.ImageId equals i.Id
                where i.ProjectId == projectId && i.Env == env && i.CreatedAt >= start - TimeSpan.FromDays(7) && d.UpdatedAt >= start
                    && (d.Status == DeliveryStatus.Sent || d.Status == DeliveryStatus.Failed)
                select new { d.UpdatedAt, d.Status })
            .ToListAsync(ct);
        var purged = await db.DailyUsage.AsNoTracking().Where(u => u.ProjectId == projectId && u.Env == env && u.Day >= first && u.Day <= today)
            .Select(u => new { u.Day, u.ImagesUploaded, u.DeliveriesSent, u.DeliveriesFailed }).ToListAsync(ct);
        var byDay = purged.ToDictionary(u => u.Day, u => (Uploaded: u.ImagesUploaded, Sent: u.DeliveriesSent, Failed: u.DeliveriesFailed));
        foreach (var at in uploads)
        {
            var day = UsageLedger.DayOf(at);
            var v = byDay.GetValueOrDefault(day);
            byDay[day] = (v.Uploaded + 1, v.Sent, v.Failed);
        }
        foreach (var d in finished)
        {
            var day = UsageLedger.DayOf(d.UpdatedAt);
            var v = byDay.GetValueOrDefault(day);
            byDay[day] = d.Status == DeliveryStatus.Sent ? (v.Uploaded, v.Sent + 1, v.Failed) : (v.Uploaded, v.Sent, v.Failed + 1);
        }
        return Enumerable.Range(0, days).Select(n => first.AddDays(n))
            .Select(day => byDay.TryGetValue(day, out var v) ? new UsageDay(day, v.Uploaded, v.Sent, v.Failed) : new UsageDay(day, 0, 0, 0))
            .ToList();
    }

    /// <summary>
    /// Finished deliveries per destination of images uploaded from the UTC day <paramref name="since"/> on, busiest first. Whole
    /// days, because purged deliveries are kept per upload day.
    /// </summary>
    public async Task<List<DestinationUsage>> PerDestinationAsync(Guid projectId, string env, DateOnly since, CancellationToken ct)
    {
        var start = new DateTimeOffset(since.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var live = await (
                from d in db.Deliveries.AsNoTracking()
                join i in db.Images.AsNoTracking() on d.ImageId equals i.Id
                where i.ProjectId == projectId && i.Env == env && i.CreatedAt >= start
                    && (d.Status == DeliveryStatus.Sent || d.Status == DeliveryStatus.Failed)
                group d by d.DestinationId into g
                select new { DestinationId = g.Key, Sent = g.Count(d => d.Status == DeliveryStatus.Sent), Failed = g.Count(d => d.Status == DeliveryStatus.Failed) })
            .ToListAsync(ct);
        var purged = await db.DestinationDailyUsage.AsNoTracking().Where(u => u.ProjectId == projectId && u.Env == env && u.Day >= since)
            .GroupBy(u => u.DestinationId)
            .Select(g => new { DestinationId = g.Key, Sent = g.Sum(u => u.DeliveriesSent), Failed = g.Sum(u => u.DeliveriesFailed) })
            .ToListAsync(ct);
        var counts = live.Concat(purged).GroupBy(c => c.DestinationId)
            .ToDictionary(g => g.Key, g => (Sent: g.Sum(c => c.Sent), Failed: g.Sum(c => c.Failed)));
        var ids = counts.Keys.ToList();
        var names = await db.Destinations.AsNoTracking().Where(d => ids.Contains(d.Id))
            .Select(d => new { d.Id, d.Name, d.Type }).ToDictionaryAsync(d => d.Id, ct);
        return ids.Select(id => new DestinationUsage(id, names.GetValueOrDefault(id)?.Name, names.GetValueOrDefault(id)?.Type, counts[id].Sent, counts[id].Failed))
            .OrderByDescending(u => u.Sent + u.Failed).ThenBy(u => u.Name, StringComparer.Ordinal).ToList();
    }
}
