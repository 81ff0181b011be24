using System.Collections.Concurrent;

namespace Apertur.Destinations.OAuth;

/// <summary>
/// Access tokens for one provider's destinations: read from the grant store, refreshed shortly before they expire and
/// whenever a call answers 401. Refreshes of one destination are serialised in this process and re-read the store first,
/// so concurrent deliveries that all see an expiring token cause one refresh, not one each. A refused refresh token
/// (<c>invalid_grant</c>) marks the grant "needs reconnect".
/// </summary>
public sealed class AccessTokens(OAuthClient client, IOAuthGrantStore store, TimeProvider time, TimeSpan refreshBefore)
{
    private readonly ConcurrentDictionary<Guid, SemaphoreSlim> _refreshing = new();

    public OAuthClient Client => client;

    /// <summary>A usable access token for the destination, refreshed first if it expires within the margin.</summary>
    /// <exception cref="OAuthGrantException">Not connected, needs reconnect, or the token endpoint failed.</exception>
    public async Task<AccessSession> OpenAsync(Guid destinationId, CancellationToken ct)
    {
        var grant = await FindUsableAsync(destinationId, ct).ConfigureAwait(false);
        var session = new AccessSession(this, destinationId, grant);
        if (!IsFresh(grant))
        {
            await session.RenewAsync(ct).ConfigureAwait(false);
        }
        return session;
    }

    internal bool IsFresh(OAuthGrant grant) =>
        grant.AccessToken is not null && grant.AccessExpiresAt is { } expires && expires - refreshBefore > time.GetUtcNow();

    internal bool IsFresh(DateTimeOffset expiresAt) => expiresAt - refreshBefore > time.GetUtcNow();

    /// <summary>A token newer than <paramref name="rejected"/>: another delivery's refresh, or a refresh made now.</summary>
    internal async Task<OAuthGrant> RenewAsync(Guid destinationId, string? rejected, CancellationToken ct)
    {
        var gate = _refreshing.GetOrAdd(destinationId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var grant = await FindUsableAsync(destinationId, ct).ConfigureAwait(false);
            if (grant.AccessToken is not null && grant.AccessToken != rejected && IsFresh(grant))
            {
                return grant;
            }
            var answer = await client.RefreshAsync(grant.RefreshToken, ct).ConfigureAwait(false);
            switch (answer)
            {
                case TokenAnswer.Granted granted:
                    var expires = time.GetUtcNow() + granted.ExpiresIn;
                    await store.SaveRefreshedAsync(destinationId, grant.Generation, granted.AccessToken, expires, granted.RefreshToken, ct).ConfigureAwait(false);
                    return grant with
                    {
                        AccessToken = granted.AccessToken,
                        AccessExpiresAt = expires,
                        RefreshToken = granted.RefreshToken ?? grant.RefreshToken,
                    };
                case TokenAnswer.Refused { GrantInvalid: true } refused:
                    var reason = $"{ProviderName} refused the stored authorization ({refused.Describe()}); the account was disconnected, " +
                        "the access was revoked, or the grant expired";
                    await store.MarkNeedsReconnectAsync(destinationId, grant.Generation, reason, ct).ConfigureAwait(false);
                    throw new OAuthGrantException(OAuthGrantProblem.NeedsReconnect, reason);
                case TokenAnswer.Refused refused:
                    throw new OAuthGrantException(OAuthGrantProblem.Misconfigured,
                        $"{ProviderName} refused this server's token request ({refused.Describe()}): check the Apertur:OAuth settings");
                case TokenAnswer.Unavailable unavailable:
                    throw new OAuthGrantException(OAuthGrantProblem.Unavailable, $"Could not refresh the access token: {unavailable.Message}", unavailable.RetryAfter);
                default:
                    throw new InvalidOperationException("unknown token answer");
            }
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<OAuthGrant> FindUsableAsync(Guid destinationId, CancellationToken ct)
    {
        var grant = await store.FindAsync(destinationId, ct).ConfigureAwait(false)
            ?? throw new OAuthGrantException(OAuthGrantProblem.NotConnected,
                $"Not connected to a {ProviderName} account yet: connect it with POST /api/v1/projects/{{projectId}}/destinations/{destinationId}/oauth/start");
        if (grant.NeedsReconnect)
        {
            throw new OAuthGrantException(OAuthGrantProblem.NeedsReconnect,
                $"Needs reconnect: {grant.ReconnectReason ?? "the provider refused the stored authorization"}. Connect the account again " +
                $"(POST /api/v1/projects/{{projectId}}/destinations/{destinationId}/oauth/start); deliveries wait and are retried");
        }
        return grant;
    }

    private string ProviderName => client.App.Provider switch
    {
        OAuthApp.Google => "Google",
        OAuthApp.Dropbox => "Dropbox",
        OAuthApp.Microsoft => "Microsoft",
        var other => other,
    };
}

/// <summary>The access token one delivery uses; it renews itself after a 401 or when it is about to expire.</summary>
public sealed class AccessSession
{
    private readonly AccessTokens _tokens;
    private readonly Guid _destinationId;
    private OAuthGrant _grant;

    internal AccessSession(AccessTokens tokens, Guid destinationId, OAuthGrant grant)
    {
        _tokens = tokens;
        _destinationId = destinationId;
        _grant = grant;
    }

    public string Token => _grant.AccessToken ?? throw new InvalidOperationException("No access token yet.");

    /// <summary>How many times this session's token was renewed (refreshes or adopted newer tokens).</summary>
    public int Renewals { get; private set; }

    /// <summary>Refreshes the token if it expires within the margin: call before each request of a long upload.</summary>
    public async Task EnsureFreshAsync(CancellationToken ct)
    {
        if (_grant.AccessExpiresAt is not { } expires || !_tokens.IsFresh(expires))
        {
            await RenewAsync(ct).ConfigureAwait(false);
        }
    }

    /// <summary>The provider rejected <see cref="Token"/> (401): get a newer one.</summary>
    public async Task RenewAsync(CancellationToken ct)
    {
        _grant = await _tokens.RenewAsync(_destinationId, _grant.AccessToken, ct).ConfigureAwait(false);
        Renewals++;
    }
}
