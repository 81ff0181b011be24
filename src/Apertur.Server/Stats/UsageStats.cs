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
/// Every figure is read from the daily usage (<see cref="DailyUsage"/>, <see cref="DestinationDailyUsage"/>) plus the deltas
/// the database's triggers inserted since the last roll-up (<see cref="UsageDelta"/>, <see cref="UsageRollup"/>), in one
/// statement, so a figure is exact at once: a few rows per day of the project and the deltas of the last roll-up interval,
/// whatever its number of images (docs/performance.md "Usage aggregates").
/// </summary>
public sealed class UsageStats(AperturDb db)
{
    /// <summary>The project's active keys of both environments: keys are configuration, not usage.</summary>
    public Task<int> ActiveKeysAsync(Guid projectId, CancellationToken ct) =>
        db.ApiKeys.AsNoTracking().CountAsync(k => k.ProjectId == projectId && k.IsActive, ct);

    /// <summary>The totals of one environment.</summary>
    public async Task<UsageTotals> TotalsAsync(Guid projectId, string env, DateTimeOffset now, CancellationToken ct) =>
        (await TotalsAsync(Days(projectId, env, null, null), now, ct)).GetValueOrDefault(env) ?? UsageTotals.None;

    /// <summary>The totals of each environment that has any usage, in one reading.</summary>
    public Task<Dictionary<string, UsageTotals>> TotalsByEnvAsync(Guid projectId, DateTimeOffset now, CancellationToken ct) =>
        TotalsAsync(Days(projectId, null, null, null), now, ct);

    private static Task<Dictionary<string, UsageTotals>> TotalsAsync(IQueryable<DayRow> days, DateTimeOffset now, CancellationToken ct)
    {
        var firstOfMonth = new DateOnly(now.UtcDateTime.Year, now.UtcDateTime.Month, 1);
        return days.GroupBy(u => u.Env)
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
        var byDay = await Days(projectId, env, first, today).GroupBy(u => u.Day)
            .Select(g => new UsageDay(g.Key, g.Sum(u => u.ImagesUploaded), g.Sum(u => u.DeliveriesSent), g.Sum(u => u.DeliveriesFailed)))
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
        var rows = db.DestinationDailyUsage.AsNoTracking().Where(u => u.ProjectId == projectId && u.Env == env && u.Day >= since)
            .Select(u => new DestinationRow { DestinationId = u.DestinationId, DeliveriesSent = u.DeliveriesSent, DeliveriesFailed = u.DeliveriesFailed })
            .Concat(db.UsageDeltas.AsNoTracking()
                .Where(d => d.ProjectId == projectId && d.Env == env && d.Day >= since && d.DestinationId != null)
                .Select(d => new DestinationRow { DestinationId = d.DestinationId!.Value, DeliveriesSent = d.DeliveriesSent, DeliveriesFailed = d.DeliveriesFailed }));
        var counts = await rows.GroupBy(u => u.DestinationId)
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

    /// <summary>
    /// The project's day rows and its deltas not rolled up yet (UNION ALL, each side filtered on its index), optionally of one
    /// environment and a range of days; a day can appear several times: sum them.
    /// </summary>
    private IQueryable<DayRow> Days(Guid projectId, string? env, DateOnly? from, DateOnly? to)
    {
        var days = db.DailyUsage.AsNoTracking().Where(u => u.ProjectId == projectId);
        var deltas = db.UsageDeltas.AsNoTracking().Where(d => d.ProjectId == projectId && d.DestinationId == null);
        if (env is not null)
        {
            days = days.Where(u => u.Env == env);
            deltas = deltas.Where(d => d.Env == env);
        }
        if (from is { } first && to is { } last)
        {
            days = days.Where(u => u.Day >= first && u.Day <= last);
            deltas = deltas.Where(d => d.Day >= first && d.Day <= last);
        }
        return days.Select(u => new DayRow
            {
                Env = u.Env, Day = u.Day, Sessions = u.Sessions, ImagesUploaded = u.ImagesUploaded, ImagesDelivered = u.ImagesDelivered,
                DeliveriesSent = u.DeliveriesSent, DeliveriesFailed = u.DeliveriesFailed,
            })
            .Concat(deltas.Select(d => new DayRow
            {
                Env = d.Env, Day = d.Day, Sessions = d.Sessions, ImagesUploaded = d.ImagesUploaded, ImagesDelivered = d.ImagesDelivered,
                DeliveriesSent = d.DeliveriesSent, DeliveriesFailed = d.DeliveriesFailed,
            }));
    }

    private sealed class DayRow
    {
        public required string Env { get; init; }
        public DateOnly Day { get; init; }
        public int Sessions { get; init; }
        public int ImagesUploaded { get; init; }
        public int ImagesDelivered { get; init; }
        public int DeliveriesSent { get; init; }
        public int DeliveriesFailed { get; init; }
    }

    private sealed class DestinationRow
    {
        public Guid DestinationId { get; init; }
        public int DeliveriesSent { get; init; }
        public int DeliveriesFailed { get; init; }
    }
}
