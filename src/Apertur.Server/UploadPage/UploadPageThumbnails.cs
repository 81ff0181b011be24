using System.Security.Cryptography;
using System.Text;
using Apertur.Server.Data;
using Apertur.Server.Hosting;
using Apertur.Server.Images;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.UploadPage;

/// <summary>
/// The server's thumbnail of an image just uploaded, for the upload page (Chromium cannot draw HEIC): the upload's answer
/// carries <c>thumbnail_url</c>, <c>/u/{session}/thumbnails/{image}?sig=…</c>, where sig is HMAC-SHA256 over
/// <c>"{session}.{image}"</c> under a key derived from the master key. Only the uploader gets it (after the session's password
/// check, if any): the session's UUID and the image id, which the session's public event stream names, are not enough. The
/// link works while the session is open to the page: not deleted, not past its expiry.
/// </summary>
public sealed class UploadPageThumbnails(MasterKey masterKey, PublicUrls urls)
{
    public const string Purpose = "Apertur.UploadPageThumbnails.v1";
    private readonly byte[] _key = masterKey.DeriveKey(Purpose);

    public string For(HttpRequest request, Guid sessionId, Guid imageId) =>
        $"{urls.BaseUrl(request)}/u/{sessionId:D}/thumbnails/{imageId:D}?sig={Sign(sessionId, imageId)}";

    public bool Verify(Guid sessionId, Guid imageId, string? sig) =>
        sig is { Length: 64 } && sig.All(char.IsAsciiHexDigit)
        && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Sign(sessionId, imageId)), Encoding.ASCII.GetBytes(sig.ToLowerInvariant()));

    private string Sign(Guid sessionId, Guid imageId) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes($"{sessionId:D}.{imageId:D}")));

    public static IEndpointRouteBuilder MapUploadPageThumbnails(IEndpointRouteBuilder app)
    {
        app.MapGet("/u/{uuid}/thumbnails/{imageId}", ThumbnailAsync).WithRateLimit(RateLimitPolicies.PublicSession);
        return app;
    }

    private static async Task<Results<NotFound, PhysicalFileHttpResult, ContentHttpResult>> ThumbnailAsync(string uuid, string imageId, string? sig,
        HttpContext http, UploadPageThumbnails links, AperturDb db, Thumbnails thumbnails, TimeProvider time, CancellationToken ct)
    {
        if (!Guid.TryParse(uuid, out var sessionId) || !Guid.TryParse(imageId, out var id) || !links.Verify(sessionId, id, sig))
        {
            return TypedResults.NotFound();
        }
        var now = time.GetUtcNow();
        var open = await db.Sessions.AsNoTracking().AnyAsync(s => s.Id == sessionId && s.DeletedAt == null && s.ExpiresAt > now, ct);
        var image = open
            ? await db.Images.AsNoTracking().FirstOrDefaultAsync(i => i.Id == id && i.SessionId == sessionId && i.BytesDeletedAt == null, ct)
            : null;
        return await ThumbnailAnswers.ThumbnailAsync(image, thumbnails, http, ct);
    }
}
