using System.Security.Cryptography;
using System.Text.Json;
using Apertur.Server.Hosting;

namespace Apertur.Server.EventWebhooks;

/// <summary>Create and PATCH bodies (docs/api.md "Event webhooks"), read with their snake_case aliases and checked field by field (400 with a reason).</summary>
public static class EventWebhookRequests
{
    public const int MaxRetriesLimit = 20;
    public const int MaxIntervalSeconds = 604_800;
    public const int MaxIntervals = 20;
    public const int MaxCustomHeaders = 20;
    public static readonly int[] DefaultRetryIntervals = [30, 300, 1800, 7200, 21600];

    // Hop-by-hop and framing headers belong to the connection; the signature and id headers belong to Apertur.
    private static readonly HashSet<string> ReservedHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Content-Length", "Content-Type", "Content-Encoding", "Transfer-Encoding", "Connection", "Keep-Alive",
        "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Connection", "TE", "Trailer", "Trailers", "Upgrade", "Expect",
    };

    private static readonly string[] ReservedPrefixes = ["X-Apertur-", "X-Aptr-", "svix-", "webhook-"];

    /// <summary>A new webhook with a new secret, stored encrypted.</summary>
    public static EventWebhook Create(JsonBody body, Guid projectId, Guid id, DateTimeOffset now, WebhookSecretsAtRest secrets)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        var webhook = new EventWebhook
        {
            Id = id,
            ProjectId = projectId,
            Url = Url(body.Text("url") ?? throw ApiException.BadRequest("'url' is required.")),
            ProtectedSecret = secrets.Protect(NewSecret()),
            Topics = Topics(body.TextArray("topics", "events") ?? throw ApiException.BadRequest("'topics' is required: " + EventTopics.Describe())),
            RetryIntervals = DefaultRetryIntervals,
            CreatedAt = now,
            UpdatedAt = now,
        };
        Apply(webhook, body);
        return webhook;
    }

    /// <summary>Applies the fields present; absent fields stay. Re-activating clears the failure count and <c>disabledAt</c>.</summary>
    public static void Patch(EventWebhook webhook, JsonBody body, DateTimeOffset now)
    {
        if (body.Text("url") is { } url)
        {
            webhook.Url = Url(url);
        }
        if (body.TextArray("topics", "events") is { } topics)
        {
            webhook.Topics = Topics(topics);
        }
        Apply(webhook, body);
        webhook.UpdatedAt = now;
    }

    /// <summary>64 lowercase hex characters from 32 random bytes (the svix method hex-decodes it, so it must be even-length hex).</summary>
    public static string NewSecret() => RandomNumberGenerator.GetHexString(64, lowercase: true);

    private static void Apply(EventWebhook webhook, JsonBody body)
    {
        if (body.Text("signatureMethod", "signature_method") is { } method)
        {
            webhook.SignatureMethod = method is SignatureMethods.HmacSha256 or SignatureMethods.Svix
                ? method
                : throw ApiException.BadRequest($"'signatureMethod' must be {SignatureMethods.HmacSha256} or {SignatureMethods.Svix}.");
        }
        if (body.Number("maxRetries", "max_retries") is { } maxRetries)
        {
            webhook.MaxRetries = maxRetries is >= 0 and <= MaxRetriesLimit
                ? (int)maxRetries
                : throw ApiException.BadRequest($"'maxRetries' must be between 0 and {MaxRetriesLimit}.");
        }
        if (body.Element("retryIntervals", "retry_intervals") is { } intervals)
        {
            webhook.RetryIntervals = RetryIntervals(intervals);
        }
        if (body.Number("disableAfterFailures", "disable_after_failures") is { } disableAfter)
        {
            webhook.DisableAfterFailures = disableAfter is >= 1 and <= int.MaxValue
                ? (int)disableAfter
                : throw ApiException.BadRequest("'disableAfterFailures' must be 1 or more.");
        }
        if (body.Has("customHeaders", "custom_headers"))
        {
            webhook.CustomHeaders = JsonSerializer.Serialize(CustomHeaders(body.Element("customHeaders", "custom_headers")));
        }
        if (body.Flag("isActive", "is_active") is { } active && active != webhook.IsActive)
        {
            webhook.IsActive = active;
            if (active)
            {
                webhook.ConsecutiveFailures = 0;
                webhook.DisabledAt = null;
            }
        }
    }

    // Stored as given (trimmed), so reads echo what the client sent.
    private static string Url(string text) =>
        Uri.TryCreate(text.Trim(), UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            && uri.Host.Length > 0 && text.Length <= 2048
            ? text.Trim()
            : throw ApiException.BadRequest("'url' must be an absolute http or https URL.");

    private static string[] Topics(string[] topics)
    {
        if (topics.Length == 0)
        {
            throw ApiException.BadRequest("'topics' must name at least one topic. " + EventTopics.Describe());
        }
        if (topics.FirstOrDefault(t => !EventTopics.IsValidSubscription(t)) is { } unknown)
        {
            throw ApiException.BadRequest($"Unknown topic '{unknown}'. " + EventTopics.Describe(), "INVALID_TOPIC");
        }
        return topics.Distinct(StringComparer.Ordinal).ToArray();
    }

    private static int[] RetryIntervals(JsonElement element)
    {
        const string problem = "'retryIntervals' must be a list of 1 to 20 whole numbers of seconds, each from 1 to 604800.";
        if (element.ValueKind != JsonValueKind.Array || element.GetArrayLength() is 0 or > MaxIntervals)
        {
            throw ApiException.BadRequest(problem);
        }
        return element.EnumerateArray()
            .Select(e => e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var s) && s is >= 1 and <= MaxIntervalSeconds ? s : throw ApiException.BadRequest(problem))
            .ToArray();
    }

    private static Dictionary<string, string> CustomHeaders(JsonElement? element)
    {
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        if (element is not { } e)
        {
            return headers;
        }
        if (e.ValueKind != JsonValueKind.Object)
        {
            throw ApiException.BadRequest("'customHeaders' must be an object of header names to string values.");
        }
        foreach (var property in e.EnumerateObject())
        {
            var name = property.Name;
            if (name.Length is 0 or > 100 || !name.All(IsTokenChar))
            {
                throw ApiException.BadRequest($"Custom header name '{name}' is not a valid HTTP header name.");
            }
            if (ReservedHeaders.Contains(name) || ReservedPrefixes.Any(p => name.StartsWith(p, StringComparison.OrdinalIgnoreCase)))
            {
                throw ApiException.BadRequest($"Custom header '{name}' is set by Apertur or by the connection and cannot be overridden.");
            }
            if (property.Value.ValueKind != JsonValueKind.String)
            {
                throw ApiException.BadRequest($"Custom header '{name}' must have a string value.");
            }
            var value = property.Value.GetString()!;
            if (value.Length > 2048 || value.Any(c => c is '\r' or '\n' or '\0'))
            {
                throw ApiException.BadRequest($"Custom header '{name}' has a value that is too long or contains a line break.");
            }
            if (headers.Keys.Any(k => k.Equals(name, StringComparison.OrdinalIgnoreCase)))
            {
                throw ApiException.BadRequest($"Custom header '{name}' is given twice.");
            }
            headers[name] = value;
        }
        return headers.Count <= MaxCustomHeaders ? headers : throw ApiException.BadRequest($"At most {MaxCustomHeaders} custom headers are allowed.");
    }

    // RFC 9110 token characters.
    private static bool IsTokenChar(char c) => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal);
}
