using Apertur.Server.Hosting;
using Apertur.Server.Sessions;
using Apertur.Server.OpenApi;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Apertur.Server.Qr;

/// <summary>
/// <c>GET /api/v1/upload-sessions/{uuid}/qr</c> (docs/api.md "QR codes"): the session's upload page URL as a PNG, SVG or JPEG QR code.
/// Public (the session UUID is the capability), and answers raw bytes whatever the Accept header says (Ruby sends application/json).
/// </summary>
public static class QrApi
{
    /// <summary>The JPEG encoder of QR codes (PNG and SVG are drawn here without services).</summary>
    public static IServiceCollection AddQrCodes(this IServiceCollection services) => services.AddSingleton<QrJpeg>();

    public static IEndpointRouteBuilder MapQrApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/upload-sessions/{uuid}/qr", GetAsync).WithRateLimit(RateLimitPolicies.PublicSession)
            .Public().WithTags("QR codes").WithName("GetQrCode").WithSummary("The QR code of a session's upload page, PNG, SVG or JPEG")
            .Bytes("image/png", "image/svg+xml", "image/jpeg").Errors(400, 404);
        return app;
    }

    private static async Task<Results<ContentHttpResult, FileContentHttpResult>> GetAsync(string uuid, HttpContext http, SessionService sessions,
        PublicUrls urls, QrJpeg jpeg, CancellationToken ct)
    {
        var parameters = QrParameters.Parse(http.Request.Query);
        var session = await sessions.FindAsync(uuid, ct);
        var matrix = QrMatrix.Encode(urls.UploadPage(http.Request, session.Id));
        Results<ContentHttpResult, FileContentHttpResult> image = parameters.Format switch
        {
            QrFormat.Svg => TypedResults.Text(QrSvg.Render(matrix, parameters), "image/svg+xml", System.Text.Encoding.UTF8),
            QrFormat.Jpeg => TypedResults.File(await jpeg.RenderAsync(matrix, parameters, ct), "image/jpeg"),
            _ => TypedResults.File(QrPng.Render(matrix, parameters), "image/png"),
        };
        // Set once drawing succeeded: an error answer must not be cached.
        http.Response.Headers.CacheControl = "public, max-age=300";
        return image;
    }
}
