using Apertur.Server.Data;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Stats;

/// <summary>Usage counts of one project in one environment (live or test).</summary>
public sealed record UsageTotals(int SessionsThisMonth, int SessionsTotal, int ImagesUploaded, int ImagesDelivered, int Sent, int Failed)
{
    public static readonly UsageTotals None = new(0, 0, 0, 0, 0, 0);

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
/// Every figure is read from the daily usage (<see cref="DailyUsage"/>, <see cref="DestinationDailyUsage"/>), which the
/// database's triggers keep in the transaction of every change they count, purged records included: a few rows per day of
/// the project, whatever its number of images (docs/performance.md "Usage aggregates").
/// </summary>
public sealed class UsageStats(AperturDb db)
{
    /// <summary>The project's active keys of both environments: keys are configuration, not usage.</summary>
    public Task<int> ActiveKeysAsync(Guid projectId, CancellationToken ct) =>
        db.ApiKeys.AsNoTracking().CountAsync(k => k.ProjectId == projectId && k.IsActive, ct);

    /// <summary>The totals of one environment.</summary>
    public async Task<UsageTotals> TotalsAsync(Guid projectId, string env, DateTimeOffset now, CancellationToken ct) =>
        (await TotalsAsync(db.DailyUsage.Where(u => u.ProjectId == projectId && u.Env == env), now, ct)).GetValueOrDefault(env) ?? UsageTotals.None;

    /// <summary>The totals of each environment that has any usage, in one reading.</summary>
    public Task<Dictionary<string, UsageTotals>> TotalsByEnvAsync(Guid projectId, DateTimeOffset now, CancellationToken ct) =>
        TotalsAsync(db.DailyUsage.Where(u => u.ProjectId == projectId), now, ct);

    private static Task<Dictionary<string, UsageTotals>> TotalsAsync(IQueryable<DailyUsage> days, DateTimeOffset now, CancellationToken ct)
    {
        var firstOfMonth = new DateOnly(now.UtcDateTime.Year, now.UtcDateTime.Month, 1);
        return days.AsNoTracking().GroupBy(u => u.Env)
            .Select(g => new
            {
                Env = g.Key,
                Totals = new UsageTotals(g.Sum(u => u.Day >= firstOfMonth ? u.Sessions : 0), g.Sum(u => u.Sessions), g.Sum(u => u.ImagesUploaded),
                    g.Sum(u => u.ImagesDelivered), g.Sum(u => u.DeliveriesSent), g.Sum(u => u.DeliveriesFailed)),
            })
            .ToDictionaryAsync(t => t.Env, t => t.Totals, ct);
    }

    /// <summary>The last <paramref name="days"/> UTC days up to today, oldest first.</summary>
    public async Task<List<UsageDay>> DailyAsync(Guid projectId, string env, DateTimeOffset now, int days, CancellationToken ct)
    {
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var first = today.AddDays(1 - days);
        var byDay = await db.DailyUsage.AsNoTracking().Where(u => u.ProjectId == projectId && u.Env == env && u.Day >= first && u.Day <= today)
            .Select(u => new UsageDay(u.Day, u.ImagesUploaded, u.DeliveriesSent, u.DeliveriesFailed))
            .ToDictionaryAsync(u => u.Day, ct);
        return Enumerable.Range(0, days).Select(n => first.AddDays(n))
            .Select(day => byDay.GetValueOrDefault(day) ?? new UsageDay(day, 0, 0, 0))
            .ToList();
    }

    /// <summary>
    /// Finished deliveries per destination of images uploaded from the UTC day <paramref name="since"/> on, busiest first. Whole
    /// days: deliveries are counted per upload day of their image.
    /// </summary>
    public async Task<List<DestinationUsage>> PerDestinationAsync(Guid projectId, string env, DateOnly since, CancellationToken ct)
    {
        var counts = await db.DestinationDailyUsage.AsNoTracking().Where(u => u.ProjectId == projectId && u.Env == env && u.Day >= since)
            .GroupBy(u => u.DestinationId)
            .Select(g => new { DestinationId = g.Key, Sent = g.Sum(u => u.DeliveriesSent), Failed = g.Sum(u => u.DeliveriesFailed) })
            .Where(c => c.Sent + c.Failed > 0)
            .ToListAsync(ct);
        var ids = counts.Select(c => c.DestinationId).ToList();
        var names = await db.Destinations.AsNoTracking().Where(d => ids.Contains(d.Id))
            .Select(d => new { d.Id, d.Name, d.Type }).ToDictionaryAsync(d => d.Id, ct);
        return counts.Select(c => new DestinationUsage(c.DestinationId, names.GetValueOrDefault(c.DestinationId)?.Name,
                names.GetValueOrDefault(c.DestinationId)?.Type, c.Sent, c.Failed))
            .OrderByDescending(u => u.Sent + u.Failed).ThenBy(u => u.Name, StringComparer.Ordinal).ToList();
    }
}
