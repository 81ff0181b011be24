namespace Apertur.Destinations.OAuth;

/// <summary>
/// Optional adapter ability: the destination is connected to an account with OAuth (docs/architecture.md "Seams"). The server's
/// connect endpoints build the consent URL and exchange the code with <see cref="OAuth"/>; the callback path segment is
/// <see cref="OAuthApp.Provider"/> (<c>/oauth/{provider}/callback</c>).
/// </summary>
public interface IOAuthDestination
{
    OAuthClient OAuth { get; }

    /// <summary>The account the token belongs to, as a person would recognise it ("Ada Lovelace (ada@example.com)"); null when unknown.</summary>
    Task<string?> DescribeAccountAsync(string accessToken, CancellationToken ct);
}

/// <summary>
/// Where a destination's OAuth grant lives (the server keeps it in the database, encrypted at rest). Adapters read it
/// for each delivery, save refreshed access tokens, and mark it "needs reconnect" when the provider refuses the refresh
/// token. <see cref="OAuthGrant.Generation"/> guards every write: a grant the operator replaced by reconnecting is never
/// overwritten by a refresh or a failure that started before.
/// </summary>
public interface IOAuthGrantStore
{
    /// <summary>The destination's grant, secrets decrypted; null when it was never connected (or was disconnected).</summary>
    Task<OAuthGrant?> FindAsync(Guid destinationId, CancellationToken ct);

    /// <summary>Stores a refreshed access token (and the new refresh token when the provider rotates it).</summary>
    Task SaveRefreshedAsync(Guid destinationId, long generation, string accessToken, DateTimeOffset expiresAt, string? refreshToken, CancellationToken ct);

    /// <summary>The provider refused the refresh token: the operator must connect again. Also tells the project (email).</summary>
    Task MarkNeedsReconnectAsync(Guid destinationId, long generation, string reason, CancellationToken ct);
}

/// <summary>A destination's OAuth grant as an adapter sees it.</summary>
public sealed record OAuthGrant(
    long Generation,
    string RefreshToken,
    string? AccessToken,
    DateTimeOffset? AccessExpiresAt,
    bool NeedsReconnect,
    string? ReconnectReason,
    string? AccountName);

/// <summary>Why no access token can be had for a destination now; every kind leaves its deliveries retrying.</summary>
public sealed class OAuthGrantException(OAuthGrantProblem problem, string message, TimeSpan? retryAfter = null) : Exception(message)
{
    public OAuthGrantProblem Problem { get; } = problem;
    public TimeSpan? RetryAfter { get; } = retryAfter;
}

public enum OAuthGrantProblem
{
    /// <summary>The destination was never connected to an account.</summary>
    NotConnected,
    /// <summary>The provider revoked or expired the grant: someone must connect again.</summary>
    NeedsReconnect,
    /// <summary>The token endpoint refused this server's client (wrong client id or secret in the settings).</summary>
    Misconfigured,
    /// <summary>The token endpoint could not be reached or failed: try again later.</summary>
    Unavailable,
}
