using System.Text.Json.Serialization;

namespace Apertur.Server.Polling;

// Wire shapes of the polling endpoints (docs/api.md "Long polling"): snake_case. Every name is spelt out.

public sealed record PollList([property: JsonPropertyName("images")] IReadOnlyList<PollImage> Images);

public sealed record PollImage(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("filename")] string Filename,
    [property: JsonPropertyName("size_bytes")] long SizeBytes,
    [property: JsonPropertyName("mime_type")] string MimeType,
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("created_at")] string CreatedAt);

public sealed record AckResult([property: JsonPropertyName("status")] string Status);
