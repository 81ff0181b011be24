using System.Text.Json;
using System.Text.Json.Nodes;
using Apertur.Server.Hosting;
using Apertur.Server.Qr;
using Apertur.Server.Sessions;
using Apertur.Server.Uploads;

namespace Apertur.Server.OpenApi;

/// <summary>
/// The examples the document shows for the main bodies (docs/api.md): one per type, written from a value of that type as the
/// server writes it (web JSON options, each record's own names) and added to its schema by <see cref="ApiDocumentTransformers"/>.
/// The OpenApi tests validate each against its own schema, so an example cannot drift.
/// </summary>
public static class ApiExamples
{
    private const string SessionId = "5b7e1f0c-2d3a-4c8e-9f16-7a2b3c4d5e6f";
    private const string DestinationId = "3f1c2a9e-8d4b-4f7a-9c61-2b5e7d0a1c34";
    private const string Origin = "https://photos.example.com";

    private static readonly IReadOnlyList<object> Values =
    [
        new ErrorBody(429, "Too Many Requests", "Rate limit exceeded: 60 requests per minute. Retry in 12 s.", "RATE_LIMIT", 12),
        new SessionCreateRequest(DestinationIds: [DestinationId], LongPolling: null, ExpiresInHours: 24, ExpiresIn: null, ExpiresAt: null,
            MaxImages: 12, AllowedMimeTypes: null, MaxImageDimension: null, MaxImageSizeMb: null, Password: null,
            Tags: ["claim:4512", "adjuster:marta"], Metadata: null, Label: "Claim 4512 · kitchen"),
        new SessionCreated(SessionId, SessionId, $"{Origin}/upload/{SessionId}", Origin + PublicUrls.QrPath(Guid.Parse(SessionId)),
            new QrSpecs(PublicUrls.QrPath(Guid.Parse(SessionId)), QrOptions.Formats, QrOptions.DefaultParams),
            [new SessionDestinationView(DestinationId, "webhook", "Shop backend")], LongPolling: false, ExpiresAt: "2026-12-03T09:30:00.000Z",
            PasswordProtected: false, Env: "live", MaxImages: 12, Tags: ["claim:4512", "adjuster:marta"], Label: "Claim 4512 · kitchen"),
        new UploadResult("9d2c4b1a-6e5f-4a3b-8c7d-1e2f3a4b5c6d", "IMG_2041.jpg", 836214, Destinations: 1, LongPolling: false, "image/jpeg",
            ImageIndex: 1, SessionId, Width: 3024, Height: 4032, IsEncrypted: false)
        {
            ThumbnailUrl = $"https://photos.example.com/u/{SessionId}/thumbnails/9d2c4b1a-6e5f-4a3b-8c7d-1e2f3a4b5c6d?sig=Hn4c2Lq0xY7vR1sT9wKp3A",
        },
    ];

    // As the server writes them; a field left null in an example is left out (only optional request fields are).
    private static readonly JsonSerializerOptions Json = new(JsonSerializerOptions.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The example of a body of <paramref name="type"/>, or null when it has none.</summary>
    public static JsonNode? For(Type type) =>
        Values.FirstOrDefault(v => v.GetType() == type) is { } value ? JsonSerializer.SerializeToNode(value, type, Json) : null;

    /// <summary>The types that have an example.</summary>
    public static IEnumerable<Type> Types => Values.Select(v => v.GetType());
}
