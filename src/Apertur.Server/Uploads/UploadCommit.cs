using Apertur.Server.Data;
using Apertur.Server.Hosting;
using Apertur.Server.Sessions;
using Apertur.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Uploads;

/// <summary>A checked image ready to be committed.</summary>
public sealed record NewImage(Guid Id, string Filename, string MimeType, long SizeBytes, int Width, int Height, string Source, bool IsEncrypted);

/// <summary>The committed image and what it did to its session.</summary>
public sealed record CommittedImage(Image Image, int Destinations, bool CompletedSession);

/// <summary>
/// Makes an upload durable in one transaction: claim the next image index (the session's only guard against
/// over-filling, safe under concurrency), insert the image and one pending delivery per active destination (the outbox
/// the delivery worker drains), move the bytes into the store, commit. Either all of it exists afterwards, or none.
/// </summary>
public static partial class UploadCommit
{
    public static async Task<CommittedImage> CommitAsync(AperturDb db, IImageStore store, WriteGate writeGate, Guid sessionId, NewImage image,
        string tempPath, TimeProvider time, ILogger logger, CancellationToken ct)
    {
        var destinationIds = await db.SessionDestinations
            .Where(sd => sd.SessionId == sessionId)
            .Join(db.Destinations.Where(d => d.IsActive), sd => sd.DestinationId, d => d.Id, (sd, d) => new { sd.Position, d.Id })
            .OrderBy(x => x.Position).Select(x => x.Id).ToListAsync(ct);

        // The bytes go into the store first, outside the write lock; if the commit fails they are removed again.
        await store.PutAsync(image.Id, tempPath, ct);
        try
        {
            using var gate = await writeGate.EnterAsync(ct);
            var now = Iso.Millis(time.GetUtcNow());
            await using var tx = await db.Database.BeginTransactionAsync(ct);

            // One guarded UPDATE claims a slot: concurrent uploads serialise on the row, and the last one completes the session.
            var claimed = await db.Sessions
                .Where(s => s.Id == sessionId && s.Status == SessionStatus.Active && s.ImageCount < s.MaxImages && s.ExpiresAt > now)
                .ExecuteUpdateAsync(set => set
                    .SetProperty(s => s.ImageCount, s => s.ImageCount + 1)
                    .SetProperty(s => s.LastChangedAt, now)
                    .SetProperty(s => s.Status, s => s.ImageCount + 1 >= s.MaxImages ? SessionStatus.Completed : s.Status), ct);
            var session = await db.Sessions.AsNoTracking().FirstAsync(s => s.Id == sessionId, ct);
            if (claimed == 0)
            {
                throw UploadChecks.Closed(session, now) ?? new ApiException(422, "SESSION_FULL", "This session accepts no more images.");
            }

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
            };
            db.Images.Add(row);
            foreach (var destinationId in destinationIds)
            {
                db.Deliveries.Add(new Delivery.Delivery
                {
                    Id = Ids.New(time),
                    ImageId = row.Id,
                    SessionId = sessionId,
                    DestinationId = destinationId,
                    Status = Delivery.DeliveryStatus.Pending,
                    NextAttemptAt = now,
                    CreatedAt = now,
                    UpdatedAt = now,
                });
            }
            await db.SaveChangesAsync(ct);
            // Past this point the client leaving changes nothing: finish the commit.
            await tx.CommitAsync(CancellationToken.None);
            return new CommittedImage(row, destinationIds.Count, session.Status == SessionStatus.Completed);
        }
        catch (Exception e)
        {
            await RemoveUncommittedFileAsync(db, store, image.Id, e, logger);
            throw;
        }
    }

    // A failed COMMIT can still have committed (a connection lost mid-answer): delete the bytes only when the row is surely absent.
    private static async Task RemoveUncommittedFileAsync(AperturDb db, IImageStore store, Guid imageId, Exception failure, ILogger logger)
    {
        try
        {
            db.ChangeTracker.Clear();
            if (await db.Images.AnyAsync(i => i.Id == imageId, CancellationToken.None))
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Commit of image {ImageId} reported an error, but the image row exists; its file is kept")]
    private static partial void LogCommittedDespiteError(ILogger logger, Exception exception, Guid imageId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Commit of image {ImageId} failed and its outcome could not be checked; its file is kept")]
    private static partial void LogCommitUncertain(ILogger logger, Exception exception, Guid imageId);
}
