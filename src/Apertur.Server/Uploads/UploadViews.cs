using System.Text.Json.Serialization;

namespace Apertur.Server.Uploads;

// Wire shapes of the upload endpoints; names are spelt out because casing differs per endpoint (docs/api.md "Conventions").

/// <summary>201 answer of an upload (docs/api.md "Uploads"): the five snake_case fields the SDKs require, then extras they ignore.</summary>
public sealed record UploadResult(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("filename")] string Filename,
    [property: JsonPropertyName("size_bytes")] long SizeBytes,
    [property: JsonPropertyName("destinations")] int Destinations,
    [property: JsonPropertyName("long_polling")] bool LongPolling,
    [property: JsonPropertyName("mime_type")] string MimeType,
    [property: JsonPropertyName("image_index")] int ImageIndex,
    [property: JsonPropertyName("session_id")] string SessionId,
    [property: JsonPropertyName("width")] int Width,
    [property: JsonPropertyName("height")] int Height,
    [property: JsonPropertyName("is_encrypted")] bool IsEncrypted)
{
    /// <summary>
    /// The uploader's link to the server's thumbnail of the image (JPEG, longest side 320 px), which the upload page shows for
    /// types a browser cannot draw (docs/api.md "Uploads").
    /// </summary>
    [JsonPropertyName("thumbnail_url")]
    public string? ThumbnailUrl { get; init; }

    public static UploadResult Of(Image image, int destinations) => new(image.Id.ToString(), image.Filename, image.SizeBytes, destinations,
        image.InPollQueue, image.MimeType, image.ImageIndex, image.SessionId.ToString(), image.Width, image.Height, image.IsEncrypted);
}

/// <summary>One row of the uploads history (docs/api.md "Uploads history"), camelCase.</summary>
public sealed record UploadRow(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("filename")] string Filename,
    [property: JsonPropertyName("sizeBytes")] long SizeBytes,
    [property: JsonPropertyName("mimeType")] string MimeType,
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("isEncrypted")] bool IsEncrypted,
    [property: JsonPropertyName("env")] string Env,
    [property: JsonPropertyName("createdAt")] string CreatedAt,
    [property: JsonPropertyName("sessionId")] string SessionId,
    [property: JsonPropertyName("projectId")] string ProjectId,
    [property: JsonPropertyName("projectName")] string ProjectName,
    [property: JsonPropertyName("destinationsTotal")] int DestinationsTotal,
    [property: JsonPropertyName("destinationsDelivered")] int DestinationsDelivered,
    [property: JsonPropertyName("destinationsFailed")] int DestinationsFailed,
    [property: JsonPropertyName("destinationsBreakdown")] IReadOnlyList<DestinationCount> DestinationsBreakdown,
    [property: JsonPropertyName("status")] string Status);

public sealed record DestinationCount(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("count")] int Count);

public static class UploadStatus
{
    public const string Delivered = "delivered";
    public const string Failed = "failed";
    public const string Partial = "partial";
    public const string Pending = "pending";
    public const string StoredOnly = "stored_only";

    /// <summary>Still in progress reads pending; once every delivery ended: all sent, all failed, or partial.</summary>
    public static string Of(int total, int delivered, int failed) =>
        total == 0 ? StoredOnly
        : delivered + failed < total ? Pending
        : delivered == total ? Delivered
        : failed == total ? Failed
        : Partial;
}
