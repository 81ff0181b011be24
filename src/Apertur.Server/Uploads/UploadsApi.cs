using System.ComponentModel;
using System.Text.Json.Serialization;
using Apertur.Server.Hosting;
using Apertur.Server.Keys;
using Apertur.Server.Sessions;
using Apertur.Server.OpenApi;
using Apertur.Server.UploadPage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Apertur.Server.Uploads;

/// <summary>
/// Uploads (docs/api.md "Uploads", "Uploads history"): the public upload endpoint, and the project's upload history and
/// downloads. Routing and mapping only: <see cref="UploadHandler"/> and <see cref="UploadHistory"/> do the work.
/// </summary>
public static class UploadsApi
{
    public static IEndpointRouteBuilder MapUploadsApi(this IEndpointRouteBuilder app)
    {
        // Public: the session UUID is the capability; an Authorization header is ignored. Browsers: this server or allowedDomains.
        app.MapPost("/api/v1/upload/{uuid}/images", UploadAsync).WithRateLimit(RateLimitPolicies.Upload).AddEndpointFilter<AllowedDomainsFilter>()
            .Public().WithTags("Uploads").WithName("UploadImage").WithSummary("Upload one image to a session (public, by its UUID)")
            .Body<UploadRequest>("multipart/form-data").Body<EncryptedUploadRequest>()
            .Errors(400, 403, 404, 410, 413, 415, 422, 507);

        var keyed = app.MapGroup("/api/v1/uploads").RequireApiKey().WithRateLimit(RateLimitPolicies.Api).WithTags("Uploads history");
        keyed.MapGet("", ListAsync).WithName("ListUploads").WithSummary("The project's uploads, paged, newest first").Errors(400);
        keyed.MapGet("/recent", RecentAsync).WithName("RecentUploads").WithSummary("The project's latest uploads").Errors(400);
        keyed.MapGet("/{imageId}/download", DownloadAsync).WithName("DownloadUpload").WithSummary("An uploaded image's bytes")
            .Bytes(ImageTypes.All).Errors(404, 410);
        return app;
    }

    private static async Task<Created<UploadResult>> UploadAsync(string uuid, HttpContext http, UploadHandler handler, UploadPageThumbnails thumbnails,
        CancellationToken ct)
    {
        var result = await handler.HandleAsync(uuid, http.Request, ct);
        result = result with { ThumbnailUrl = thumbnails.For(http.Request, Guid.Parse(result.SessionId), Guid.Parse(result.Id)) };
        return TypedResults.Created($"/api/v1/uploads/{result.Id}/download", result);
    }

    private static async Task<Ok<Page<UploadRow>>> ListAsync(HttpContext http, UploadHistory history, int? page, int? pageSize, CancellationToken ct)
    {
        var caller = http.GetCaller();
        var (number, size) = Paging.Normalise(page, pageSize);
        var (rows, total) = await history.PageAsync(caller, number, size, ct);
        return TypedResults.Ok(new Page<UploadRow>(rows, total, number, size, Paging.TotalPages(total, size)));
    }

    private static async Task<Ok<List<UploadRow>>> RecentAsync(HttpContext http, UploadHistory history, int? limit, CancellationToken ct) =>
        TypedResults.Ok(await history.RecentAsync(http.GetCaller(), Paging.Limit(limit), ct));

    // Raw bytes for the Odoo plugin's fallback download: served only as the sniffed type, never sniffed again by a browser.
    private static async Task<FileStreamHttpResult> DownloadAsync(string imageId, HttpContext http, UploadHistory history, CancellationToken ct)
    {
        var (image, stream) = await history.OpenAsync(http.GetCaller(), imageId, ct);
        http.Response.Headers.XContentTypeOptions = "nosniff";
        http.Response.Headers.ContentSecurityPolicy = "default-src 'none'; sandbox";
        return TypedResults.File(stream, image.MimeType, image.Filename);
    }
}

/// <summary>A plain upload as the API reference shows it: one <c>file</c> part, an optional <c>source</c> (docs/api.md "Uploads").</summary>
public sealed record UploadRequest(
    [property: Description("The image; its type is decided by its first bytes. For encrypted variant A (X-Aptr-Encrypted: default), the envelope JSON.")] IFormFile File,
    [property: Description("1–32 characters of a-z, 0-9, _ and -; default camera.")] string? Source);

/// <summary>An encrypted upload sent as JSON (variants B and C of docs/api.md "Encrypted uploads"; C spells the fields in snake_case).</summary>
public sealed record EncryptedUploadRequest(
    [property: JsonPropertyName("encryptedKey"), Description("The AES-256 key wrapped with RSA-OAEP, base64 (variant C: encrypted_key).")] string EncryptedKey,
    [property: JsonPropertyName("iv"), Description("12-byte IV, base64.")] string Iv,
    [property: JsonPropertyName("encryptedData"), Description("AES-256-GCM ciphertext with its 16-byte tag, base64 (variant C: encrypted_data).")] string EncryptedData,
    [property: JsonPropertyName("algorithm")] string? Algorithm,
    [property: JsonPropertyName("filename")] string? Filename,
    [property: JsonPropertyName("source")] string? Source);
