using Apertur.Server.Sessions;

namespace Apertur.Server.Uploads;

/// <summary>The effective limits for one upload: the tightest of the server's settings and the session's (docs/api.md "Limits").</summary>
public sealed record UploadLimits(long MaxBytes, int MaxDimension, long MaxPixels)
{
    // Multipart boundaries, part headers and the source field; JSON keys, IV and the wrapped key of an envelope.
    private const long Overhead = 64 * 1024;

    public static UploadLimits For(Session session, UploadOptions options) => new(
        Math.Min(session.MaxImageBytes, options.MaxImageBytes),
        Math.Min(session.MaxImageDimension ?? int.MaxValue, options.MaxImageDimension),
        options.MaxPixels);

    /// <summary>An encrypted envelope carries the image as base64 (4 bytes per 3) plus its key material.</summary>
    public long MaxEnvelopeBytes => (MaxBytes + 2) / 3 * 4 + Overhead;

    /// <summary>The largest request body worth reading for this upload.</summary>
    public long MaxRequestBytes(bool encrypted) => (encrypted ? MaxEnvelopeBytes : MaxBytes) + Overhead;
}
