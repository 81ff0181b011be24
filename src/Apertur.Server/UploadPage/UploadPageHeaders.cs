using Apertur.Server.Keys;
using Microsoft.Net.Http.Headers;

namespace Apertur.Server.UploadPage;

/// <summary>The HTTP headers of the upload page's answers (README, "The upload page").</summary>
public static class UploadPageHeaders
{
    /// <summary>
    /// The HTTP headers of every page answer: never cached, scripts only from this server, embeddable in an iframe: by any
    /// site, or only by this server and the sites of <paramref name="allowedDomains"/> (the session key's, when it has some).
    /// </summary>
    public static void Apply(HttpResponse response, IReadOnlyCollection<string>? allowedDomains = null)
    {
        var headers = response.Headers;
        headers.CacheControl = "no-store";
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        // No frame-ancestors unless the session's key lists domains: the page is meant to be embedded (the Odoo widget iframes it).
        headers.ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
            + "connect-src 'self'; form-action 'none'; base-uri 'none'"
            + (allowedDomains is { Count: > 0 } ? "; frame-ancestors " + DomainAllowList.FrameAncestors(allowedDomains) : "");
        headers[HeaderNames.Vary] = "Accept-Language";
    }
}
