using Apertur.Server.Data;
using Apertur.Server.Deliveries;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Stats;

/// <summary>
/// Keeps the usage of records that are about to be deleted (docs/operations.md "Retention"): adds what <see cref="UsageStats"/>
/// counts of them to <see cref="DailyUsage"/> and <see cref="DestinationDailyUsage"/>. Call it in the transaction that deletes
/// them, so every row is counted once, live or purged. The record purge runs on one replica at a time (IJobLock); a second
/// writer would fail on the primary key and roll its batch back, never count twice.
/// </summary>
public static class UsageLedger
{
    /// <summary>Adds the sessions <paramref name="sessionIds"/>, their images and their finished deliveries to the daily usage.</summary>
    public static async Task AddSessionsAsync(AperturDb db, IReadOnlyCollection<Guid> sessionIds, CancellationToken ct)
    {
        var created = await db.Sessions.AsNoTracking().Where(s => sessionIds.Contains(s.Id))
            .Select(s => new { s.ProjectId, s.Env, s.CreatedAt }).ToListAsync(ct);
        var images = db.Images.AsNoTracking().Where(i => sessionIds.Contains(i.SessionId));
        var uploads = await images.Select(i => new { i.Id, i.ProjectId, i.Env, i.CreatedAt }).ToListAsync(ct);
        var delivered = (await UsageStats.Delivered(db, images).Select(i => i.Id).ToListAsync(ct)).ToHashSet();
        var finished = await (
                from d in db.Deliveries.AsNoTracking()
                join i in images on d.ImageId equals i.Id
                where d.Status == DeliveryStatus.Sent || d.Status == DeliveryStatus.Failed
                select new { i.ProjectId, i.Env, Uploaded = i.CreatedAt, d.UpdatedAt, d.DestinationId, d.Status })
            .ToListAsync(ct);

        var days = new Dictionary<(Guid, string, DateOnly), DailyUsage>();
        DailyUsage Day(Guid projectId, string env, DateTimeOffset at)
        {
            var key = (projectId, env, DayOf(at));
            if (!days.TryGetValue(key, out var day))
            {
                days[key] = day = new DailyUsage { ProjectId = projectId, Env = env, Day = key.Item3 };
            }
            return day;
        }
        var destinations = new Dictionary<(Guid, string, DateOnly, Guid), DestinationDailyUsage>();
        foreach (var s in created)
        {
            Day(s.ProjectId, s.Env, s.CreatedAt).Sessions++;
        }
        foreach (var u in uploads)
        {
            var day = Day(u.ProjectId, u.Env, u.CreatedAt);
            day.ImagesUploaded++;
            day.ImagesDelivered += delivered.Contains(u.Id) ? 1 : 0;
        }
        foreach (var f in finished)
        {
            var key = (f.ProjectId, f.Env, DayOf(f.Uploaded), f.DestinationId);
            if (!destinations.TryGetValue(key, out var destination))
            {
                destinations[key] = destination = new DestinationDailyUsage { ProjectId = f.ProjectId, Env = f.Env, Day = key.Item3, DestinationId = f.DestinationId };
            }
            var sent = f.Status == DeliveryStatus.Sent ? 1 : 0;
            destination.DeliveriesSent += sent;
            destination.DeliveriesFailed += 1 - sent;
            var day = Day(f.ProjectId, f.Env, f.UpdatedAt);
            day.DeliveriesSent += sent;
            day.DeliveriesFailed += 1 - sent;
        }

        if (days.Count > 0)
        {
            var (projects, first, last) = Span(days.Values.Select(d => (d.ProjectId, d.Day)));
            foreach (var old in await db.DailyUsage.Where(u => projects.Contains(u.ProjectId) && u.Day >= first && u.Day <= last).ToListAsync(ct))
            {
                if (days.Remove((old.ProjectId, old.Env, old.Day), out var add))
                {
                    old.Sessions += add.Sessions;
                    old.ImagesUploaded += add.ImagesUploaded;
                    old.ImagesDelivered += add.ImagesDelivered;
                    old.DeliveriesSent += add.DeliveriesSent;
                    old.DeliveriesFailed += add.DeliveriesFailed;
                }
            }
            db.DailyUsage.AddRange(days.Values);
        }
        if (destinations.Count > 0)
        {
            var (projects, first, last) = Span(destinations.Values.Select(d => (d.ProjectId, d.Day)));
            foreach (var old in await db.DestinationDailyUsage.Where(u => projects.Contains(u.ProjectId) && u.Day >= first && u.Day <= last).ToListAsync(ct))
            {
                if (destinations.Remove((old.ProjectId, old.Env, old.Day, old.DestinationId), out var add))
                {
                    old.DeliveriesSent += add.DeliveriesSent;
                    old.DeliveriesFailed += add.DeliveriesFailed;
                }
            }
            db.DestinationDailyUsage.AddRange(destinations.Values);
        }
        await db.SaveChangesAsync(ct);
    }

    /// <summary>The UTC day of a timestamp: the day every usage count is filed under.</summary>
    public static DateOnly DayOf(DateTimeOffset at) => DateOnly.FromDateTime(at.UtcDateTime);

    // The rows that may already hold some of these keys: the projects and the days between the first and the last.
    private static (List<Guid> Projects, DateOnly First, DateOnly Last) Span(IEnumerable<(Guid ProjectId, DateOnly Day)> keys)
    {
        var list = keys.ToList();
        return (list.Select(k => k.ProjectId).Distinct().ToList(), list.Min(k => k.Day), list.Max(k => k.Day));
    }
}
