using System.Text.Json;
using System.Text.Json.Serialization;
using Apertur.Server.Hosting;

namespace Apertur.Server.EventWebhooks;

// Wire shapes of docs/api.md "Event webhooks": camelCase, every field always present (Rust-required), names spelt out.

public sealed record EventWebhookView(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("projectId")] string ProjectId,
    [property: JsonPropertyName("url")] string Url,
    [property: JsonPropertyName("secret")] string Secret,
    [property: JsonPropertyName("signatureMethod")] string SignatureMethod,
    [property: JsonPropertyName("topics")] IReadOnlyList<string> Topics,
    [property: JsonPropertyName("isActive")] bool IsActive,
    [property: JsonPropertyName("maxRetries")] int MaxRetries,
    [property: JsonPropertyName("retryIntervals")] IReadOnlyList<int> RetryIntervals,
    [property: JsonPropertyName("disableAfterFailures")] int DisableAfterFailures,
    [property: JsonPropertyName("consecutiveFailures")] int ConsecutiveFailures,
    [property: JsonPropertyName("customHeaders")] IReadOnlyDictionary<string, string> CustomHeaders,
    [property: JsonPropertyName("disabledAt")] string? DisabledAt,
    [property: JsonPropertyName("createdAt")] string CreatedAt,
    [property: JsonPropertyName("updatedAt")] string UpdatedAt)
{
    /// <summary>The webhook as answers show it, with its secret revealed (SDK users verify signatures with it).</summary>
    public static EventWebhookView Of(EventWebhook w, WebhookSecretsAtRest secrets) => new(
        w.Id.ToString(), w.ProjectId.ToString(), w.Url, secrets.Reveal(w.ProtectedSecret), w.SignatureMethod, w.Topics, w.IsActive, w.MaxRetries,
        w.RetryIntervals, w.DisableAfterFailures, w.ConsecutiveFailures, CustomHeadersOf(w), Iso.Format(w.DisabledAt),
        Iso.Format(w.CreatedAt), Iso.Format(w.UpdatedAt));

    public static Dictionary<string, string> CustomHeadersOf(EventWebhook w) =>
        JsonSerializer.Deserialize<Dictionary<string, string>>(w.CustomHeaders) ?? [];
}

public sealed record WebhookDeliveryView(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("eventLogId")] string EventLogId,
    [property: JsonPropertyName("topic")] string Topic,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("attempts")] int Attempts,
    [property: JsonPropertyName("responseCode")] int? ResponseCode,
    [property: JsonPropertyName("responseBody")] string? ResponseBody,
    [property: JsonPropertyName("durationMs")] int DurationMs,
    [property: JsonPropertyName("lastError")] string? LastError,
    [property: JsonPropertyName("nextRetryAt")] string? NextRetryAt,
    [property: JsonPropertyName("createdAt")] string CreatedAt,
    [property: JsonPropertyName("updatedAt")] string UpdatedAt)
{
    public static WebhookDeliveryView Of(WebhookDelivery d) => new(
        d.Id.ToString(), d.EventLogId.ToString(), d.Topic, d.Status, d.Attempts, d.ResponseCode, d.ResponseBody, d.DurationMs,
        d.LastError, Iso.Format(d.NextRetryAt), Iso.Format(d.CreatedAt), Iso.Format(d.UpdatedAt));
}

public sealed record WebhookDeliveryPage(
    [property: JsonPropertyName("deliveries")] IReadOnlyList<WebhookDeliveryView> Deliveries,
    [property: JsonPropertyName("total")] int Total,
    [property: JsonPropertyName("page")] int Page,
    [property: JsonPropertyName("limit")] int Limit);

/// <summary>The <c>{"message"}</c> answer of the test and retry endpoints.</summary>
public sealed record MessageView([property: JsonPropertyName("message")] string Message);
