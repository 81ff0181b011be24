using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Apertur.Server.Data;
using Apertur.Server.Hosting;
using Apertur.Server.OpenApi;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Keys;

/// <summary>
/// Endpoint filter for key-protected routes: <c>Authorization: Bearer aptr_…</c>, looked up by its SHA-256 and
/// compared in constant time; the key's IP allow-list (403 <c>IP_NOT_ALLOWED</c>); optional request signing (docs/api.md
/// "Request signing"). Sets the <see cref="Caller"/>.
/// </summary>
public sealed class ApiKeyAuth(AperturDb db, TimeProvider time) : IEndpointFilter
{
    private static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan SignatureTolerance = TimeSpan.FromSeconds(300);

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var caller = await AuthenticateAsync(http, http.RequestAborted);
        http.Features.Set(caller);
        return await next(context);
    }

    private async Task<Caller> AuthenticateAsync(HttpContext http, CancellationToken ct)
    {
        var header = http.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            throw ApiException.Unauthorized("Missing API key: send Authorization: Bearer <key>.");
        }
        var token = header["Bearer ".Length..].Trim();
        var hash = ApiKeyTokens.Hash(token);
        var key = await db.ApiKeys.AsNoTracking().FirstOrDefaultAsync(k => k.KeyHash == hash, ct);
        // The index lookup finds the row; the constant-time compare is the actual check.
        if (key is null || !CryptographicOperations.FixedTimeEquals(key.KeyHash, hash) || !key.IsActive)
        {
            throw ApiException.Unauthorized("Invalid or inactive API key.");
        }
        // The client address as this server sees it: behind a reverse proxy, configure forwarded headers first.
        if (key.AllowedIps.Length > 0 && !IpAllowList.Allows(key.AllowedIps, http.Connection.RemoteIpAddress))
        {
            throw ApiException.Forbidden("This API key may not be used from this IP address.", "IP_NOT_ALLOWED");
        }
        var projectName = await db.Projects.Where(p => p.Id == key.ProjectId).Select(p => p.Name).FirstAsync(ct);

        await VerifySignatureAsync(http, key, ct);

        var now = time.GetUtcNow();
        if (key.LastUsedAt is null || now - key.LastUsedAt.Value > LastUsedResolution)
        {
            var stale = now - LastUsedResolution;
            await db.ApiKeys.Where(k => k.Id == key.Id && (k.LastUsedAt == null || k.LastUsedAt < stale))
                .ExecuteUpdateAsync(s => s.SetProperty(k => k.LastUsedAt, now), ct);
        }
        return new Caller(key.Id, key.ProjectId, projectName, key.Env, key);
    }

    private async Task VerifySignatureAsync(HttpContext http, ApiKey key, CancellationToken ct)
    {
        var timestamp = http.Request.Headers["X-Aptr-Timestamp"].ToString();
        var signature = http.Request.Headers["X-Aptr-Signature"].ToString();
        var signed = timestamp.Length > 0 && signature.Length > 0;
        if (!signed)
        {
            if (key.SigningRequired)
            {
                throw ApiException.Unauthorized("This key requires signed requests (X-Aptr-Timestamp and X-Aptr-Signature).", "SIGNATURE_REQUIRED");
            }
            return;
        }
        if (key.SigningSecret is null)
        {
            return;
        }
        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || Math.Abs(time.GetUtcNow().ToUnixTimeSeconds() - seconds) > SignatureTolerance.TotalSeconds)
        {
            throw ApiException.Unauthorized("Request signature timestamp is missing or outside the allowed window.", "SIGNATURE_INVALID");
        }
        http.Request.EnableBuffering();
        byte[] bodyHash;
        using (var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
        {
            var buffer = new byte[8192];
            int read;
            while ((read = await http.Request.Body.ReadAsync(buffer, ct)) > 0)
            {
                sha.AppendData(buffer, 0, read);
            }
            bodyHash = sha.GetHashAndReset();
        }
        http.Request.Body.Position = 0;
        // The SDK signs the path it appended to its base URL, so a deployment path prefix is stripped.
        var target = http.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(target))
        {
            target = http.Request.PathBase + http.Request.Path + http.Request.QueryString;
        }
        var pathBase = http.Request.PathBase.Value;
        if (!string.IsNullOrEmpty(pathBase) && target.StartsWith(pathBase, StringComparison.Ordinal))
        {
            target = target[pathBase.Length..];
        }
        var expected = RequestSignature.Compute(key.SigningSecret, timestamp, http.Request.Method, target, bodyHash);
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(signature.Trim())))
        {
            throw ApiException.Unauthorized("Request signature does not match.", "SIGNATURE_INVALID");
        }
    }
}

/// <summary>The request-signing scheme (docs/api.md "Request signing"): <c>sha256=hex(HMAC(secret, ts.METHOD.target.hex(sha256(body))))</c>.</summary>
public static class RequestSignature
{
    public static string Compute(string secret, string timestamp, string method, string target, ReadOnlySpan<byte> bodySha256)
    {
        var message = $"{timestamp}.{method.ToUpperInvariant()}.{target}.{Convert.ToHexStringLower(bodySha256)}";
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(message));
        return "sha256=" + Convert.ToHexStringLower(mac);
    }
}

public static class ApiKeyAuthExtensions
{
    /// <summary>The route needs an API key (<see cref="ApiKeyAuth"/>), and the API reference says so with the keyed routes' errors.</summary>
    public static TBuilder RequireApiKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter<TBuilder, ApiKeyAuth>().Keyed();
}
