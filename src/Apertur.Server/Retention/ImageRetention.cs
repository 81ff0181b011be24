using Apertur.Server.Data;
using Apertur.Server.Deliveries;
using Apertur.Server.Hosting;
using Apertur.Server.Images;
using Apertur.Server.Storage;
using Apertur.Server.Uploads;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Apertur.Server.Retention;

/// <summary>
/// Deletes the bytes of images past their retention (docs/operations.md "Retention"): done with for
/// <c>ImagesAfterDelivery</c> (every delivery final, acknowledged when polled), or uploaded more than <c>MaxImageAge</c>
/// ago whatever their state. A batch is first marked in the database (<c>bytes_deleted_at</c>, reason <c>retention</c>,
/// out of the poll queue, open deliveries cancelled), then its bytes leave the image store: a download answers 410 from the
/// moment of the commit, and bytes a failed delete leaves behind are an orphan, never a row without bytes that still
/// claims them.
/// </summary>
public sealed partial class ImageRetention(IServiceScopeFactory scopes, IImageStore store, Thumbnails thumbnails, IOptions<RetentionOptions> options,
    TimeProvider time, ILogger<ImageRetention> logger)
{
    public const int BatchSize = 200;

    /// <summary>
    /// Deletes one batch; returns how many images it took (a full batch means there may be more). A project's own shorter
    /// retention applies to its images (<see cref="ProjectRetention"/>).
    /// </summary>
    public async Task<int> SweepAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
        var now = Iso.Millis(time.GetUtcNow());
        var server = options.Value;
        // A project that shortens a retention is swept apart with its own thresholds; few projects do (docs/operations.md "Retention").
        var shorter = (await db.Projects.AsNoTracking()
                .Where(p => p.ImagesAfterDeliveryMinutes != null || p.MaxImageAgeMinutes != null)
                .Select(p => new { p.Id, p.ImagesAfterDeliveryMinutes, p.MaxImageAgeMinutes })
                .ToListAsync(ct))
            .Select(p => (p.Id, AfterDelivery: ProjectRetention.Effective(p.ImagesAfterDeliveryMinutes, server.ImagesAfterDelivery),
                MaxAge: ProjectRetention.Effective(p.MaxImageAgeMinutes, server.MaxImageAge)))
            .Where(p => p.AfterDelivery != server.ImagesAfterDelivery || p.MaxAge != server.MaxImageAge)
            .ToList();
        var apart = shorter.Select(p => p.Id).ToList();
        var images = apart.Count == 0 ? db.Images : db.Images.Where(i => !apart.Contains(i.ProjectId));
        var due = await DueAsync(db, images, now, server.ImagesAfterDelivery, server.MaxImageAge, BatchSize, ct);
        foreach (var project in shorter)
        {
            if (due.Count == BatchSize)
            {
                break;
            }
            due.AddRange(await DueAsync(db, db.Images.Where(i => i.ProjectId == project.Id), now, project.AfterDelivery, project.MaxAge,
                BatchSize - due.Count, ct));
        }
        if (due.Count == 0)
        {
            return 0;
        }
        await using (var tx = await db.Database.BeginTransactionAsync(ct))
        {
            // Deliveries first, then images: the lock order of DeliveryRecorder and SessionEraser.
            await DeliveryCancellation.CancelOpenAsync(db.Deliveries.Where(d => due.Contains(d.ImageId)), BytesDeleted.Retention, now, ct);
            await db.Images.Where(i => due.Contains(i.Id) && i.BytesDeletedAt == null)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(i => i.InPollQueue, false)
                    .SetProperty(i => i.ContentSha256, (byte[]?)null)
                    .SetProperty(i => i.BytesDeletedAt, now)
                    .SetProperty(i => i.BytesDeletedReason, BytesDeleted.Retention), ct);
            await tx.CommitAsync(ct);
        }
        thumbnails.Delete(due);
        var left = await store.RemoveAllAsync(due, (id, e) => LogBytesLeft(logger, e, id), ct);
        LogDeleted(logger, due.Count - left, left);
        return due.Count;
    }

    /// <summary>The oldest <paramref name="max"/> of <paramref name="images"/> past the given retention, bytes not yet deleted.</summary>
    private static Task<List<Guid>> DueAsync(AperturDb db, IQueryable<Image> images, DateTimeOffset now, TimeSpan afterDelivery, TimeSpan maxAge,
        int max, CancellationToken ct)
    {
        var doneBefore = now - afterDelivery;
        var uploadedBefore = now - maxAge;
        return images.AsNoTracking()
            .Where(i => i.BytesDeletedAt == null)
            .Where(i => i.CreatedAt <= uploadedBefore
                || (i.CreatedAt <= doneBefore
                    // A polled image leaves the queue by its acknowledgement (it stays flagged InPollQueue).
                    && ((i.AcknowledgedAt == null && !i.InPollQueue) || (i.AcknowledgedAt != null && i.AcknowledgedAt <= doneBefore))
                    && !db.Deliveries.Any(d => d.ImageId == i.Id
                        && (DeliveryStatus.Open.Contains(d.Status) || d.UpdatedAt > doneBefore))))
            .OrderBy(i => i.CreatedAt)
            .Select(i => i.Id)
            .Take(max)
            .ToListAsync(ct);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention: deleted the bytes of {Count} images ({Left} could not be removed from the image store)")]
    private static partial void LogDeleted(ILogger logger, int count, int left);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Retention: the bytes of image {ImageId} could not be removed from the image store")]
    private static partial void LogBytesLeft(ILogger logger, Exception exception, Guid imageId);
}
