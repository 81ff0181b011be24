namespace Apertur.Server.Projects;

/// <summary>A tenant: owns keys, destinations, sessions and images.</summary>
public sealed class Project
{
    public Guid Id { get; set; }
    public required string Name { get; set; }
    public string? WebhookSecret { get; set; }
    /// <summary>The secret before the last rotation; it keeps signing (in <c>webhook-signature</c>) until it expires.</summary>
    public string? PreviousWebhookSecret { get; set; }
    public DateTimeOffset? PreviousWebhookSecretExpiresAt { get; set; }
    public string? NotificationEmail { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
