using Apertur.Server.Data;
using Apertur.Server.Events;
using Apertur.Server.Hosting;
using Apertur.Server.Sessions;
using Apertur.Server.Storage;
using Apertur.Server.Uploads;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Polling;

/// <summary>
/// Pull delivery (docs/api.md "Long polling"): the images of a long-polling session not yet acknowledged, their bytes, and
/// the acknowledgement. Another project's session or image is 404.
/// </summary>
public sealed class PolledImages(AperturDb db, IImageStore store, TimeProvider time, SessionEventHub events)
{
    /// <summary>The waiting images in upload order; 400 LONG_POLLING_DISABLED for a session without long polling.</summary>
    public async Task<List<PollImage>> WaitingAsync(Guid projectId, string uuid, CancellationToken ct)
    {
        var session = await SessionState.FindAsync(db, uuid, ct, projectId);
        if (!session.LongPolling)
        {
            throw ApiException.BadRequest("Long polling is not enabled for this session.", "LONG_POLLING_DISABLED");
        }
        var images = await db.Images.AsNoTracking()
            .Where(i => i.SessionId == session.Id && i.InPollQueue && i.AcknowledgedAt == null)
            .OrderBy(i => i.ImageIndex)
            .Select(i => new { i.Id, i.Filename, i.SizeBytes, i.MimeType, i.Source, i.CreatedAt })
            .ToListAsync(ct);
        return images.Select(i => new PollImage(i.Id.ToString(), i.Filename, i.SizeBytes, i.MimeType, i.Source, Iso.Format(i.CreatedAt))).ToList();
    }

    /// <summary>An image of the session and its sniffed type; 404 when either is gone, 410 when its bytes were deleted.</summary>
    public async Task<(Stream Bytes, string MimeType)> OpenAsync(Guid projectId, string uuid, string imageId, CancellationToken ct)
    {
        var session = await SessionState.FindAsync(db, uuid, ct, projectId);
        var id = Ids.ParseOrNotFound(imageId, "Image");
        var image = await db.Images.AsNoTracking()
            .Where(i => i.Id == id && i.SessionId == session.Id)
            .Select(i => new { i.MimeType, i.BytesDeletedAt, i.BytesDeletedReason })
            .FirstOrDefaultAsync(ct) ?? throw ImageNotFound();
        BytesDeleted.ThrowIfDeleted(image.BytesDeletedAt, image.BytesDeletedReason);
        var bytes = await store.OpenReadAsync(id, ct) ?? throw ImageNotFound();
        return (bytes, image.MimeType);
    }

    /// <summary>Marks the image acknowledged; a repeated ack changes nothing (docs/api.md "Long polling").</summary>
    public async Task AcknowledgeAsync(Guid projectId, string uuid, string imageId, CancellationToken ct)
    {
        var session = await SessionState.FindAsync(db, uuid, ct, projectId);
        var id = Ids.ParseOrNotFound(imageId, "Image");
        if (!await db.Images.AnyAsync(i => i.Id == id && i.SessionId == session.Id, ct))
        {
            throw ImageNotFound();
        }
        var now = Iso.Millis(time.GetUtcNow());
        var acknowledged = await db.Images.Where(i => i.Id == id && i.AcknowledgedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.AcknowledgedAt, now), ct);
        if (acknowledged > 0)
        {
            // No transaction needed: lastChanged also reads acknowledged_at, so this bump only makes it cheaper to see.
            await db.Sessions.Where(s => s.Id == session.Id && s.LastChangedAt < now)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.LastChangedAt, now), ct);
            events.Publish(session.Id, SessionEventNames.SessionUpdated, new { sessionId = session.Id, imageId = id });
        }
    }

    private static ApiException ImageNotFound() => ApiException.NotFound("Image not found.", "IMAGE_NOT_FOUND");
}
