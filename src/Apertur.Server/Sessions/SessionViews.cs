using System.Text.Json.Serialization;

namespace Apertur.Server.Sessions;

// Wire shapes of the session endpoints. Casing is mixed on purpose (docs/api.md "Conventions"): every name is spelt out.

public sealed record SessionCreated(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("uuid")] string Uuid,
    [property: JsonPropertyName("upload_url")] string UploadUrl,
    [property: JsonPropertyName("qr_url")] string QrUrl,
    [property: JsonPropertyName("qr_specs")] QrSpecs QrSpecs,
    [property: JsonPropertyName("destinations")] IReadOnlyList<SessionDestinationView> Destinations,
    [property: JsonPropertyName("long_polling")] bool LongPolling,
    [property: JsonPropertyName("expires_at")] string ExpiresAt,
    [property: JsonPropertyName("password_protected")] bool PasswordProtected,
    [property: JsonPropertyName("env")] string Env,
    [property: JsonPropertyName("max_images")] int MaxImages,
    [property: JsonPropertyName("tags")] IReadOnlyList<string> Tags,
    [property: JsonPropertyName("label")] string? Label);

public sealed record QrSpecs(
    [property: JsonPropertyName("endpoint")] string Endpoint,
    [property: JsonPropertyName("formats")] IReadOnlyList<string> Formats,
    [property: JsonPropertyName("params")] IReadOnlyDictionary<string, string> Params);

public sealed record SessionDestinationView(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("name")] string Name);

public sealed record SessionDetail(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("expiresAt")] string ExpiresAt,
    [property: JsonPropertyName("createdAt")] string CreatedAt,
    [property: JsonPropertyName("tags")] IReadOnlyList<string> Tags,
    [property: JsonPropertyName("label")] string? Label,
    [property: JsonPropertyName("imagesPerSession")] int ImagesPerSession,
    [property: JsonPropertyName("imagesCount")] int ImagesCount,
    [property: JsonPropertyName("effectiveMaxImages")] int EffectiveMaxImages,
    [property: JsonPropertyName("effectiveAllowedMimeTypes")] IReadOnlyList<string> EffectiveAllowedMimeTypes,
    [property: JsonPropertyName("effectiveMaxImageDimension")] int? EffectiveMaxImageDimension,
    [property: JsonPropertyName("effectiveMaxImageSizeBytes")] long EffectiveMaxImageSizeBytes,
    [property: JsonPropertyName("password_protected")] bool PasswordProtected,
    [property: JsonPropertyName("longPolling")] bool LongPolling,
    [property: JsonPropertyName("env")] string Env,
    [property: JsonPropertyName("serverPublicKey")] string ServerPublicKey,
    [property: JsonPropertyName("e2eEnabled")] bool E2eEnabled,
    [property: JsonPropertyName("e2ePublicKey")] string? E2ePublicKey,
    [property: JsonPropertyName("e2eDowngraded")] bool E2eDowngraded);

public sealed record SessionRow(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("createdAt")] string CreatedAt,
    [property: JsonPropertyName("expiresAt")] string ExpiresAt,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("projectId")] string ProjectId,
    [property: JsonPropertyName("projectName")] string ProjectName,
    [property: JsonPropertyName("imagesCount")] int ImagesCount,
    [property: JsonPropertyName("imagesDelivered")] int ImagesDelivered,
    [property: JsonPropertyName("imagesFailed")] int ImagesFailed,
    [property: JsonPropertyName("destinationsCount")] int DestinationsCount,
    [property: JsonPropertyName("tags")] IReadOnlyList<string>? Tags,
    [property: JsonPropertyName("longPollingEnabled")] bool LongPollingEnabled,
    [property: JsonPropertyName("label")] string? Label,
    [property: JsonPropertyName("env")] string Env,
    [property: JsonIgnore] bool Deleted = false)
{
    /// <summary>What the dashboard shows: a deleted session says so (the API reads it as <c>expired</c>).</summary>
    [JsonIgnore]
    public string DashboardStatus => Deleted ? SessionStatus.Deleted : Status;
}

/// <summary>The paged list envelope shared by <c>/sessions</c> and <c>/uploads</c>.</summary>
public sealed record Page<T>(
    [property: JsonPropertyName("data")] IReadOnlyList<T> Data,
    [property: JsonPropertyName("total")] int Total,
    [property: JsonPropertyName("page")] int PageNumber,
    [property: JsonPropertyName("pageSize")] int PageSize,
    [property: JsonPropertyName("totalPages")] int TotalPages);

public sealed record PasswordCheck([property: JsonPropertyName("valid")] bool Valid);
