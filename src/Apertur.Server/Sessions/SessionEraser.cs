using Apertur.Server.Data;
using Apertur.Server.Deliveries;
using Apertur.Server.Events;
using Apertur.Server.EventWebhooks;
using Apertur.Server.Hosting;
using Apertur.Server.Images;
using Apertur.Server.Storage;
using Apertur.Server.Uploads;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Sessions;

/// <summary>
/// Deletion on demand (docs/api.md "Upload sessions", "Delete"), for <c>DELETE /upload-sessions/{uuid}</c> and the
/// dashboard's "Delete session" (docs/architecture.md "How a session is erased"). First, in one transaction: every
/// delivery not yet final is cancelled (a <c>sending</c> one loses its lease, so its outcome is dropped by
/// <see cref="DeliveryRecorder"/> and it is never retried), the session is marked deleted (it takes no more uploads and
/// reads as <c>expired</c>), its images leave the long-poll queue and are marked <c>bytes_deleted_at</c> /
/// <c>session_deleted</c>, and <c>project.session.deleted</c> is queued once. Then, after the commit, the bytes are
/// removed from the image store. The rows stay, so the delivery log shows what was deleted. Idempotent: a second call
/// changes nothing in the database and removes again any bytes a first call failed to remove.
/// </summary>
public sealed partial class SessionEraser(AperturDb db, IImageStore store, Thumbnails thumbnails, SessionEventHub events, EventPublisher webhookEvents,
    TimeProvider time, ILogger<SessionEraser> logger)
{
    /// <summary>Deletes the session <paramref name="uuid"/> of <paramref name="projectId"/> (404 <c>SESSION_NOT_FOUND</c> otherwise).</summary>
    public async Task DeleteAsync(Guid projectId, string uuid, CancellationToken ct)
    {
        var session = await SessionState.FindAsync(db, uuid, ct, projectId);
        var now = Iso.Millis(time.GetUtcNow());
        var listeners = await webhookEvents.ListenersAsync(projectId, ct);
        var first = false;
        await using (var tx = await db.Database.BeginTransactionAsync(ct))
        {
            // Deliveries before the session row, in the order DeliveryRecorder locks them (deliveries, then the session), so
            // the two never wait on each other in a circle.
            await CancelOpenDeliveriesAsync(session.Id, now, ct);
            // From this row on no upload commits to the session (UploadCommitter's claim checks deleted_at); one that
            // committed while this waited for the row is caught by the second pass. What the caller attached about the
            // person (tags, metadata) goes; what the delivery log shows (ids, label, times, counts) stays.
            first = await db.Sessions.Where(s => s.Id == session.Id && s.DeletedAt == null)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(x => x.DeletedAt, now)
                    .SetProperty(x => x.LastChangedAt, now)
                    .SetProperty(x => x.Tags, Array.Empty<string>())
                    .SetProperty(x => x.Metadata, (string?)null), ct) == 1;
            await CancelOpenDeliveriesAsync(session.Id, now, ct);
            await db.Images.Where(i => i.SessionId == session.Id && i.BytesDeletedAt == null)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(i => i.InPollQueue, false)
                    .SetProperty(i => i.ContentSha256, (byte[]?)null)
                    .SetProperty(i => i.BytesDeletedAt, now)
                    .SetProperty(i => i.BytesDeletedReason, BytesDeleted.SessionDeleted), ct);
            if (first)
            {
                await webhookEvents.PublishAsync(listeners, session.Env, EventTopics.SessionDeleted, EventData.Session(session, SessionStatus.Deleted), ct);
            }
            await tx.CommitAsync(ct);
        }
        if (first)
        {
            webhookEvents.Nudge();
            // Open upload pages and dashboards re-read the session and find it closed.
            events.Publish(session.Id, SessionEventNames.SessionUpdated, new { sessionId = session.Id });
            LogDeleted(logger, session.Id);
        }
        await RemoveBytesAsync(session.Id, ct);
    }

    // Every call, not only the first: a failed delivery retried by hand after the deletion is cancelled again here. A
    // `sending` one loses its lease: its attempt's outcome is then dropped by DeliveryRecorder's lease-guarded update.
    private Task<int> CancelOpenDeliveriesAsync(Guid sessionId, DateTimeOffset now, CancellationToken ct) =>
        DeliveryCancellation.CancelOpenAsync(db.Deliveries.Where(d => d.SessionId == sessionId), BytesDeleted.SessionDeleted, now, ct);

    // Every image of the session whose bytes were deleted with it: deleting an id the store no longer holds is no error,
    // so what an earlier call could not remove is removed now.
    private async Task RemoveBytesAsync(Guid sessionId, CancellationToken ct)
    {
        var ids = await db.Images.AsNoTracking()
            .Where(i => i.SessionId == sessionId && i.BytesDeletedReason == BytesDeleted.SessionDeleted)
            .Select(i => i.Id).ToListAsync(ct);
        thumbnails.Delete(ids);
        var failed = await store.RemoveAllAsync(ids, (id, e) => LogBytesNotDeleted(logger, e, id, sessionId), ct);
        if (failed > 0)
        {
            LogSomeBytesLeft(logger, failed, ids.Count, sessionId);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} deleted on demand: deliveries cancelled, images marked deleted")]
    private static partial void LogDeleted(ILogger logger, Guid sessionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The bytes of image {ImageId} (deleted session {SessionId}) could not be removed from the image store")]
    private static partial void LogBytesNotDeleted(ILogger logger, Exception exception, Guid imageId, Guid sessionId);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Failed} of {Total} images of deleted session {SessionId} are still in the image store; delete the session again to retry")]
    private static partial void LogSomeBytesLeft(ILogger logger, int failed, int total, Guid sessionId);
}
