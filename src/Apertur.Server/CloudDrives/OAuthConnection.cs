namespace Apertur.Server.CloudDrives;

/// <summary>
/// A cloud drive destination's OAuth grant. Tokens are Data Protection ciphertext (purpose <see cref="OAuthGrantStore.Purpose"/>)
/// and never leave the server. <see cref="Generation"/> is new at every connect, so a refresh or a failure that began
/// before a reconnect cannot write over the new grant.
/// </summary>
public sealed class OAuthConnection
{
    public Guid DestinationId { get; set; }
    public Guid ProjectId { get; set; }
    public required string Provider { get; set; }
    public string Status { get; set; } = OAuthConnectionStatus.Connected;
    public long Generation { get; set; }
    public required string RefreshToken { get; set; }
    public string? AccessToken { get; set; }
    public DateTimeOffset? AccessExpiresAt { get; set; }
    public string? Scope { get; set; }
    public string? AccountName { get; set; }
    /// <summary>Why the grant needs reconnecting, in words.</summary>
    public string? LastError { get; set; }
    public DateTimeOffset ConnectedAt { get; set; }
    public DateTimeOffset? RefreshedAt { get; set; }
    public DateTimeOffset? NeedsReconnectAt { get; set; }
    /// <summary>When the project was emailed that this grant needs reconnecting; null while the email is due.</summary>
    public DateTimeOffset? ReconnectNotifiedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

public static class OAuthConnectionStatus
{
    public const string Connected = "connected";
    public const string NeedsReconnect = "needs_reconnect";
    /// <summary>Shown for a destination with no grant; never stored.</summary>
    public const string NotConnected = "not_connected";
}

/// <summary>
/// A connect flow in progress, kept in the database so whichever replica receives the provider's callback can finish it.
/// Only the SHA-256 of the state is stored; the PKCE verifier is encrypted. Single use (<see cref="UsedAt"/>), expiring.
/// </summary>
public sealed class OAuthState
{
    public Guid Id { get; set; }
    public required byte[] StateHash { get; set; }
    public Guid ProjectId { get; set; }
    public Guid DestinationId { get; set; }
    public required string Provider { get; set; }
    public required string CodeVerifier { get; set; }
    public required string RedirectUri { get; set; }
    public string? ReturnUrl { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public DateTimeOffset? UsedAt { get; set; }
}
