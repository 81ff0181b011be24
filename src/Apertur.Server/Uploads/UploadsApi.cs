using Apertur.Server.Hosting;
using Apertur.Server.Keys;
using Apertur.Server.Sessions;
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
        app.MapPost("/api/v1/upload/{uuid}/images", UploadAsync).WithRateLimit(RateLimitPolicies.Upload).AddEndpointFilter<AllowedDomainsFilter>();

        var keyed = app.MapGroup("/api/v1/uploads").AddEndpointFilter<ApiKeyAuth>().WithRateLimit(RateLimitPolicies.Api);
        keyed.MapGet("", ListAsync);
        keyed.MapGet("/recent", RecentAsync);
        keyed.MapGet("/{imageId}/download", DownloadAsync);
        return app;
    }

    private static async Task<Created<UploadResult>> UploadAsync(string uuid, HttpContext http, UploadHandler handler, CancellationToken ct)
    {
        var result = await handler.HandleAsync(uuid, http.Request, ct);
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
