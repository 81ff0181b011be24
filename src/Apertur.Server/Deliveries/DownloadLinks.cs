using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Apertur.Server.Data;
using Apertur.Server.Hosting;
using Apertur.Server.Storage;
using Apertur.Server.OpenApi;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Apertur.Server.Deliveries;

/// <summary>
/// Signed, expiring, public image links (docs/api.md "Download links": <c>download_url</c> of event_json webhooks):
/// <c>/api/v1/images/{id}/download?expires=&lt;unix seconds&gt;&amp;sig=&lt;hex&gt;</c>, where sig is HMAC-SHA256 over
/// <c>"{id}.{expires}"</c> under a key derived from the master key. Every replica that shares the master key checks every
/// other's links; nothing is stored per link, and changing the master key revokes them all.
/// </summary>
public sealed class DownloadLinks(MasterKey masterKey, PublicUrls urls, TimeProvider time, IOptions<DeliveryOptions> options)
{
    public const string Purpose = "Apertur.DownloadUrls.v1";
    private readonly byte[] _key = masterKey.DeriveKey(Purpose);

    public enum Check
    {
        Valid,
        Invalid,
        Expired,
    }

    /// <summary>A fresh link to the image, valid for <see cref="DeliveryOptions.DownloadLinkLifetime"/>.</summary>
    public Uri For(Guid imageId)
    {
        var expires = (time.GetUtcNow() + options.Value.DownloadLinkLifetime).ToUnixTimeSeconds();
        return new Uri($"{urls.BaseUrl()}{Path(imageId)}?expires={expires.ToString(CultureInfo.InvariantCulture)}&sig={Sign(imageId, expires)}");
    }

    public static string Path(Guid imageId) => $"/api/v1/images/{imageId:D}/download";

    public string Sign(Guid imageId, long expires) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes($"{imageId:D}.{expires.ToString(CultureInfo.InvariantCulture)}")));

    /// <summary>Checks a link's parameters: the signature first (in constant time), then the expiry.</summary>
    public Check Verify(Guid imageId, string? expires, string? sig)
    {
        if (!long.TryParse(expires, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || sig is not { Length: 64 } || !IsHex(sig))
        {
            return Check.Invalid;
        }
        var expected = Encoding.ASCII.GetBytes(Sign(imageId, seconds));
        if (!CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(sig.ToLowerInvariant())))
        {
            return Check.Invalid;
        }
        return time.GetUtcNow().ToUnixTimeSeconds() > seconds ? Check.Expired : Check.Valid;
    }

    private static bool IsHex(string text) => text.All(char.IsAsciiHexDigit);
}

/// <summary>The public endpoint behind <see cref="DownloadLinks"/>: the signature is the capability, no API key.</summary>
public static class DownloadLinksApi
{
    public static IEndpointRouteBuilder MapDownloadLinksApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/images/{imageId}/download", DownloadAsync).WithRateLimit(RateLimitPolicies.PublicSession)
            .Public().WithTags("Download links").WithName("DownloadSignedImage").WithSummary("An image by a signed, expiring link")
            .Bytes(Sessions.ImageTypes.All).Errors(403, 404, 410);
        return app;
    }

    private static async Task<FileStreamHttpResult> DownloadAsync(string imageId, string? expires, string? sig, HttpContext http, DownloadLinks links,
        AperturDb db, IImageStore store, CancellationToken ct)
    {
        var id = Guid.TryParse(imageId, out var parsed) ? parsed : Guid.Empty;
        switch (links.Verify(id, expires, sig))
        {
            case DownloadLinks.Check.Expired:
                throw ApiException.Forbidden("This download link has expired.", "DOWNLOAD_LINK_EXPIRED");
            case DownloadLinks.Check.Invalid:
                throw ApiException.Forbidden("This download link is not valid.", "DOWNLOAD_LINK_INVALID");
        }
        var image = await db.Images.AsNoTracking().Where(i => i.Id == id)
            .Select(i => new { i.MimeType, i.Filename, i.BytesDeletedAt, i.BytesDeletedReason }).FirstOrDefaultAsync(ct);
        Uploads.BytesDeleted.ThrowIfDeleted(image?.BytesDeletedAt, image?.BytesDeletedReason);
        var stream = image is null ? null : await store.OpenReadAsync(id, ct);
        if (image is null || stream is null)
        {
            throw ApiException.NotFound("Image not found.", "IMAGE_NOT_FOUND");
        }
        // Served as the type sniffed at upload, as an attachment, never re-sniffed by a browser.
        http.Response.Headers.XContentTypeOptions = "nosniff";
        http.Response.Headers.ContentSecurityPolicy = "default-src 'none'; sandbox";
        return TypedResults.File(stream, image.MimeType, image.Filename);
    }
}
