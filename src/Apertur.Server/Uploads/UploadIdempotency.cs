using System.Security.Cryptography;
using Apertur.Server.Data;
using Apertur.Server.Hosting;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Uploads;

/// <summary>
/// The optional <c>Idempotency-Key</c> header of an upload (docs/architecture.md "How an upload flows"): a retry whose
/// first answer was lost gets that answer again instead of storing the image twice. The key is unique per session and is
/// kept on the image row with the SHA-256 of the image bytes, so it lives as long as the image (at least 24 hours).
/// Uploads without the header never read or write it.
/// </summary>
public static class UploadIdempotency
{
    public const string Header = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";
    private const int MaxLength = 255;

    /// <summary>The request's key, null without the header; 400 when it is empty, longer than 255 or not printable ASCII.</summary>
    public static string? KeyOf(HttpRequest request)
    {
        var values = request.Headers[Header];
        if (values.Count == 0)
        {
            return null;
        }
        var key = values.Count == 1 ? values[0] : null;
        return key is { Length: > 0 and <= MaxLength } && key.All(c => c is >= ' ' and <= '~')
            ? key
            : throw ApiException.BadRequest($"'{Header}' must be one value of 1 to {MaxLength} printable ASCII characters (a UUID, for example).",
                "INVALID_IDEMPOTENCY_KEY");
    }

    // Asked twice by every upload with a key (the upload page sends one with each photo): before the body and after the claim.
    private static readonly CompiledQuery<Func<AperturDb, Guid, string, CancellationToken, Task<Image?>>> ByKey = new(() =>
        EF.CompileAsyncQuery((AperturDb db, Guid sessionId, string key, CancellationToken ct) =>
            db.Images.AsNoTracking().FirstOrDefault(i => i.SessionId == sessionId && i.IdempotencyKey == key)));

    /// <summary>The image this session already stored under <paramref name="key"/>, or null.</summary>
    public static Task<Image?> FindAsync(AperturDb db, Guid sessionId, string key, CancellationToken ct) => ByKey.For(db)(db, sessionId, key, ct);

    /// <summary>
    /// The first answer again when the bytes are the same; 422 <c>IDEMPOTENCY_KEY_REUSED</c> when the key named another image.
    /// </summary>
    public static async Task<UploadResult> ReplayAsync(AperturDb db, HttpResponse response, Image original, byte[] sha256, CancellationToken ct)
    {
        if (original.ContentSha256 is not { } stored || !CryptographicOperations.FixedTimeEquals(stored, sha256))
        {
            throw new ApiException(422, "IDEMPOTENCY_KEY_REUSED",
                $"This {Header} was already used for a different image in this session. Send each new image with a new key.");
        }
        var destinations = await db.Deliveries.CountAsync(d => d.ImageId == original.Id, ct);
        response.Headers[ReplayedHeader] = "true";
        return UploadResult.Of(original, destinations);
    }
}
