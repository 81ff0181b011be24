using Microsoft.Extensions.Options;

namespace Apertur.Server.Hosting;

/// <summary>Builds the absolute URLs handed to clients: <c>upload_url</c>, <c>qr_url</c>.</summary>
public sealed class PublicUrls(IOptions<AperturOptions> options)
{
    public string BaseUrl(HttpRequest request)
    {
        var configured = options.Value.PublicBaseUrl;
        return !string.IsNullOrWhiteSpace(configured)
            ? configured.TrimEnd('/')
            : $"{request.Scheme}://{request.Host}{request.PathBase}";
    }

    public string UploadPage(HttpRequest request, Guid sessionId) => $"{BaseUrl(request)}/u/{sessionId}";

    public static string QrPath(Guid sessionId) => $"/api/v1/upload-sessions/{sessionId}/qr";

    public string Qr(HttpRequest request, Guid sessionId) => BaseUrl(request) + QrPath(sessionId);
}
