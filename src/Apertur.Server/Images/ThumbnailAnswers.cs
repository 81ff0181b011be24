using Apertur.Server.Uploads;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

namespace Apertur.Server.Images;

/// <summary>
/// How a route that found an image its caller may see answers with its thumbnail (the dashboard's, the upload page's): the
/// JPEG with a validator and a day of private caching (a thumbnail never changes: the image's bytes never do), or, for an
/// image that cannot be made into one, a neutral placeholder picture, never an error page. Both as images only: the type
/// set here, never sniffed, never a document.
/// </summary>
public static class ThumbnailAnswers
{
    /// <summary>A picture frame on grey, no words (the upload page is in three languages), the size of a landscape thumbnail.</summary>
    public const string Placeholder = """
        <svg xmlns="http://www.w3.org/2000/svg" width="320" height="240" viewBox="0 0 320 240"><rect width="320" height="240" fill="#e6e8eb"/><g fill="none" stroke="#8a919a" stroke-width="6" stroke-linejoin="round"><rect x="115" y="80" width="90" height="72" rx="6"/><path d="M121 146l26-28 18 18 12-12 22 22"/></g><circle cx="180" cy="100" r="7" fill="#8a919a"/></svg>
        """;

    /// <summary>The thumbnail of <paramref name="image"/>, found and allowed by the caller; null (not found, not allowed) is a 404.</summary>
    public static async Task<Results<NotFound, PhysicalFileHttpResult, ContentHttpResult>> ThumbnailAsync(Image? image, Thumbnails thumbnails,
        HttpContext http, CancellationToken ct)
    {
        if (image is null)
        {
            return TypedResults.NotFound();
        }
        ArgumentNullException.ThrowIfNull(thumbnails);
        ArgumentNullException.ThrowIfNull(http);
        http.Response.Headers.XContentTypeOptions = "nosniff";
        http.Response.Headers.ContentSecurityPolicy = "default-src 'none'; sandbox";
        var path = await thumbnails.GetAsync(image.Id, image.MimeType, ct);
        if (path is null)
        {
            http.Response.Headers.CacheControl = "private, no-cache";
            return TypedResults.Content(Placeholder, "image/svg+xml");
        }
        http.Response.Headers.CacheControl = "private, max-age=86400";
        return TypedResults.PhysicalFile(path, "image/jpeg", lastModified: File.GetLastWriteTimeUtc(path),
            entityTag: new EntityTagHeaderValue($"\"t{image.Id:N}\""));
    }
}
