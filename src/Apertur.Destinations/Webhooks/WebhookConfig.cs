using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Apertur.Destinations.Webhooks;

/// <summary>The body formats of a webhook destination (docs/webhooks.md, "Image webhooks").</summary>
public enum WebhookFormat
{
    Multipart,
    JsonBase64,
    Binary,
    EventJson,
}

/// <summary>A webhook destination's config: <c>{"url": "https://…", "format": "multipart"}</c>.</summary>
public sealed record WebhookConfig(Uri Url, WebhookFormat Format) : IDestinationConfig<WebhookConfig>
{
    public static readonly IReadOnlyList<string> FormatNames = ["multipart", "json_base64", "binary", "event_json"];

    /// <summary>Parses the config; on failure <paramref name="problems"/> says, in words, what to fix.</summary>
    public static bool TryParse(JsonElement config, [NotNullWhen(true)] out WebhookConfig? parsed, out IReadOnlyList<string> problems)
    {
        parsed = null;
        var found = new List<string>();
        problems = found;
        if (config.ValueKind != JsonValueKind.Object)
        {
            found.Add("config must be a JSON object with at least \"url\".");
            return false;
        }

        Uri? url = null;
        if (!config.TryGetProperty("url", out var urlElement) || urlElement.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
        {
            found.Add("config.url is required: the receiver's absolute http or https URL.");
        }
        else if (urlElement.ValueKind != JsonValueKind.String)
        {
            found.Add("config.url must be a string: the receiver's absolute http or https URL.");
        }
        else if (!Uri.TryCreate(urlElement.GetString()?.Trim(), UriKind.Absolute, out url)
            || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps)
            || string.IsNullOrEmpty(url.Host))
        {
            found.Add($"config.url must be an absolute http or https URL (got '{urlElement.GetString()}').");
            url = null;
        }

        var format = WebhookFormat.Multipart;
        if (config.TryGetProperty("format", out var formatElement) && formatElement.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined))
        {
            if (formatElement.ValueKind != JsonValueKind.String || ParseFormat(formatElement.GetString()) is not { } known)
            {
                found.Add($"config.format must be one of {string.Join(", ", FormatNames)} (got {formatElement.GetRawText()}).");
            }
            else
            {
                format = known;
            }
        }

        if (found.Count > 0 || url is null)
        {
            return false;
        }
        parsed = new WebhookConfig(url, format);
        return true;
    }

    private static WebhookFormat? ParseFormat(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        "multipart" => WebhookFormat.Multipart,
        "json_base64" => WebhookFormat.JsonBase64,
        "binary" => WebhookFormat.Binary,
        "event_json" => WebhookFormat.EventJson,
        _ => null,
    };
}
