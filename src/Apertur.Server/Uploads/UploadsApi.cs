using Apertur.Server.Data;
using Apertur.Server.Hosting;
using Apertur.Server.Keys;
using Apertur.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Uploads;

/// <summary>Uploads (docs/api.md "Uploads", "Uploads history"): the public upload endpoint, and the project's upload history and downloads.</summary>
public static class UploadsApi
{
    public static IEndpointRouteBuilder MapUploadsApi(this IEndpointRouteBuilder app)
    {
        // Public: the session UUID is the capability; an Authorization header is ignored. Browsers: this server or allowedDomains.
        app.MapPost("/api/v1/upload/{uuid}/images", UploadAsync).WithRateLimit(RateLimitPolicies.Upload).AddEndpointFilter<AllowedDomainsFilter>();

        var keyed = app.MapGroup("/api/v1/uploads").AddEndpointFilter<ApiKeyAuth>().WithRateLimit(RateLimitPolicies.Api);
        keyed.MapGet("", ListAsync);
        keyed.MapGet("/recent", RecentAsync);
        keyed.MapGet("/{imageId}/download", DownloadAsync);
        return app;
    }

    private static async Task<IResult> UploadAsync(string uuid, HttpContext http, UploadHandler handler, CancellationToken ct)
    {
        var result = await handler.HandleAsync(uuid, http.Request, ct);
        return TypedResults.Created($"/api/v1/uploads/{result.Id}/download", result);
    }

    private static async Task<IResult> ListAsync(HttpContext http, AperturDb db, int? page, int? pageSize, CancellationToken ct)
    {
        var caller = http.GetCaller();
        var (number, size) = Paging.Normalise(page, pageSize);
        var query = db.Images.AsNoTracking().Where(i => i.ProjectId == caller.ProjectId);
        var total = await query.CountAsync(ct);
        var images = await query.OrderByDescending(i => i.CreatedAt).ThenByDescending(i => i.Id)
            .Skip((number - 1) * size).Take(size).ToListAsync(ct);
        var rows = await ToRowsAsync(db, caller, images, ct);
        return TypedResults.Ok(new Sessions.Page<UploadRow>(rows, total, number, size, Paging.TotalPages(total, size)));
    }

    private static async Task<IResult> RecentAsync(HttpContext http, AperturDb db, int? limit, CancellationToken ct)
    {
        var caller = http.GetCaller();
        var images = await db.Images.AsNoTracking().Where(i => i.ProjectId == caller.ProjectId)
            .OrderByDescending(i => i.CreatedAt).ThenByDescending(i => i.Id).Take(Paging.Limit(limit)).ToListAsync(ct);
        return TypedResults.Ok(await ToRowsAsync(db, caller, images, ct));
    }

    // Raw bytes for the Odoo plugin's fallback download: served only as the sniffed type, never sniffed again by a browser.
    private static async Task<IResult> DownloadAsync(string imageId, HttpContext http, AperturDb db, IImageStore store, CancellationToken ct)
    {
        var caller = http.GetCaller();
        var id = Ids.ParseOrNotFound(imageId, "Image");
        var image = await db.Images.AsNoTracking().FirstOrDefaultAsync(i => i.Id == id && i.ProjectId == caller.ProjectId, ct);
        var stream = image is null ? null : await store.OpenReadAsync(image.Id, ct);
        if (image is null || stream is null)
        {
            throw ApiException.NotFound("Image not found.", "IMAGE_NOT_FOUND");
        }
        http.Response.Headers.XContentTypeOptions = "nosniff";
        http.Response.Headers.ContentSecurityPolicy = "default-src 'none'; sandbox";
        return TypedResults.File(stream, image.MimeType, image.Filename);
    }

    private static async Task<List<UploadRow>> ToRowsAsync(AperturDb db, Caller caller, List<Image> images, CancellationToken ct)
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
            var delivered = mine.Count(d => d.Status == Delivery.DeliveryStatus.Sent);
            var failed = mine.Count(d => d.Status == Delivery.DeliveryStatus.Failed);
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
                Status: UploadStatus.Of(mine.Count, delivered, failed));
        }).ToList();
    }
}
