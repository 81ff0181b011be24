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
    IOptions<OAuthOptions> options, ILogger<OAuthFlows> logger)
{
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
        var redirect = new Uri(urls.BaseUrl(request) + OAuthApi.CallbackPath(app.Provider));
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Destination {DestinationId} disconnected from its OAuth account")]
    private static partial void LogDisconnected(ILogger logger, Guid destinationId);
}
