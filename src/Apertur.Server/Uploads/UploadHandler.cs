using Apertur.Server.Data;
using Apertur.Server.Deliveries;
using Apertur.Server.Encryption;
using Apertur.Server.Events;
using Apertur.Server.EventWebhooks;
using Apertur.Server.Hosting;
using Apertur.Server.Sessions;
using Apertur.Server.Storage;
using Apertur.Server.Telemetry;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Apertur.Server.Uploads;

/// <summary>
/// One upload, start to finish (docs/architecture.md "How an upload flows"): cheap checks, body to a temp file, checks on the
/// bytes, one-transaction commit, events. Whatever fails, the temp file is gone when this returns. Event webhooks hear
/// <c>project.upload.started</c> once the session checks pass, then <c>.completed</c> (in the commit) or <c>.failed</c>.
/// A retry with the <c>Idempotency-Key</c> of an image already stored is answered as the first time (<see cref="UploadIdempotency"/>),
/// whatever the session's state now (unless it was deleted), and stores, publishes and delivers nothing.
/// </summary>
public sealed partial class UploadHandler(AperturDb db, IImageStore store, FreeSpace freeSpace, UploadCommitter committer, ServerKeys keys,
    SessionEventHub events, DeliveryNudge deliveries, EventPublisher webhookEvents, TimeProvider time, IOptions<UploadOptions> options,
    AperturMetrics metrics, ILogger<UploadHandler> logger)
{
    public async Task<UploadResult> HandleAsync(string uuid, HttpRequest request, CancellationToken ct)
    {
        var started = time.GetTimestamp();
        try
        {
            return await HandleAsync(uuid, request, started, ct);
        }
        catch (Exception e)
        {
            // Counted by the code answered (the rate limit's 429 never gets here: apertur.rate_limit.refusals counts it).
            metrics.UploadRefused(e switch { ApiException api => api.Code, OperationCanceledException => "cancelled", _ => "error" }, time.GetElapsedTime(started));
            throw;
        }
    }

    private async Task<UploadResult> HandleAsync(string uuid, HttpRequest request, long started, CancellationToken ct)
    {
        var idempotencyKey = UploadIdempotency.KeyOf(request);
        var (session, limits, original, listeners) = await StartAsync(uuid, idempotencyKey, request, ct);
        if (original is not null)
        {
            return await ReplayAsync(request, original, limits, started, ct);
        }

        var tempPath = store.NewTempFilePath();
        try
        {
            var received = await UploadReceiver.ReceiveAsync(request, tempPath, limits, keys, hash: idempotencyKey is not null, ct);
            var source = UploadChecks.Source(received.Source);
            var inspected = ImageInspection.Inspect(tempPath, received.SizeBytes, session.AllowedMimeTypes, limits);
            // Store and commit in one span; its traceparent goes with the image so each delivery attempt continues this trace.
            using var commitSpan = AperturTelemetry.Source.StartActivity("apertur.upload.commit");
            var image = new NewImage(
                Id: Ids.New(time),
                Filename: UploadFilenames.Sanitise(received.Filename, inspected.MimeType, received.Encrypted),
                MimeType: inspected.MimeType,
                SizeBytes: received.SizeBytes,
                Width: inspected.Width,
                Height: inspected.Height,
                Source: source,
                IsEncrypted: received.Encrypted,
                IdempotencyKey: idempotencyKey,
                ContentSha256: received.Sha256,
                TraceParent: AperturTelemetry.CurrentTraceParent());
            commitSpan?.SetTag("apertur.image.id", image.Id.ToString());
            // The bytes go into the store first, outside any transaction; a failed commit removes them again.
            await store.PutAsync(image.Id, tempPath, ct);
            var committed = await committer.CommitAsync(db, store, session.Id, image, listeners, ct);
            var stored = committed.Image;
            if (committed.Replayed)
            {
                // A twin with the same key was committed first: this copy of the bytes is not needed.
                await store.DeleteAsync(image.Id, CancellationToken.None);
                var replayed = await UploadIdempotency.ReplayAsync(db, request.HttpContext.Response, stored, received.Sha256!, ct);
                metrics.UploadReplayed(time.GetElapsedTime(started));
                return replayed;
            }
            if (committed.Destinations > 0)
            {
                // The deliveries are committed: wake the worker now rather than at its next poll.
                deliveries.Poke();
            }
            LogAccepted(logger, stored.Id, session.Id, stored.ImageIndex, stored.MimeType, stored.SizeBytes);
            metrics.UploadAccepted(stored.SizeBytes, time.GetElapsedTime(started));

            events.Publish(session.Id, SessionEventNames.ImageReady, new { imageId = stored.Id.ToString(), filename = stored.Filename, sizeBytes = stored.SizeBytes });
            if (committed.CompletedSession)
            {
                events.Publish(session.Id, SessionEventNames.SessionCompleted, new { sessionId = session.Id.ToString() });
            }
            return UploadResult.Of(stored, committed.Destinations);
        }
        catch (ApiException e)
        {
            LogRejected(logger, session.Id, e.Status, e.Code);
            await PublishFailedAsync(session, listeners, e);
            throw;
        }
        catch (Exception e) when (StorageFull.Is(e))
        {
            // The disk filled while the temp file was written or moved in, or SQLite's file could not grow at commit: the temp
            // file goes (finally), no row was committed, and this is one line, not a stack trace.
            LogStorageFull(logger, session.Id, e.GetBaseException().Message);
            var answer = StorageFull.Answer();
            await PublishFailedAsync(session, listeners, answer);
            throw answer;
        }
        finally
        {
            DeleteQuietly(tempPath);
        }
    }

    /// <summary>
    /// What comes before the body: the session and its checks, the image already stored under the idempotency key (a
    /// replay: nothing else is read), else the project's event webhooks, which hear <c>project.upload.started</c>. The reads
    /// share one connection (each would otherwise open and close its own), given back before the body is read.
    /// </summary>
    private async Task<(Session Session, UploadLimits Limits, Image? Original, EventListeners Listeners)> StartAsync(string uuid,
        string? idempotencyKey, HttpRequest request, CancellationToken ct)
    {
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            var session = await SessionState.FindAsync(db, uuid, ct);
            var original = idempotencyKey is null ? null : await UploadIdempotency.FindAsync(db, session.Id, idempotencyKey, ct);
            // A replay is answered whatever the session's state, except once the session was deleted: nothing of it is served then.
            if ((original is null || session.DeletedAt is not null) && UploadChecks.Closed(session, time.GetUtcNow()) is { } closed)
            {
                throw closed;
            }
            UploadChecks.RequirePassword(session, request.Headers["x-session-password"].ToString());
            var limits = UploadLimits.For(session, options.Value);
            // Below Apertur:Storage:MinFreeBytes: 507 before a byte of the body is read or written (docs/deploy.md "A full disk").
            freeSpace.RequireRoomFor(request.ContentLength);
            if (original is not null)
            {
                return (session, limits, original, new EventListeners(session.ProjectId, []));
            }
            var listeners = await webhookEvents.ListenersAsync(session.ProjectId, ct);
            await webhookEvents.PublishAsync(listeners, session.Env, EventTopics.UploadStarted, EventData.UploadStarted(session, request.ContentLength), ct);
            return (session, limits, null, listeners);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    // The body is read (and counted against the limits) only to compare its hash with the stored image's.
    private async Task<UploadResult> ReplayAsync(HttpRequest request, Image original, UploadLimits limits, long started, CancellationToken ct)
    {
        var tempPath = store.NewTempFilePath();
        try
        {
            var received = await UploadReceiver.ReceiveAsync(request, tempPath, limits, keys, hash: true, ct);
            LogReplayed(logger, original.Id, original.SessionId);
            var replayed = await UploadIdempotency.ReplayAsync(db, request.HttpContext.Response, original, received.Sha256!, ct);
            metrics.UploadReplayed(time.GetElapsedTime(started));
            return replayed;
        }
        finally
        {
            DeleteQuietly(tempPath);
        }
    }

    // Outside any transaction, and after dropping whatever the failed commit left tracked, so only the event is saved.
    private async Task PublishFailedAsync(Session session, EventListeners listeners, ApiException error)
    {
        try
        {
            db.ChangeTracker.Clear();
            await webhookEvents.PublishAsync(listeners, session.Env, EventTopics.UploadFailed,
                EventData.UploadFailed(session, error.Status, error.Code, error.Message), CancellationToken.None);
        }
        catch (Exception e) when (StorageFull.Is(e))
        {
            LogFailedEventLostFull(logger, session.Id, e.GetBaseException().Message);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogFailedEventLost(logger, e, session.Id);
        }
    }

    private void DeleteQuietly(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogTempNotDeleted(logger, e, path);
        }
    }

    // Debug: a line per upload at Information would be the busiest log of a server (docs/performance.md "Issue 21").
    [LoggerMessage(Level = LogLevel.Debug, Message = "Accepted image {ImageId} for session {SessionId} at index {ImageIndex} ({MimeType}, {SizeBytes} bytes)")]
    private static partial void LogAccepted(ILogger logger, Guid imageId, Guid sessionId, int imageIndex, string mimeType, long sizeBytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Upload retried with the idempotency key of image {ImageId} in session {SessionId}")]
    private static partial void LogReplayed(ILogger logger, Guid imageId, Guid sessionId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Rejected an upload to session {SessionId}: {Status} {Code}")]
    private static partial void LogRejected(ILogger logger, Guid sessionId, int status, string code);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused an upload to session {SessionId} with 507: the server's storage is full ({Reason})")]
    private static partial void LogStorageFull(ILogger logger, Guid sessionId, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not queue project.upload.failed for session {SessionId}")]
    private static partial void LogFailedEventLost(ILogger logger, Exception exception, Guid sessionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not queue project.upload.failed for session {SessionId}: the server's storage is full ({Reason})")]
    private static partial void LogFailedEventLostFull(ILogger logger, Guid sessionId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not delete upload temp file {Path}")]
    private static partial void LogTempNotDeleted(ILogger logger, Exception exception, string path);
}
