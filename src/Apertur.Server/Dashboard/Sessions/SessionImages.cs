using Apertur.Server.Data;
using Apertur.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Dashboard.Sessions;

/// <summary>An image of a project for a signed-in member: the thumbnails of the session page, streamed from the store.</summary>
public static class SessionImages
{
    /// <summary>Types a browser draws in an <c>img</c>; others (HEIC) get a placeholder on the page.</summary>
    public static bool BrowserCanShow(string mimeType) => mimeType is "image/jpeg" or "image/png" or "image/webp" or "image/gif";

    internal static async Task<Results<NotFound, FileStreamHttpResult>> ImageAsync(Guid projectId, Guid imageId, HttpContext http, AperturDb db, IImageStore store, CancellationToken ct)
    {
        // An account that must still replace its first password sees nothing but the account page, photos included.
        if (http.SignedInUser() is not { MustChangePassword: false } user || await DashboardAccess.ForProjectAsync(db, user, projectId, ct) is null)
        {
            return TypedResults.NotFound();
        }
        var image = await db.Images.AsNoTracking().FirstOrDefaultAsync(i => i.Id == imageId && i.ProjectId == projectId, ct);
        var stream = image is null || !BrowserCanShow(image.MimeType) ? null : await store.OpenReadAsync(image.Id, ct);
        if (image is null || stream is null)
        {
            return TypedResults.NotFound();
        }
        // Served only as the sniffed type, never sniffed again, never as a document.
        http.Response.Headers.XContentTypeOptions = "nosniff";
        http.Response.Headers.ContentSecurityPolicy = "default-src 'none'; sandbox";
        http.Response.Headers.CacheControl = "private, max-age=3600";
        return TypedResults.File(stream, image.MimeType);
    }
}
