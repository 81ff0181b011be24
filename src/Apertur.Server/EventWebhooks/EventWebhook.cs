namespace Apertur.Server.EventWebhooks;

/// <summary>A project's subscription to event topics (docs/api.md "Event webhooks"), with its own secret and retry policy.</summary>
public sealed class EventWebhook
{
    public Guid Id { get; set; }
    public Guid ProjectId { get; set; }
    public required string Url { get; set; }
    /// <summary>
    /// The secret, encrypted (<see cref="Hosting.WebhookSecretsAtRest"/>; column <c>secret</c>). The secret itself is 64
    /// lowercase hex characters; HMAC keys with its UTF-8 bytes, svix with its decoded bytes (docs/webhooks.md).
    /// </summary>
    public required string ProtectedSecret { get; set; }
    public string SignatureMethod { get; set; } = "hmac_sha256";
    public string[] Topics { get; set; } = [];
    public bool IsActive { get; set; } = true;
    public int MaxRetries { get; set; } = 5;
    public int[] RetryIntervals { get; set; } = [30, 300, 1800, 7200, 21600];
    public int DisableAfterFailures { get; set; } = 20;
    public int ConsecutiveFailures { get; set; }
    /// <summary>A JSON object of string header values.</summary>
    public string CustomHeaders { get; set; } = "{}";
    public DateTimeOffset? DisabledAt { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>One event that happened in a project, kept so its deliveries can be retried.</summary>
public sealed class EventLog
{
    public Guid Id { get; set; }
    public Guid ProjectId { get; set; }
    public required string Topic { get; set; }
    public required string Env { get; set; }
    /// <summary>The exact JSON body sent to subscribers.</summary>
    public required string Payload { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>One event to one event webhook.</summary>
public sealed class WebhookDelivery
{
    public Guid Id { get; set; }
    public Guid WebhookId { get; set; }
    public Guid EventLogId { get; set; }
    public required string Topic { get; set; }
    /// <summary><c>retrying</c> (queued or waiting), <c>sent</c> or <c>failed</c>.</summary>
    public string Status { get; set; } = "retrying";
    public int Attempts { get; set; }
    public int? ResponseCode { get; set; }
    public string? ResponseBody { get; set; }
    public int DurationMs { get; set; }
    public string? LastError { get; set; }
    public DateTimeOffset? NextRetryAt { get; set; }
    public Guid? LeaseToken { get; set; }
    public DateTimeOffset? LeaseExpiresAt { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

public static class WebhookDeliveryStatus
{
    public const string Retrying = "retrying";
    public const string Sent = "sent";
    public const string Failed = "failed";
}

public static class SignatureMethods
{
    /// <summary><c>X-Apertur-Timestamp</c> and <c>X-Apertur-Signature: sha256=hex(HMAC(UTF-8 secret, "ts.body"))</c>.</summary>
    public const string HmacSha256 = "hmac_sha256";
    /// <summary><c>svix-id</c>, <c>svix-timestamp</c>, <c>svix-signature: v1,base64(HMAC(hex-decoded secret, "id.ts.body"))</c>.</summary>
    public const string Svix = "svix";
}
