using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Apertur.Server.Sessions;

// Request bodies of the session endpoints as the API reference shows them (OpenApi/ApiDescriptions.Body). The endpoints read
// them with JsonBody, which also takes the aliases of docs/api.md "Upload sessions"; every field is optional.

public sealed record SessionCreateRequest(
    [property: JsonPropertyName("destination_ids"), Description("Destinations to deliver to (alias destinationIds); absent: the key's defaults.")] IReadOnlyList<string>? DestinationIds,
    [property: JsonPropertyName("long_polling"), Description("Queue images for long polling too (aliases longPolling, long_polling_enabled).")] bool? LongPolling,
    [property: JsonPropertyName("expires_in_hours"), Description("1–168 (alias expiresInHours). Give one of the three expiry fields.")] int? ExpiresInHours,
    [property: JsonPropertyName("expires_in"), Description("Seconds, 60 up to the maximum expiry (alias expiresIn).")] int? ExpiresIn,
    [property: JsonPropertyName("expires_at"), Description("An ISO-8601 date-time in the future (alias expiresAt).")] string? ExpiresAt,
    [property: JsonPropertyName("max_images"), Description("1 up to the server's cap, 50 by default (alias maxImages).")] int? MaxImages,
    [property: JsonPropertyName("allowed_mime_types"), Description("A subset of image/jpeg, image/png, image/webp, image/heic (alias allowedMimeTypes).")] IReadOnlyList<string>? AllowedMimeTypes,
    [property: JsonPropertyName("max_image_dimension"), Description("Longest side in pixels (alias maxImageDimension).")] int? MaxImageDimension,
    [property: JsonPropertyName("max_image_size_mb"), Description("Per-image limit in MB; only lowers the server's (alias maxImageSizeMb).")] int? MaxImageSizeMb,
    [property: JsonPropertyName("password"), Description("4–128 characters.")] string? Password,
    [property: JsonPropertyName("tags"), Description("Up to 50 tags of up to 200 characters, e.g. user:123; an object {\"user\":\"123\"} is accepted too.")] IReadOnlyList<string>? Tags,
    [property: JsonPropertyName("metadata"), Description("Up to 16 KB of JSON, sent in event data and event_json webhooks.")] JsonElement? Metadata,
    [property: JsonPropertyName("label"), Description("Up to 200 characters.")] string? Label);

public sealed record SessionPatchRequest(
    [property: JsonPropertyName("expires_in_hours")] int? ExpiresInHours,
    [property: JsonPropertyName("expires_in")] int? ExpiresIn,
    [property: JsonPropertyName("expires_at")] string? ExpiresAt,
    [property: JsonPropertyName("max_images"), Description("Not below the images already uploaded; raising it reopens a completed session.")] int? MaxImages,
    [property: JsonPropertyName("allowed_mime_types")] IReadOnlyList<string>? AllowedMimeTypes,
    [property: JsonPropertyName("max_image_dimension")] int? MaxImageDimension,
    [property: JsonPropertyName("max_image_size_mb")] int? MaxImageSizeMb,
    [property: JsonPropertyName("tags")] IReadOnlyList<string>? Tags,
    [property: JsonPropertyName("label")] string? Label,
    [property: JsonPropertyName("metadata")] JsonElement? Metadata,
    [property: JsonPropertyName("long_polling")] bool? LongPolling,
    [property: JsonPropertyName("password"), Description("A string sets or replaces it; null removes the protection.")] string? Password);

public sealed record PasswordCheckRequest([property: JsonPropertyName("password")] string Password);
