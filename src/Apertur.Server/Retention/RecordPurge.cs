using Apertur.Server.Data;
using Apertur.Server.Deliveries;
using Apertur.Server.EventWebhooks;
using Apertur.Server.Hosting;
using Apertur.Server.Sessions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Apertur.Server.Retention;

/// <summary>How many records one purge deleted.</summary>
public sealed record PurgedRecords(int Sessions, int Images, int Deliveries, int Events)
{
    public static readonly PurgedRecords None = new(0, 0, 0, 0);

    public static PurgedRecords operator +(PurgedRecords a, PurgedRecords b) =>
        new(a.Sessions + b.Sessions, a.Images + b.Images, a.Deliveries + b.Deliveries, a.Events + b.Events);
}

/// <summary>
/// Deletes the records older than <c>Apertur:Retention:Records</c> (docs/operations.md "Retention"), in small batches, each its
/// own short transaction, so uploads wait at most one batch for SQLite's one writer:
/// <list type="bullet">
/// <item>a session and everything under it (images, deliveries, attempts, its destinations), once it was created that long
/// ago, has expired, every image's bytes are deleted and no delivery is open; its usage stays in the daily usage (Stats/DailyUsage,
/// which the database's triggers keep and a deletion never changes), so the stats stay the same, while the sessions list's total
/// (Sessions/SessionCount, kept by triggers of its own) drops with the rows;</item>
/// <item>events (<c>event_logs</c>) with their event-webhook deliveries, none still being retried;</item>
/// <item>OAuth connect flows that ended that long ago.</item>
/// </list>
/// A batch's rows are chosen outside its transaction, so the search never holds the writer, and checked again inside it.
/// </summary>
public sealed partial class RecordPurge(IServiceScopeFactory scopes, IOptions<RetentionOptions> options, TimeProvider time, ILogger<RecordPurge> logger)
{
    public const int SessionBatchSize = 50;
    public const int EventBatchSize = 500;

    /// <summary>Purges everything due, batch after batch, and logs the counts once.</summary>
    public async Task<PurgedRecords> PurgeAsync(CancellationToken ct)
    {
        var total = PurgedRecords.None;
        PurgedRecords batch;
        do
        {
            batch = await PurgeSessionsAsync(ct);
            total += batch;
        }
        while (batch.Sessions == SessionBatchSize);
        int events;
        do
        {
            events = await PurgeEventsAsync(ct);
            total += PurgedRecords.None with { Events = events };
        }
        while (events == EventBatchSize);
        await PurgeOAuthStatesAsync(ct);
        if (total != PurgedRecords.None)
        {
            LogPurged(logger, total.Sessions, total.Images, total.Deliveries, total.Events);
        }
        return total;
    }

    /// <summary>One batch of at most <see cref="SessionBatchSize"/> sessions, oldest first.</summary>
    public async Task<PurgedRecords> PurgeSessionsAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
        var now = Iso.Millis(time.GetUtcNow());
        var candidates = await DueSessions(db, now).OrderBy(s => s.CreatedAt).Select(s => s.Id).Take(SessionBatchSize).ToListAsync(ct);
        if (candidates.Count == 0)
        {
            return PurgedRecords.None;
        }
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var ids = await DueSessions(db, now).Where(s => candidates.Contains(s.Id)).Select(s => s.Id).ToListAsync(ct);
        // Children first: attempts, deliveries (the lock order of DeliveryRecorder: deliveries, then images), images, the session.
        var deliveries = db.Deliveries.Where(d => ids.Contains(d.SessionId));
        await db.DeliveryAttempts.Where(a => deliveries.Any(d => d.Id == a.DeliveryId)).ExecuteDeleteAsync(ct);
        var deliveryCount = await deliveries.ExecuteDeleteAsync(ct);
        var imageCount = await db.Images.Where(i => ids.Contains(i.SessionId)).ExecuteDeleteAsync(ct);
        await db.SessionDestinations.Where(d => ids.Contains(d.SessionId)).ExecuteDeleteAsync(ct);
        var sessionCount = await db.Sessions.Where(s => ids.Contains(s.Id)).ExecuteDeleteAsync(ct);
        await tx.CommitAsync(ct);
        return new PurgedRecords(sessionCount, imageCount, deliveryCount, 0);
    }

    /// <summary>One batch of at most <see cref="EventBatchSize"/> events with their event-webhook deliveries, oldest first.</summary>
    public async Task<int> PurgeEventsAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
        var before = Iso.Millis(time.GetUtcNow()) - options.Value.Records;
        var due = db.EventLogs.Where(e => e.CreatedAt < before
            && !db.WebhookDeliveries.Any(d => d.EventLogId == e.Id && d.Status == WebhookDeliveryStatus.Retrying));
        var candidates = await due.OrderBy(e => e.CreatedAt).Select(e => e.Id).Take(EventBatchSize).ToListAsync(ct);
        if (candidates.Count == 0)
        {
            return 0;
        }
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var ids = await due.Where(e => candidates.Contains(e.Id)).Select(e => e.Id).ToListAsync(ct);
        await db.WebhookDeliveries.Where(d => ids.Contains(d.EventLogId)).ExecuteDeleteAsync(ct);
        var count = await db.EventLogs.Where(e => ids.Contains(e.Id)).ExecuteDeleteAsync(ct);
        await tx.CommitAsync(ct);
        return count;
    }

    // Few rows (OAuthFlows already drops those a day old when a flow starts): one statement.
    private async Task PurgeOAuthStatesAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
        var before = Iso.Millis(time.GetUtcNow()) - options.Value.Records;
        await db.OAuthStates.Where(s => s.ExpiresAt < before).ExecuteDeleteAsync(ct);
    }

    // Created before the retention of records, expired, every image's bytes deleted, no delivery open.
    private IQueryable<Session> DueSessions(AperturDb db, DateTimeOffset now)
    {
        var before = now - options.Value.Records;
        return db.Sessions.Where(s => s.CreatedAt < before && s.ExpiresAt <= now
            && !db.Images.Any(i => i.SessionId == s.Id && i.BytesDeletedAt == null)
            && !db.Deliveries.Any(d => d.SessionId == s.Id
                && DeliveryStatus.Open.Contains(d.Status)));
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Retention: purged {Sessions} sessions ({Images} images, {Deliveries} deliveries) and {Events} events older than the retention of records")]
    private static partial void LogPurged(ILogger logger, int sessions, int images, int deliveries, int events);
}
