using Apertur.Server.Data;
using Apertur.Server.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Apertur.Server.Keys;

/// <summary>
/// Endpoint filter for a session's public endpoints that browsers call (upload, session detail, password check, events):
/// a request with an <c>Origin</c> header comes from this server (the upload page, framed or not) or from a site in the
/// <c>allowedDomains</c> of the key that created the session (<see cref="DomainAllowList"/>), else 403
/// <c>ORIGIN_NOT_ALLOWED</c>. Requests without <c>Origin</c> (the SDKs, servers) and keys without domains pass as before.
/// </summary>
public sealed class AllowedDomainsFilter(AperturDb db, IOptions<AperturOptions> options) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var origin = http.Request.Headers.Origin.ToString();
        if (origin.Length > 0 && !IsThisServer(http.Request, origin, options.Value.PublicBaseUrl)
            && http.Request.RouteValues.TryGetValue("uuid", out var uuid) && Guid.TryParse(uuid?.ToString(), out var sessionId))
        {
            var domains = await ForSessionAsync(db, sessionId, http.RequestAborted);
            if (domains.Length > 0 && !DomainAllowList.Allows(domains, origin))
            {
                throw ApiException.Forbidden(
                    $"Browser requests from {origin} are not allowed for this session: add the site to its API key's allowedDomains.",
                    "ORIGIN_NOT_ALLOWED");
            }
        }
        return await next(context);
    }

    /// <summary>The <c>allowedDomains</c> of the key that created the session; none for an unknown session or a deleted key.</summary>
    public static async Task<string[]> ForSessionAsync(AperturDb db, Guid sessionId, CancellationToken ct) =>
        await db.ApiKeys.AsNoTracking()
            .Where(k => db.Sessions.Any(s => s.Id == sessionId && s.ApiKeyId == k.Id))
            .Select(k => k.AllowedDomains).FirstOrDefaultAsync(ct) ?? [];

    /// <summary>
    /// The origin is this server's: the host and port the request was sent to, whatever the scheme, or
    /// <c>Apertur:PublicBaseUrl</c>'s.
    /// </summary>
    internal static bool IsThisServer(HttpRequest request, string origin, string? publicBaseUrl)
    {
        if (!Uri.TryCreate(origin, UriKind.Absolute, out var from))
        {
            return false;
        }
        // A Host without a port was sent to the default port: the origin's own default (80 or 443, TLS may end at a proxy).
        if (from.Host.Equals(request.Host.Host, StringComparison.OrdinalIgnoreCase)
            && (request.Host.Port is { } port ? port == from.Port : from.IsDefaultPort))
        {
            return true;
        }
        return Uri.TryCreate(publicBaseUrl, UriKind.Absolute, out var configured)
            && configured.Host.Equals(from.Host, StringComparison.OrdinalIgnoreCase) && configured.Port == from.Port;
    }
}
