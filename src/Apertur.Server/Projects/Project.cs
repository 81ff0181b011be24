namespace Apertur.Server.Projects;

/// <summary>A tenant: owns keys, destinations, sessions and images.</summary>
public sealed class Project
{
    public Guid Id { get; set; }
    public required string Name { get; set; }
    /// <summary>The webhook secret, encrypted (<see cref="Hosting.WebhookSecretsAtRest"/>); column <c>webhook_secret</c>.</summary>
    public string? ProtectedWebhookSecret { get; set; }
    /// <summary>
    /// The secret before the last rotation, encrypted like the current one (column <c>previous_webhook_secret</c>); it keeps
    /// signing (in <c>webhook-signature</c>) until it expires.
    /// </summary>
    public string? ProtectedPreviousWebhookSecret { get; set; }
    public DateTimeOffset? PreviousWebhookSecretExpiresAt { get; set; }
    public string? NotificationEmail { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>How long this project's deliveries are retried after their first attempt; null: the server's <c>RetryWindow</c>.</summary>
    public int? RetryWindowMinutes { get; set; }
    /// <summary>A new session's <c>max_images</c> when the request gives none; null: the server's default.</summary>
    public int? DefaultMaxImages { get; set; }
    /// <summary>A new session's lifetime when the request gives none; null: the server's default.</summary>
    public int? DefaultExpiryMinutes { get; set; }
    /// <summary>A new session's largest image when the request gives none; null: the server's limit.</summary>
    public int? DefaultMaxImageSizeMb { get; set; }
    /// <summary>Minutes an image's bytes are kept after it is done with; null: the server's <c>ImagesAfterDelivery</c>, never longer (docs/operations.md "Retention").</summary>
    public int? ImagesAfterDeliveryMinutes { get; set; }
    /// <summary>Minutes an image's bytes are kept after its upload at most; null: the server's <c>MaxImageAge</c>, never longer.</summary>
    public int? MaxImageAgeMinutes { get; set; }
}
