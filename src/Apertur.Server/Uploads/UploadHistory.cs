using Apertur.Server.Data;
using Apertur.Server.Hosting;
using Apertur.Server.Keys;
using Apertur.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Uploads;

/// <summary>The project's uploads history (docs/api.md "Uploads history"): rows with their delivery counts, and an image's bytes.</summary>
public sealed class UploadHistory(AperturDb db, IImageStore store)
{
    /// <summary>One page of the caller's project's images, newest first (read from the nearer end: <see cref="OffsetPage"/>), and the total count.</summary>
    public async Task<(List<UploadRow> Rows, int Total)> PageAsync(Caller caller, int number, int size, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var query = db.Images.AsNoTracking().Where(i => i.ProjectId == caller.ProjectId);
        var total = await query.CountAsync(ct);
        var images = await OffsetPage.ReadAsync(query.OrderByDescending(i => i.CreatedAt).ThenByDescending(i => i.Id),
            query.OrderBy(i => i.CreatedAt).ThenBy(i => i.Id), total, number, size, ct);
        return (await RowsAsync(caller, images, ct), total);
    }

    /// <summary>The caller's project's <paramref name="take"/> newest images.</summary>
    public async Task<List<UploadRow>> RecentAsync(Caller caller, int take, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var images = await db.Images.AsNoTracking().Where(i => i.ProjectId == caller.ProjectId)
            .OrderByDescending(i => i.CreatedAt).ThenByDescending(i => i.Id).Take(take).ToListAsync(ct);
        return await RowsAsync(caller, images, ct);
    }

    /// <summary>An image of the caller's project and its bytes; 404 when either is gone, 410 when its bytes were deleted.</summary>
    public async Task<(Image Image, Stream Bytes)> OpenAsync(Caller caller, string imageId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var id = Ids.ParseOrNotFound(imageId, "Image");
        var image = await db.Images.AsNoTracking().FirstOrDefaultAsync(i => i.Id == id && i.ProjectId == caller.ProjectId, ct);
        BytesDeleted.ThrowIfDeleted(image?.BytesDeletedAt, image?.BytesDeletedReason);
        var stream = image is null ? null : await store.OpenReadAsync(image.Id, ct);
        if (image is null || stream is null)
        {
            throw ApiException.NotFound("Image not found.", "IMAGE_NOT_FOUND");
        }
        return (image, stream);
    }

    private async Task<List<UploadRow>> RowsAsync(Caller caller, List<Image> images, CancellationToken ct)
    {
        var ids = images.Select(i => i.Id).ToList();
        var deliveries = await db.Deliveries.AsNoTracking().Where(d => ids.Contains(d.ImageId))
            .GroupJoin(db.Destinations, d => d.DestinationId, dest => dest.Id, (d, dest) => new { d, dest })
            .SelectMany(x => x.dest.DefaultIfEmpty(), (x, dest) => new { x.d.ImageId, x.d.Status, Type = dest == null ? null : dest.Type })
            .ToListAsync(ct);
        var byImage = deliveries.ToLookup(d => d.ImageId);
        return images.Select(i =>
        {
            var mine = byImage[i.Id].ToList();
            var delivered = mine.Count(d => d.Status == Deliveries.DeliveryStatus.Sent);
            var failed = mine.Count(d => d.Status == Deliveries.DeliveryStatus.Failed);
            // A cancelled delivery (the image was deleted) has ended without reaching its destination: it counts as failed in the status.
            var cancelled = mine.Count(d => d.Status == Deliveries.DeliveryStatus.Cancelled);
            var breakdown = mine.GroupBy(d => d.Type ?? "deleted").OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => new DestinationCount(g.Key, g.Count())).ToList();
            return new UploadRow(
                Id: i.Id.ToString(),
                Filename: i.Filename,
                SizeBytes: i.SizeBytes,
                MimeType: i.MimeType,
                Source: i.Source,
                IsEncrypted: i.IsEncrypted,
                Env: i.Env,
                CreatedAt: Iso.Format(i.CreatedAt),
                SessionId: i.SessionId.ToString(),
                ProjectId: i.ProjectId.ToString(),
                ProjectName: caller.ProjectName,
                DestinationsTotal: mine.Count,
                DestinationsDelivered: delivered,
                DestinationsFailed: failed,
                DestinationsBreakdown: breakdown,
                Status: UploadStatus.Of(mine.Count, delivered, failed + cancelled));
        }).ToList();
    }
}
