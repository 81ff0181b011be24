using System.Globalization;
using System.Text.Json;

namespace Apertur.Destinations;

/// <summary>What a destination does when its image options cannot be applied to an image (a broken or hostile file).</summary>
public enum ProcessingFallback
{
    /// <summary>The delivery fails for good with the reason (the default): a bad image does not get better by retrying.</summary>
    Fail,

    /// <summary>The original bytes are delivered unchanged.</summary>
    Original,
}

/// <summary>
/// The image options every destination kind accepts in its config, besides its own fields (docs/api.md "Image options"):
/// <c>convert_heic</c>, <c>strip_metadata</c>, <c>max_dimension</c>, <c>jpeg_quality</c> and <c>on_processing_error</c>.
/// All off by default: the destination then receives the uploaded bytes exactly. They are declared once here and added
/// to every registered kind's form and validation by <see cref="DestinationKindRegistry"/> (<see cref="AddTo"/>), so no
/// kind declares them and no kind can miss them. The server applies them at delivery time (Apertur.Server's Images/).
/// </summary>
/// <param name="ConvertHeic">HEIC/HEIF images are delivered as JPEG.</param>
/// <param name="StripMetadata">EXIF (GPS included), XMP, IPTC and comments removed, after the EXIF orientation is applied to the pixels; the ICC profile is kept.</param>
/// <param name="MaxDimension">The longest side in pixels, aspect kept, never upscaled; null for no limit.</param>
/// <param name="JpegQuality">The quality of JPEG (and WebP) images this writes; given alone, JPEGs are re-encoded at it. Null: <see cref="DefaultJpegQuality"/> when re-encoding.</param>
/// <param name="OnError">What a failure to process an image does to its delivery.</param>
public sealed record DeliveryImageOptions(bool ConvertHeic, bool StripMetadata, int? MaxDimension, int? JpegQuality, ProcessingFallback OnError)
{
    public const string ConvertHeicKey = "convert_heic";
    public const string StripMetadataKey = "strip_metadata";
    public const string MaxDimensionKey = "max_dimension";
    public const string JpegQualityKey = "jpeg_quality";
    public const string OnErrorKey = "on_processing_error";

    public const int MaxDimensionLimit = 20_000;
    public const int DefaultJpegQuality = 85;

    /// <summary>The values of <c>on_processing_error</c>.</summary>
    public static readonly IReadOnlyList<string> FallbackNames = ["fail", "original"];

    /// <summary>No option set: the uploaded bytes are delivered as they are.</summary>
    public static DeliveryImageOptions None { get; } = new(false, false, null, null, ProcessingFallback.Fail);

    /// <summary>Some option may change the bytes (whether it does depends on the image: a PNG with only <see cref="ConvertHeic"/> stays as it is).</summary>
    public bool Any => ConvertHeic || StripMetadata || MaxDimension is not null || JpegQuality is not null;

    /// <summary>The JPEG/WebP quality used when an image is written.</summary>
    public int Quality => JpegQuality ?? DefaultJpegQuality;

    /// <summary>The form fields every kind's dashboard form ends with.</summary>
    public static IReadOnlyList<FormField> Fields { get; } =
    [
        new(ConvertHeicKey, "Convert HEIC to JPEG", "iPhone photos (HEIC/HEIF) are delivered as JPEG, which every receiver can display.", FieldType.Flag),
        new(StripMetadataKey, "Remove photo metadata",
            "EXIF (including the GPS position), XMP and IPTC are removed; the photo is turned upright first and its colour profile kept.", FieldType.Flag),
        new(MaxDimensionKey, "Longest side (pixels)", "Larger photos are scaled down to this, aspect kept; smaller ones are never enlarged. Empty: any size.",
            FieldType.Number, Placeholder: "e.g. 2048", Min: 1, Max: MaxDimensionLimit),
        new(JpegQualityKey, "JPEG quality", "1 to 100, used when a photo is re-encoded (85 when empty); given alone, JPEG photos are re-encoded at it.",
            FieldType.Number, Placeholder: "85", Min: 1, Max: 100),
        new(OnErrorKey, "If a photo cannot be processed", "fail (the default): the delivery fails with the reason. original: the photo is delivered unchanged.",
            FieldType.Choice, Choices: ["", .. FallbackNames]),
    ];

    /// <summary>The kind's descriptor with the image options appended to its form and checked by its validation.</summary>
    public static DestinationDescriptor AddTo(DestinationDescriptor kind)
    {
        ArgumentNullException.ThrowIfNull(kind);
        var validate = kind.Validate;
        return kind with
        {
            Form = kind.Form is { } form ? form with { Fields = [.. form.Fields, .. Fields] } : null,
            Validate = validate is null ? null! : config => [.. validate(config), .. Problems(config)],
        };
    }

    /// <summary>The options' problems in words; empty when they are fine (or absent).</summary>
    public static IReadOnlyList<string> Problems(JsonElement config)
    {
        TryRead(config, out _, out var problems);
        return problems;
    }

    /// <summary>The options of a destination config (checked when it was saved); <see cref="None"/> where they cannot be read.</summary>
    public static DeliveryImageOptions Read(JsonElement config) => TryRead(config, out var options, out _) ? options : None;

    public static bool TryRead(JsonElement config, out DeliveryImageOptions options, out IReadOnlyList<string> problems)
    {
        var found = new List<string>();
        options = None;
        if (config.ValueKind != JsonValueKind.Object)
        {
            problems = found;
            return true;
        }
        var convert = Flag(config, ConvertHeicKey, found);
        var strip = Flag(config, StripMetadataKey, found);
        var maxDimension = Whole(config, MaxDimensionKey, 1, MaxDimensionLimit, found);
        var quality = Whole(config, JpegQualityKey, 1, 100, found);
        var onError = ProcessingFallback.Fail;
        if (Given(config, OnErrorKey) is { } fallback)
        {
            ProcessingFallback? chosen = fallback.ValueKind == JsonValueKind.String ? fallback.GetString()!.Trim().ToLowerInvariant() switch
            {
                "fail" => ProcessingFallback.Fail,
                "original" => ProcessingFallback.Original,
                _ => null,
            } : null;
            if (chosen is not { } known)
            {
                found.Add($"config.{OnErrorKey} must be one of {string.Join(", ", FallbackNames)} (got {fallback.GetRawText()}).");
            }
            else
            {
                onError = known;
            }
        }
        problems = found;
        if (found.Count > 0)
        {
            return false;
        }
        options = new(convert, strip, maxDimension, quality, onError);
        return true;
    }

    private static JsonElement? Given(JsonElement config, string key) =>
        config.TryGetProperty(key, out var value) && value.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined) ? value : null;

    private static bool Flag(JsonElement config, string key, List<string> problems)
    {
        if (Given(config, key) is not { } value)
        {
            return false;
        }
        if (value.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            return value.GetBoolean();
        }
        problems.Add($"config.{key} must be true or false (got {value.GetRawText()}).");
        return false;
    }

    private static int? Whole(JsonElement config, string key, int min, int max, List<string> problems)
    {
        if (Given(config, key) is not { } value)
        {
            return null;
        }
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) && n >= min && n <= max)
        {
            return n;
        }
        problems.Add(string.Create(CultureInfo.InvariantCulture, $"config.{key} must be a whole number from {min} to {max} (got {value.GetRawText()})."));
        return null;
    }
}
