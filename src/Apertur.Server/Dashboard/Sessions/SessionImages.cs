using Apertur.Server.Data;
using Apertur.Server.Images;
using Apertur.Server.Storage;
using Apertur.Server.Uploads;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Dashboard.Sessions;

/// <summary>
/// An image of a project for a signed-in member: the session page's thumbnails (<see cref="Thumbnails"/>, every accepted
/// type, HEIC included) and the full image they open, streamed from the store.
/// </summary>
public static class SessionImages
{
    /// <summary>Types a browser draws in an <c>img</c>; others (HEIC) are opened as a full-size JPEG made on the fly.</summary>
    public static bool BrowserCanShow(string mimeType) => mimeType is "image/jpeg" or "image/png" or "image/webp" or "image/gif";

    internal static async Task<Results<NotFound, FileStreamHttpResult, ContentHttpResult>> ImageAsync(Guid projectId, Guid imageId, HttpContext http,
        AperturDb db, IImageStore store, Thumbnails thumbnails, CancellationToken ct)
    {
        var image = await FindAsync(projectId, imageId, http, db, ct);
        if (image is null)
        {
            return TypedResults.NotFound();
        }
        // Served only as the sniffed type (or the JPEG made of it), never sniffed again, never as a document.
        http.Response.Headers.XContentTypeOptions = "nosniff";
        http.Response.Headers.ContentSecurityPolicy = "default-src 'none'; sandbox";
        if (!BrowserCanShow(image.MimeType))
        {
            return await ConvertedAsync(image, thumbnails, http, ct);
        }
        if (await store.OpenReadAsync(image.Id, ct) is not { } stream)
        {
            return TypedResults.NotFound();
        }
        http.Response.Headers.CacheControl = "private, max-age=3600";
        return TypedResults.File(stream, image.MimeType);
    }

    /// <summary>A HEIC image as a full-size JPEG made now (not kept), or the placeholder when it cannot be converted.</summary>
    private static async Task<Results<NotFound, FileStreamHttpResult, ContentHttpResult>> ConvertedAsync(Image image, Thumbnails thumbnails,
        HttpContext http, CancellationToken ct)
    {
        string? path;
        try
        {
            path = await thumbnails.FullSizeJpegAsync(image.Id, image.MimeType, ct);
        }
        catch (ImageProcessingException)
        {
            http.Response.Headers.CacheControl = "private, no-cache";
            return TypedResults.Content(ThumbnailAnswers.Placeholder, "image/svg+xml");
        }
        if (path is null)
        {
            return TypedResults.NotFound();
        }
        http.Response.Headers.CacheControl = "private, max-age=3600";
        // The file is unlinked once opened: it goes when the answer is sent, whatever happens.
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 64 * 1024, FileOptions.Asynchronous | FileOptions.DeleteOnClose);
        return TypedResults.File(stream, "image/jpeg");
    }

    internal static async Task<Results<NotFound, PhysicalFileHttpResult, ContentHttpResult>> ThumbnailAsync(Guid projectId, Guid imageId, HttpContext http,
        AperturDb db, Thumbnails thumbnails, CancellationToken ct) =>
        await ThumbnailAnswers.ThumbnailAsync(await FindAsync(projectId, imageId, http, db, ct), thumbnails, http, ct);

    /// <summary>The image, if the signed-in member may see it and its bytes were not deleted.</summary>
    private static async Task<Image?> FindAsync(Guid projectId, Guid imageId, HttpContext http, AperturDb db, CancellationToken ct)
    {
        // An account that must still replace its first password sees nothing but the account page, photos included.
        if (http.SignedInUser() is not { MustChangePassword: false } user || await DashboardAccess.ForProjectAsync(db, user, projectId, ct) is null)
        {
            return null;
        }
        return await db.Images.AsNoTracking().FirstOrDefaultAsync(i => i.Id == imageId && i.ProjectId == projectId && i.BytesDeletedAt == null, ct);
    }
}
