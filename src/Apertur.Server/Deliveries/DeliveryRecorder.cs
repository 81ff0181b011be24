using System.Data.Common;
using System.Threading.Channels;
using Apertur.Server.Data;
using Apertur.Server.Events;
using Apertur.Server.Hosting;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Deliveries;

/// <summary>One finished attempt waiting to be written: the claimed work, its lease token and what came of it.</summary>
public sealed record RecordedAttempt(DeliveryWork Work, Guid LeaseToken, DateTimeOffset StartedAt, TimeSpan Duration, DeliveryOutcome Outcome);

/// <summary>
/// Writes attempt outcomes, then tells the session's listeners. Outcomes that finish close together are written in one
/// transaction (group commit: one write lock and one fsync for many deliveries); each row update is guarded by its lease
/// token, so an outcome whose lease was lost and reclaimed meanwhile is dropped. Events go out only after the commit.
/// </summary>
public sealed partial class DeliveryRecorder(IServiceScopeFactory scopes, WriteGate gate, SessionEventHub events, FailureNudge failures,
    TimeProvider time, ILogger<DeliveryRecorder> logger)
{
    private const int MaxBatch = 256;
    private const int WriteTries = 3;
    private readonly Channel<(RecordedAttempt Attempt, TaskCompletionSource<bool> Done)> _queue =
        Channel.CreateUnbounded<(RecordedAttempt, TaskCompletionSource<bool>)>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>Queues an outcome; completes once it is committed (true) or dropped as stale or unwritable (false).</summary>
    public Task<bool> RecordAsync(RecordedAttempt attempt)
    {
        var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_queue.Writer.TryWrite((attempt, done)))
        {
            done.SetResult(false);
        }
        return done.Task;
    }

    /// <summary>No more outcomes will come; <see cref="RunAsync"/> ends once the queue is drained.</summary>
    public void Complete() => _queue.Writer.TryComplete();

    /// <summary>
    /// The writing loop: drains what is queued into a batch and writes it, with up to <see cref="WriteGate.ParallelWriters"/>
    /// batches in flight. It is not cancellable on purpose: outcomes already reached must be written before shutdown.
    /// </summary>
    public async Task RunAsync()
    {
        var writers = new SemaphoreSlim(gate.ParallelWriters);
        while (await _queue.Reader.WaitToReadAsync())
        {
            await writers.WaitAsync();
            var batch = new List<(RecordedAttempt Attempt, TaskCompletionSource<bool> Done)>();
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var item))
            {
                batch.Add(item);
            }
            _ = Task.Run(async () =>
            {
                try
                {
                    await WriteBatchAsync(batch);
                }
                finally
                {
                    writers.Release();
                }
            });
        }
        for (var i = 0; i < gate.ParallelWriters; i++)
        {
            await writers.WaitAsync();
        }
    }

    private async Task WriteBatchAsync(List<(RecordedAttempt Attempt, TaskCompletionSource<bool> Done)> batch)
    {
        var accepted = batch.Count == 0 ? [] : await WriteWithRetriesAsync(batch.Select(b => b.Attempt).ToList());
        foreach (var (attempt, done) in batch)
        {
            done.SetResult(accepted.Contains(attempt));
        }
        foreach (var attempt in accepted)
        {
            Announce(attempt);
        }
    }

    private async Task<HashSet<RecordedAttempt>> WriteWithRetriesAsync(List<RecordedAttempt> batch)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
                return [.. await WriteAsync(db, batch, time.GetUtcNow(), CancellationToken.None)];
            }
            catch (Exception e) when (attempt < WriteTries && e is DbException or DbUpdateException or InvalidOperationException)
            {
                LogWriteRetry(logger, e, batch.Count, attempt);
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), time);
            }
            catch (Exception e)
            {
                // The rows stay `sending`; their leases run out and the deliveries are attempted again (at-least-once).
                LogWriteFailed(logger, e, batch.Count);
                return [];
            }
        }
    }

    /// <summary>
    /// In one transaction: each delivery's new state guarded by its lease token, one attempt-log row per attempt that
    /// counts, and the sessions' change time. Returns the outcomes that were written (the others had lost their lease).
    /// </summary>
    internal static async Task<List<RecordedAttempt>> WriteAsync(AperturDb db, IReadOnlyList<RecordedAttempt> batch, DateTimeOffset now, CancellationToken ct)
    {
        now = Iso.Millis(now);
        var accepted = new List<RecordedAttempt>(batch.Count);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        foreach (var attempt in batch)
        {
            var o = attempt.Outcome;
            var id = attempt.Work.Delivery.Id;
            var token = attempt.LeaseToken;
            var next = Iso.Millis(o.NextAttemptAt);
            DateTimeOffset? first = o.FirstAttemptAt is { } f ? Iso.Millis(f) : null;
            var updated = await db.Deliveries.Where(d => d.Id == id && d.LeaseToken == token)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(d => d.Status, o.Status)
                    .SetProperty(d => d.Attempts, o.Attempts)
                    .SetProperty(d => d.LastError, o.LastError)
                    .SetProperty(d => d.LastStatusCode, o.LastStatusCode)
                    .SetProperty(d => d.NextAttemptAt, next)
                    .SetProperty(d => d.FirstAttemptAt, first)
                    .SetProperty(d => d.RemoteRef, o.RemoteRef)
                    .SetProperty(d => d.LeaseToken, (Guid?)null)
                    .SetProperty(d => d.LeaseExpiresAt, (DateTimeOffset?)null)
                    .SetProperty(d => d.UpdatedAt, now), ct);
            if (updated == 0)
            {
                continue;
            }
            if (o.IsAttempt)
            {
                db.DeliveryAttempts.Add(new DeliveryAttempt
                {
                    Id = Guid.CreateVersion7(now),
                    DeliveryId = id,
                    Attempt = o.Attempts,
                    StartedAt = Iso.Millis(attempt.StartedAt),
                    DurationMs = (int)Math.Min(int.MaxValue, attempt.Duration.TotalMilliseconds),
                    Outcome = o.AttemptOutcome!,
                    StatusCode = o.LastStatusCode,
                    ResponseSnippet = o.ResponseSnippet,
                    Error = o.Status == DeliveryStatus.Sent ? null : o.LastError,
                });
            }
            accepted.Add(attempt);
        }
        await db.SaveChangesAsync(ct);
        // Last, just before the commit: uploads to the session lock the same row, so hold it for as short a time as possible.
        foreach (var sessionId in accepted.Select(a => a.Work.Session.Id).Distinct().Order())
        {
            await db.Sessions.Where(s => s.Id == sessionId && s.LastChangedAt < now)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.LastChangedAt, now), ct);
        }
        await tx.CommitAsync(ct);
        db.ChangeTracker.Clear();
        return accepted;
    }

    /// <summary>
    /// Gives a claimed delivery back untried (the server is stopping): due again now, in the state it had before the
    /// claim, with nothing counted. Guarded by the lease token like every write after a claim.
    /// </summary>
    internal static Task<int> ReleaseAsync(AperturDb db, Guid deliveryId, Guid leaseToken, DateTimeOffset now, CancellationToken ct)
    {
        now = Iso.Millis(now);
        return db.Deliveries.Where(d => d.Id == deliveryId && d.LeaseToken == leaseToken)
            .ExecuteUpdateAsync(s => s
                .SetProperty(d => d.Status, d => d.Attempts == 0 ? DeliveryStatus.Pending : DeliveryStatus.Retrying)
                .SetProperty(d => d.LeaseToken, (Guid?)null)
                .SetProperty(d => d.LeaseExpiresAt, (DateTimeOffset?)null)
                .SetProperty(d => d.NextAttemptAt, now)
                .SetProperty(d => d.UpdatedAt, now), ct);
    }

    private void Announce(RecordedAttempt attempt)
    {
        var (work, o) = (attempt.Work, attempt.Outcome);
        var sessionId = work.Session.Id;
        var imageId = work.Image.Id.ToString();
        var destinationId = work.Delivery.DestinationId.ToString();
        var destination = work.Destination?.Name ?? work.Delivery.DestinationId.ToString();
        switch (o.Status)
        {
            case DeliveryStatus.Sent:
                LogSent(logger, work.Delivery.Id, destination, o.Attempts, attempt.Duration.TotalMilliseconds);
                events.Publish(sessionId, SessionEventNames.ImageDelivered, new { imageId, destinationId });
                break;
            case DeliveryStatus.Failed:
                LogFailed(logger, work.Delivery.Id, destination, o.Attempts, o.LastError);
                events.Publish(sessionId, SessionEventNames.ImageFailed, new { imageId, destinationId, error = o.LastError });
                failures.Poke();
                break;
            case DeliveryStatus.Cancelled:
                LogCancelled(logger, work.Delivery.Id, destination, o.LastError);
                break;
            default:
                LogRetrying(logger, work.Delivery.Id, destination, o.Attempts, o.LastError, o.NextAttemptAt);
                events.Publish(sessionId, SessionEventNames.ImageRetrying,
                    new { imageId, destinationId, error = o.LastError, attempts = o.Attempts, nextAttemptAt = Iso.Format(o.NextAttemptAt) });
                break;
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Delivered {DeliveryId} to {Destination} on attempt {Attempt} in {DurationMs} ms")]
    private static partial void LogSent(ILogger logger, Guid deliveryId, string destination, int attempt, double durationMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery {DeliveryId} to {Destination} failed for good after attempt {Attempt}: {Error}")]
    private static partial void LogFailed(ILogger logger, Guid deliveryId, string destination, int attempt, string? error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Delivery {DeliveryId} to {Destination} was cancelled: {Reason}")]
    private static partial void LogCancelled(ILogger logger, Guid deliveryId, string destination, string? reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Delivery {DeliveryId} to {Destination} will be retried at {NextAttemptAt} (attempt {Attempt}: {Error})")]
    private static partial void LogRetrying(ILogger logger, Guid deliveryId, string destination, int attempt, string? error, DateTimeOffset nextAttemptAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Writing {Count} delivery outcomes failed (try {Try}); trying again")]
    private static partial void LogWriteRetry(ILogger logger, Exception exception, int count, int @try);

    [LoggerMessage(Level = LogLevel.Error, Message = "Writing {Count} delivery outcomes failed; their leases will expire and they will be attempted again")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, int count);
}
