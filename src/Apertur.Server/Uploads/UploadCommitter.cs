using System.Threading.Channels;
using Apertur.Server.Data;
using Apertur.Server.EventWebhooks;
using Apertur.Server.Hosting;
using Apertur.Server.Sessions;
using Apertur.Server.Storage;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Uploads;

/// <summary>A checked image ready to be committed.</summary>
public sealed record NewImage(Guid Id, string Filename, string MimeType, long SizeBytes, int Width, int Height, string Source, bool IsEncrypted,
    string? IdempotencyKey = null, byte[]? ContentSha256 = null, string? TraceParent = null);

/// <summary>
/// The committed image and what it did to its session. <see cref="Replayed"/>: the session already had an image under the
/// upload's idempotency key (sent at the same time); <see cref="Image"/> is that one and nothing was stored.
/// </summary>
public sealed record CommittedImage(Image Image, int Destinations, bool CompletedSession, bool Replayed = false);

/// <summary>
/// Makes uploads durable (docs/architecture.md "How an upload flows", step 4). The caller has already moved the bytes into the store;
/// this claims the next image index of the session (the only guard against over-filling, safe under concurrency), inserts
/// the image, one pending delivery per active destination (the outbox the delivery worker drains) and the
/// <c>project.upload.completed</c> event for subscribed event webhooks, and commits.
/// Uploads that arrive while a commit runs are committed together in the next transaction: one fsync for the batch
/// instead of one each (group commit), which is what lets SQLite keep up with many concurrent uploads. A lone upload
/// commits at once. Each upload claims its own slot, so a full session fails only that upload, never the batch. On
/// PostgreSQL two batches are in flight at once, so the server's CPU is not idle while a commit waits for its flush.
/// </summary>
public sealed partial class UploadCommitter(IServiceScopeFactory scopes, DatabaseSettings database, TimeProvider time,
    ILogger<UploadCommitter> logger) : BackgroundService
{
    private const int MaxBatch = 64;

    /// <summary>Batches committed at once on PostgreSQL.</summary>
    private const int PostgresBatchesInFlight = 2;

    // The per-upload queries.
    private static readonly CompiledQuery<Func<AperturDb, Guid, IAsyncEnumerable<Guid>>> ActiveDestinationIds = new(() =>
        EF.CompileAsyncQuery((AperturDb db, Guid sessionId) => db.SessionDestinations.Where(sd => sd.SessionId == sessionId)
            .Join(db.Destinations.Where(d => d.IsActive), sd => sd.DestinationId, d => d.Id, (sd, d) => new { sd.Position, d.Id })
            .OrderBy(x => x.Position).Select(x => x.Id)));

    private static readonly CompiledQuery<Func<AperturDb, Guid, Task<Session>>> ReadSession = new(() =>
        EF.CompileAsyncQuery((AperturDb db, Guid sessionId) => db.Sessions.AsNoTracking().First(s => s.Id == sessionId)));

    /// <summary>
    /// The claim of the session's next slot, answering the session row as it is after it (RETURNING, on both databases):
    /// no row when the session is closed or full. One statement instead of an update and a read, and plain SQL instead of
    /// an <c>ExecuteUpdate</c> that EF Core translates on every call (docs/performance.md "Issue 21"). <paramref name="now"/>
    /// as the database stores times: unix milliseconds on SQLite, timestamptz on PostgreSQL. The columns are named, not
    /// <c>*</c>: on PostgreSQL the statement is kept prepared (Data/PostgresConnectionDefaults.cs), and a prepared <c>*</c>
    /// fails once a newer replica's migration adds a column to sessions.
    /// </summary>
    private static FormattableString ClaimSql(string columns, Guid sessionId, object now) => FormattableStringFactory.Create($$"""
        UPDATE sessions
        SET image_count = image_count + 1, last_changed_at = {0},
            status = CASE WHEN image_count + 1 >= max_images THEN {1} ELSE status END
        WHERE id = {2} AND status = {3} AND image_count < max_images AND expires_at > {0} AND deleted_at IS NULL
        RETURNING {{columns}}
        """, now, SessionStatus.Completed, sessionId, SessionStatus.Active);

    // The sessions table's columns as the model maps them, read once.
    private static string? _sessionColumns;

    private static string SessionColumns(AperturDb db) => _sessionColumns ??= string.Join(", ",
        db.Model.FindEntityType(typeof(Session))!.GetProperties()
            .Select(p => "\"" + p.GetColumnName() + "\""));

    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = false });

    private sealed record Pending(Guid SessionId, NewImage Image, EventListeners Listeners, TaskCompletionSource<CommittedImage> Done)
    {
        /// <summary>Set just before the COMMIT of a batch that holds this image's row: from then on a failure may still have committed it.</summary>
        public bool CommitSent { get; set; }
    }

    /// <summary>
    /// Commits one image whose bytes are already in <paramref name="store"/>. If the commit fails, the bytes are removed
    /// again (unless the row may exist after all) and the failure is rethrown: a database that cannot be used right now
    /// surfaces as such, and the error handler answers 503 (<see cref="DatabaseUnavailable"/>).
    /// </summary>
    /// <param name="listeners">The project's event webhooks as read when the upload started: they hear its completion.</param>
    public async Task<CommittedImage> CommitAsync(AperturDb db, IImageStore store, Guid sessionId, NewImage image, EventListeners listeners,
        CancellationToken ct)
    {
        Pending? pending = null;
        try
        {
            pending = new Pending(sessionId, image, listeners, new TaskCompletionSource<CommittedImage>(TaskCreationOptions.RunContinuationsAsynchronously));
            // Once queued, the client leaving changes nothing: the commit is finished either way.
            await _queue.Writer.WriteAsync(pending, CancellationToken.None);
            return await pending.Done.Task;
        }
        catch (Exception e)
        {
            await RemoveUncommittedFileAsync(db, store, image.Id, mayHaveCommitted: pending?.CommitSent == true, e, logger);
            throw;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // SQLite has one writer: one batch at a time. PostgreSQL takes several: while one batch waits for its commit's WAL
        // flush, the next is built and sent (docs/performance.md "Issue 21"). Batches lock session rows in one order, so
        // two in flight wait for each other at worst, never deadlock.
        var loops = database.Provider == DatabaseProvider.Postgres ? PostgresBatchesInFlight : 1;
        await Task.WhenAll(Enumerable.Range(0, loops).Select(_ => CommitLoopAsync(stoppingToken)));
        _queue.Writer.TryComplete();
        while (_queue.Reader.TryRead(out var left))
        {
            left.Done.TrySetException(new ApiException(503, "SHUTTING_DOWN", "The server is shutting down; send the image again."));
        }
    }

    private async Task CommitLoopAsync(CancellationToken stoppingToken)
    {
        var batch = new List<Pending>(MaxBatch);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var next))
                {
                    batch.Add(next);
                }
                if (batch.Count > 0)
                {
                    await CommitBatchAsync(batch);
                    batch.Clear();
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: requests still queued fail and clean up after themselves.
        }
    }

    private async Task CommitBatchAsync(List<Pending> batch)
    {
        var committed = new List<(Pending Item, CommittedImage Result)>(batch.Count);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
            var events = scope.ServiceProvider.GetRequiredService<EventPublisher>();
            // On SQLite the transaction waits for the write gate (Data/WriteGate.cs): the time is read once it has it.
            await using var tx = await db.Database.BeginTransactionAsync(CancellationToken.None);
            // A failure rolls the whole batch back: the savepoint EF Core would set around each save inside it serves nothing.
            db.Database.AutoSavepointsEnabled = false;
            var now = Iso.Millis(time.GetUtcNow());
            var work = new BatchWork();
            // Session rows are claimed in one order (by id) in every batch of every replica: two batches that both touch
            // sessions S1 and S2 in opposite orders would deadlock on PostgreSQL. Stable: a session's uploads keep their order.
            foreach (var item in batch.OrderBy(i => i.SessionId))
            {
                if (await ClaimAsync(db, events, item, now, work) is { } result)
                {
                    committed.Add((item, result));
                }
            }
            await db.SaveChangesAsync(CancellationToken.None);
            foreach (var (item, _) in committed)
            {
                item.CommitSent = true;
            }
            await tx.CommitAsync(CancellationToken.None);
            // Only when an event webhook has something to send: a wake-up for nothing costs the worker a lease query.
            if (work.EventsQueued)
            {
                events.Nudge();
            }
        }
        catch (Exception e)
        {
            if (DatabaseUnavailable.Is(e))
            {
                LogBatchFailedUnavailable(logger, batch.Count, e.GetBaseException().Message);
            }
            else if (StorageFull.Is(e))
            {
                // SQLite's "database or disk is full": each upload answers 507 (UploadHandler), nothing was committed.
                LogBatchFailedFull(logger, batch.Count, e.GetBaseException().Message);
            }
            else
            {
                LogBatchFailed(logger, e, batch.Count);
            }
            // Every upload of the batch gets this answer, also those the failure came before (a full session keeps its 422).
            foreach (var item in batch)
            {
                item.Done.TrySetException(e);
            }
            return;
        }
        foreach (var (item, result) in committed)
        {
            item.Done.TrySetResult(result);
        }
    }

    // Claims the session's next slot and stages the rows; a closed or full session fails only this upload.
    private async Task<CommittedImage?> ClaimAsync(AperturDb db, EventPublisher events, Pending item, DateTimeOffset now, BatchWork work)
    {
        var sessionId = item.SessionId;
        var claimSql = ClaimSql(SessionColumns(db), sessionId, database.Provider == DatabaseProvider.Sqlite ? now.ToUnixTimeMilliseconds() : now);
        var session = (await db.Sessions.FromSql(claimSql).AsNoTracking().ToListAsync(CancellationToken.None)).SingleOrDefault();
        if (item.Image.IdempotencyKey is { } key && await FindKeyedAsync(db, work.Keyed, sessionId, key) is { } original)
        {
            // Checked after the claim, which holds the session row until commit: a twin committed by another replica is seen.
            if (session is not null)
            {
                await db.Sessions.Where(s => s.Id == sessionId).ExecuteUpdateAsync(set => set
                    .SetProperty(s => s.ImageCount, s => s.ImageCount - 1)
                    .SetProperty(s => s.Status, SessionStatus.Active));
            }
            return new CommittedImage(original, 0, false, Replayed: true);
        }
        if (session is null)
        {
            var closed = await ReadSession.For(db)(db, sessionId);
            item.Done.TrySetException(UploadChecks.Closed(closed, now) ?? new ApiException(422, "SESSION_FULL", "This session accepts no more images."));
            return null;
        }
        // Read in the transaction that claimed the slot: a destination deactivated before the commit gets no delivery.
        var destinationIds = new List<Guid>();
        await foreach (var id in ActiveDestinationIds.For(db)(db, sessionId))
        {
            destinationIds.Add(id);
        }
        var image = item.Image;
        var row = new Image
        {
            Id = image.Id,
            SessionId = sessionId,
            ProjectId = session.ProjectId,
            Env = session.Env,
            ImageIndex = session.ImageCount - 1,
            Filename = image.Filename,
            MimeType = image.MimeType,
            SizeBytes = image.SizeBytes,
            Width = image.Width,
            Height = image.Height,
            Source = image.Source,
            IsEncrypted = image.IsEncrypted,
            InPollQueue = session.LongPolling,
            CreatedAt = now,
            IdempotencyKey = image.IdempotencyKey,
            ContentSha256 = image.ContentSha256,
            TraceParent = image.TraceParent,
        };
        db.Images.Add(row);
        if (row.IdempotencyKey is { } newKey)
        {
            work.Keyed[(sessionId, newKey)] = row;
        }
        foreach (var destinationId in destinationIds)
        {
            db.Deliveries.Add(new Deliveries.Delivery
            {
                Id = Ids.New(time),
                ImageId = row.Id,
                SessionId = sessionId,
                ProjectId = row.ProjectId,
                DestinationId = destinationId,
                Status = Deliveries.DeliveryStatus.Pending,
                NextAttemptAt = now,
                CreatedAt = now,
                UpdatedAt = now,
            });
        }
        var completed = session.Status == SessionStatus.Completed;
        if (await events.PublishAsync(item.Listeners, session.Env, EventTopics.UploadCompleted, EventData.UploadCompleted(row, session, completed),
                CancellationToken.None) > 0)
        {
            work.EventsQueued = true;
        }
        return new CommittedImage(row, destinationIds.Count, completed);
    }

    // What one batch's claims share: the keys staged so far, and whether any event webhook delivery was queued.
    private sealed class BatchWork
    {
        public Dictionary<(Guid, string), Image> Keyed { get; } = [];

        public bool EventsQueued { get; set; }
    }

    // The image already stored under this key: earlier in this batch, or committed before it (unique per session in the schema).
    private static async Task<Image?> FindKeyedAsync(AperturDb db, Dictionary<(Guid, string), Image> keyed, Guid sessionId, string key) =>
        keyed.TryGetValue((sessionId, key), out var staged) ? staged
        : await UploadIdempotency.FindAsync(db, sessionId, key, CancellationToken.None);

    // A failed COMMIT can still have committed (a connection lost mid-answer): delete the bytes only when the row is surely
    // absent, either because no COMMIT was sent or because the database says so; when it cannot be asked, keep them.
    private static async Task RemoveUncommittedFileAsync(AperturDb db, IImageStore store, Guid imageId, bool mayHaveCommitted, Exception failure,
        ILogger logger)
    {
        try
        {
            db.ChangeTracker.Clear();
            if (mayHaveCommitted && await db.Images.AnyAsync(i => i.Id == imageId, CancellationToken.None))
            {
                LogCommittedDespiteError(logger, failure, imageId);
                return;
            }
            await store.DeleteAsync(imageId, CancellationToken.None);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogCommitUncertain(logger, e, imageId);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Committing a batch of {Count} uploads failed")]
    private static partial void LogBatchFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Committing a batch of {Count} uploads failed: the database is unavailable ({Reason})")]
    private static partial void LogBatchFailedUnavailable(ILogger logger, int count, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Committing a batch of {Count} uploads failed: the disk is full ({Reason})")]
    private static partial void LogBatchFailedFull(ILogger logger, int count, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Commit of image {ImageId} reported an error, but the image row exists; its file is kept")]
    private static partial void LogCommittedDespiteError(ILogger logger, Exception exception, Guid imageId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Commit of image {ImageId} failed and its outcome could not be checked; its file is kept")]
    private static partial void LogCommitUncertain(ILogger logger, Exception exception, Guid imageId);
}
