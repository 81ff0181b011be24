using System.Text.Json.Serialization;

namespace Apertur.Server.Polling;

// Wire shape of delivery-status (docs/api.md "Delivery status"): snake_case inside files, camelCase lastChanged. Every name is spelt out.

/// <summary>One delivery-status snapshot. <see cref="LastChangedAt"/> is the instant the long-poll compares.</summary>
public sealed record DeliveryStatusSnapshot(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("files")] IReadOnlyList<DeliveryFile> Files,
    [property: JsonIgnore] DateTimeOffset LastChangedAt)
{
    [JsonPropertyName("lastChanged")]
    public string LastChanged => Hosting.Iso.Format(LastChangedAt);
}

public sealed record DeliveryFile(
    [property: JsonPropertyName("record_id")] string RecordId,
    [property: JsonPropertyName("filename")] string Filename,
    [property: JsonPropertyName("size_bytes")] long SizeBytes,
    [property: JsonPropertyName("has_thumbnail")] bool HasThumbnail,
    [property: JsonPropertyName("destinations")] IReadOnlyList<DeliveryTarget> Destinations);

public sealed record DeliveryTarget(
    [property: JsonPropertyName("destination_id")] string DestinationId,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("attempts")] int Attempts,
    [property: JsonPropertyName("last_error")] string? LastError);
