using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace Apertur.Server.Hosting;

/// <summary>Builds the absolute URLs handed to clients: <c>upload_url</c>, <c>qr_url</c>, and receivers: <c>download_url</c>.</summary>
public sealed partial class PublicUrls(IOptions<AperturOptions> options, IServiceProvider services, ILogger<PublicUrls> logger)
{
    private int _warned;

    public string BaseUrl(HttpRequest request)
    {
        var configured = options.Value.PublicBaseUrl;
        return !string.IsNullOrWhiteSpace(configured)
            ? configured.TrimEnd('/')
            : $"{request.Scheme}://{request.Host}{request.PathBase}";
    }

    /// <summary>
    /// The public origin outside any request (the delivery worker): <c>Apertur:PublicBaseUrl</c>, else this server's first
    /// listening address (a wildcard host read as localhost), with a warning once that receivers need the setting.
    /// </summary>
    public string BaseUrl()
    {
        var configured = options.Value.PublicBaseUrl;
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return configured.TrimEnd('/');
        }
        var address = services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        var fallback = address is null ? "http://localhost" : WithWildcardHostAs(address, "localhost").TrimEnd('/');
        if (Interlocked.Exchange(ref _warned, 1) == 0)
        {
            LogNoPublicBaseUrl(logger, fallback);
        }
        return fallback;
    }

    public string UploadPage(HttpRequest request, Guid sessionId) => $"{BaseUrl(request)}/u/{sessionId}";

    public static string QrPath(Guid sessionId) => $"/api/v1/upload-sessions/{sessionId}/qr";

    public string Qr(HttpRequest request, Guid sessionId) => BaseUrl(request) + QrPath(sessionId);

    /// <summary>
    /// A listening address with its wildcard host (<c>+</c>, <c>*</c>, <c>0.0.0.0</c>, <c>[::]</c>) written as
    /// <paramref name="host"/>: <c>http://+:5080</c> as <c>http://localhost:5080</c>. Other addresses come back unchanged.
    /// </summary>
    public static string WithWildcardHostAs(string address, string host) => WildcardHost().Replace(address, "://" + host);

    [System.Text.RegularExpressions.GeneratedRegex(@"://(\+|\*|0\.0\.0\.0|\[::\])(?=[:/]|$)")]
    private static partial System.Text.RegularExpressions.Regex WildcardHost();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Apertur:PublicBaseUrl is not set: download links handed to receivers use {BaseUrl}, which receivers elsewhere cannot reach. Set Apertur:PublicBaseUrl to this server's public origin")]
    private static partial void LogNoPublicBaseUrl(ILogger logger, string baseUrl);
}
