using System.Security.Cryptography;
using System.Text;
using Apertur.Destinations.OAuth;
using Apertur.Server.Data;
using Apertur.Server.Destinations;
using Apertur.Server.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Apertur.Server.CloudDrives;

/// <summary>
/// What the API (<see cref="OAuthApi"/>, a project key) and the dashboard (a signed-in owner) share about a drive's
/// connection: starting a connect flow (random state stored as its SHA-256, PKCE S256 verifier encrypted, bound to the
/// project and destination, short-lived), reading the connection, forgetting it. Callers find the destination within the
/// project they checked and validate the return URL by their own rule before calling.
/// </summary>
public sealed partial class OAuthFlows(AperturDb db, DestinationRegistry registry, OAuthGrantStore store, PublicUrls urls, TimeProvider time,
    IOptions<OAuthOptions> options, ILogger<OAuthFlows> logger, ILogger<OAuthState> callbackLogger)
{
    /// <summary>Where a provider sends the browser back: <c>{PublicBaseUrl}/oauth/{provider}/callback</c>.</summary>
    public static string CallbackPath(string provider) => $"/oauth/{provider}/callback";

    /// <summary>The project's destination by its id (404 otherwise, and for non-UUID ids).</summary>
    public async Task<Destination> FindAsync(Guid projectId, string destinationId, CancellationToken ct)
    {
        var id = Ids.ParseOrNotFound(destinationId, "Destination");
        return await db.Destinations.AsNoTracking().FirstOrDefaultAsync(d => d.Id == id && d.ProjectId == projectId, ct)
            ?? throw ApiException.NotFound("Destination not found.", "DESTINATION_NOT_FOUND");
    }

    /// <summary>
    /// The provider's redirect back: checks the state (found by hash, compared in constant time, claimed once), exchanges
    /// the code with the stored verifier and stores the grant. Answers what to tell the person: with the flow's state when
    /// it was claimed (the caller then goes back to where the flow started), without when the state is unknown.
    /// </summary>
    public async Task<CallbackOutcome> CompleteAsync(string provider, string? stateText, string? providerError, string? errorDescription,
        string? code, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(stateText) || stateText.Length > 512)
        {
            return new(null, 400, "error", null, "This connect link is not valid", "The provider sent no state back. Start the connection again.");
        }
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(stateText));
        var row = await db.OAuthStates.AsNoTracking().FirstOrDefaultAsync(s => s.StateHash == hash, ct);
        // The lookup finds the row by hash; the constant-time compare is the actual check.
        if (row is null || !CryptographicOperations.FixedTimeEquals(row.StateHash, hash) || row.Provider != provider)
        {
            LogBadState(callbackLogger, provider);
            return new(null, 400, "error", null, "This connect link is not valid", "It is unknown or belongs to another provider. Start the connection again.");
        }
        var now = Iso.Millis(time.GetUtcNow());
        var claimed = await db.OAuthStates.Where(s => s.Id == row.Id && s.UsedAt == null && s.ExpiresAt > now)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.UsedAt, now), ct);
        if (claimed != 1)
        {
            LogStateSpent(callbackLogger, row.DestinationId);
            return new(row, 400, "error", "state_expired_or_used",
                "This connect link was already used or has expired", "Start the connection again from your application.");
        }
        if (providerError is { Length: > 0 } error)
        {
            LogProviderError(callbackLogger, row.DestinationId, error, errorDescription ?? "");
            return new(row, 400, "error", error, "The account was not connected",
                error == "access_denied" ? "Access was not granted." : $"The provider answered {error}{(errorDescription is null ? "" : ": " + errorDescription)}.");
        }
        if (string.IsNullOrEmpty(code))
        {
            return new(row, 400, "error", "missing_code", "The account was not connected", "The provider sent no authorization code back.");
        }
        var destination = await db.Destinations.AsNoTracking().FirstOrDefaultAsync(d => d.Id == row.DestinationId && d.ProjectId == row.ProjectId, ct);
        if (destination is null || registry.Find(destination.Type) is not IOAuthDestination adapter || adapter.OAuth.App.Provider != row.Provider)
        {
            return new(row, 404, "error", "destination_not_found", "The account was not connected", "The destination was deleted or changed meanwhile.");
        }
        string verifier;
        try
        {
            verifier = store.Unprotect(row.CodeVerifier);
        }
        catch (CryptographicException)
        {
            return new(row, 400, "error", "state_unreadable", "The account was not connected", "This server cannot read the connect state. Start again.");
        }
        var answer = await adapter.OAuth.ExchangeCodeAsync(code, verifier, new Uri(row.RedirectUri), ct);
        switch (answer)
        {
            case TokenAnswer.Granted { RefreshToken: null or "" }:
                return new(row, 502, "error", "no_refresh_token", "The account was not connected",
                    "The provider issued no refresh token, so deliveries could not continue once the access token expires. " +
                    "Remove this app's access in the account's security settings, then connect again.");
            case TokenAnswer.Granted granted:
                string? account = null;
                try
                {
                    account = await adapter.DescribeAccountAsync(granted.AccessToken, ct);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogAccountUnknown(callbackLogger, e, destination.Id);
                }
                await store.ConnectAsync(db, destination.Id, destination.ProjectId, row.Provider, granted, account, ct);
                return new(row, 200, "connected", null, $"Connected: {destination.Name}",
                    $"\"{destination.Name}\" now delivers to {account ?? "the connected account"}. You can close this window.");
            case TokenAnswer.Refused refused:
                LogExchangeRefused(callbackLogger, destination.Id, refused.Describe());
                return new(row, 502, "error", refused.Error, "The account was not connected", $"The provider refused the code: {refused.Describe()}.");
            case TokenAnswer.Unavailable unavailable:
                return new(row, 502, "error", "provider_unavailable", "The account was not connected", unavailable.Message + ". Try again.");
            default:
                throw new InvalidOperationException("unknown token answer");
        }
    }

    /// <summary>The destination's OAuth adapter; 400 OAUTH_NOT_SUPPORTED for any other kind.</summary>
    public IOAuthDestination AdapterOf(Destination destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return registry.Find(destination.Type) as IOAuthDestination
            ?? throw ApiException.BadRequest(
                $"A {destination.Type} destination does not connect with OAuth; only google_drive, dropbox and onedrive do.", "OAUTH_NOT_SUPPORTED");
    }

    /// <summary>True for the kinds connected with OAuth whose adapter is installed.</summary>
    public bool IsOAuth(string kind) => registry.Find(kind) is IOAuthDestination;

    /// <summary>
    /// Stores a new connect state for <paramref name="destination"/> and answers the provider's consent URL. The callback comes
    /// back to <paramref name="returnUrl"/> (already checked by the caller) when one is given. 400 OAUTH_NOT_CONFIGURED when
    /// the server has no app at that provider.
    /// </summary>
    public async Task<StartView> StartAsync(Destination destination, string? returnUrl, HttpRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(request);
        var adapter = AdapterOf(destination);
        var app = adapter.OAuth.App;
        if (!app.IsConfigured)
        {
            var section = app.Provider switch { OAuthApp.Google => "Google", OAuthApp.Dropbox => "Dropbox", _ => "Microsoft" };
            throw ApiException.BadRequest(
                $"This server has no {section} OAuth app: set Apertur:OAuth:{section}:ClientId and ClientSecret (see docs/cloud-drives.md).",
                "OAUTH_NOT_CONFIGURED");
        }
        var now = Iso.Millis(time.GetUtcNow());
        var state = Pkce.NewSecret();
        var verifier = Pkce.NewSecret();
        var redirect = new Uri(urls.BaseUrl(request) + CallbackPath(app.Provider));
        var expires = now + options.Value.StateLifetime;
        db.OAuthStates.Add(new OAuthState
        {
            Id = Ids.New(time),
            StateHash = SHA256.HashData(Encoding.UTF8.GetBytes(state)),
            ProjectId = destination.ProjectId,
            DestinationId = destination.Id,
            Provider = app.Provider,
            CodeVerifier = store.Protect(verifier),
            RedirectUri = redirect.AbsoluteUri,
            ReturnUrl = returnUrl,
            CreatedAt = now,
            ExpiresAt = expires,
        });
        await db.SaveChangesAsync(ct);
        // Old flows are only clutter: drop those that ended more than a day ago.
        var stale = now - TimeSpan.FromDays(1);
        await db.OAuthStates.Where(s => s.ExpiresAt < stale).ExecuteDeleteAsync(ct);
        return new StartView(adapter.OAuth.AuthorizeUrl(state, Pkce.Challenge(verifier), redirect).AbsoluteUri, redirect.AbsoluteUri, Iso.Format(expires));
    }

    /// <summary>The connection of each OAuth destination among <paramref name="destinations"/> (others are left out); never a token.</summary>
    public async Task<IReadOnlyDictionary<Guid, ConnectionView>> ConnectionsAsync(IReadOnlyCollection<Destination> destinations, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(destinations);
        var drives = destinations.Where(d => IsOAuth(d.Type)).ToList();
        if (drives.Count == 0)
        {
            return new Dictionary<Guid, ConnectionView>();
        }
        var ids = drives.Select(d => d.Id).ToList();
        var rows = await db.OAuthConnections.AsNoTracking().Where(c => ids.Contains(c.DestinationId)).ToDictionaryAsync(c => c.DestinationId, ct);
        return drives.ToDictionary(d => d.Id, d => View(d, AdapterOf(d).OAuth.App, rows.GetValueOrDefault(d.Id)));
    }

    /// <summary>The connection of one OAuth destination (400 OAUTH_NOT_SUPPORTED for other kinds).</summary>
    public async Task<ConnectionView> ConnectionAsync(Destination destination, CancellationToken ct)
    {
        var app = AdapterOf(destination).OAuth.App;
        var row = await db.OAuthConnections.AsNoTracking().FirstOrDefaultAsync(c => c.DestinationId == destination.Id, ct);
        return View(destination, app, row);
    }

    /// <summary>Forgets the destination's grant (its deliveries then wait for a new connect). False when there was none.</summary>
    public async Task<bool> DisconnectAsync(Destination destination, CancellationToken ct)
    {
        AdapterOf(destination);
        if (!await store.DisconnectAsync(db, destination.Id, ct))
        {
            return false;
        }
        LogDisconnected(logger, destination.Id);
        return true;
    }

    /// <summary>The origins of the configured providers' consent pages: where a dashboard form that starts a flow may be redirected.</summary>
    public IReadOnlyList<string> AuthorizeOrigins() => registry.Kinds.Select(registry.Find).OfType<IOAuthDestination>()
        .Where(a => a.OAuth.App.IsConfigured).Select(a => a.OAuth.App.AuthorizeUrl.GetLeftPart(UriPartial.Authority)).Distinct(StringComparer.Ordinal).ToList();

    private static ConnectionView View(Destination destination, OAuthApp app, OAuthConnection? row) => new(
        destination.Id.ToString(), destination.Type, app.Provider, app.IsConfigured,
        row?.Status ?? OAuthConnectionStatus.NotConnected, row?.AccountName, Iso.Format(row?.ConnectedAt), Iso.Format(row?.NeedsReconnectAt),
        row?.Status == OAuthConnectionStatus.NeedsReconnect ? row.LastError : null);

    [LoggerMessage(Level = LogLevel.Warning, Message = "OAuth callback for {Provider} with an unknown state")]
    private static partial void LogBadState(ILogger logger, string provider);

    [LoggerMessage(Level = LogLevel.Warning, Message = "OAuth callback for destination {DestinationId} with a used or expired state")]
    private static partial void LogStateSpent(ILogger logger, Guid destinationId);

    [LoggerMessage(Level = LogLevel.Information, Message = "OAuth consent for destination {DestinationId} ended with {Error}: {Description}")]
    private static partial void LogProviderError(ILogger logger, Guid destinationId, string error, string description);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The provider refused the authorization code for destination {DestinationId}: {Reason}")]
    private static partial void LogExchangeRefused(ILogger logger, Guid destinationId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read the connected account of destination {DestinationId}")]
    private static partial void LogAccountUnknown(ILogger logger, Exception exception, Guid destinationId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Destination {DestinationId} disconnected from its OAuth account")]
    private static partial void LogDisconnected(ILogger logger, Guid destinationId);
}

/// <summary>
/// What the OAuth callback tells the person: the HTTP status, the outcome (<c>connected</c> or <c>error</c>) and its error
/// code for the return URL, a title and a sentence. <see cref="State"/> is the claimed flow (null when the state was unknown).
/// </summary>
public sealed record CallbackOutcome(OAuthState? State, int Status, string Outcome, string? Error, string Title, string Text);
