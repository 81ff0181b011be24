using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json.Serialization;
using Apertur.Destinations.OAuth;
using Apertur.Server.Dashboard;
using Apertur.Server.Data;
using Apertur.Server.Destinations;
using Apertur.Server.Hosting;
using Apertur.Server.Keys;
using Apertur.Server.Projects;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Apertur.Server.CloudDrives;

/// <summary>
/// Connecting a cloud drive destination to an account (OAuth 2.0 authorization code with PKCE S256). With a project key:
/// <c>POST …/destinations/{id}/oauth/start</c> answers the provider's consent URL (<c>GET</c> redirects there), <c>GET
/// …/oauth</c> shows the connection, <c>DELETE …/oauth</c> forgets it. Public: <c>GET /oauth/{provider}/callback</c>, where
/// the provider sends the browser back with a code, and which goes back to the dashboard when the flow started there
/// (Dashboard/Destinations/ConnectPage). Starting, status and disconnect are <see cref="OAuthFlows"/>. The state is random, stored as its SHA-256 with the PKCE verifier
/// (encrypted), bound to the project and destination, single use and short-lived, and kept in the database so any
/// replica can finish the flow. The redirect URI is <c>{PublicBaseUrl}/oauth/{provider}/callback</c>.
/// </summary>
public static partial class OAuthApi
{
    public static IEndpointRouteBuilder MapOAuthApi(this IEndpointRouteBuilder app)
    {
        var keyed = app.MapGroup("/api/v1/projects/{projectId}/destinations/{destId}/oauth")
            .AddEndpointFilter<ApiKeyAuth>().WithRateLimit(RateLimitPolicies.Api);
        keyed.MapGet("", StatusAsync);
        keyed.MapPost("/start", StartAsync);
        keyed.MapGet("/start", StartRedirectAsync);
        keyed.MapDelete("", DisconnectAsync);
        app.MapGet("/oauth/{provider}/callback", CallbackAsync).WithRateLimit(RateLimitPolicies.PublicSession);
        return app;
    }

    public static string CallbackPath(string provider) => $"/oauth/{provider}/callback";

    private static async Task<IResult> StatusAsync(string projectId, string destId, HttpContext http, AperturDb db, OAuthFlows flows, CancellationToken ct)
    {
        var caller = http.RequireProject(projectId);
        var destination = await FindAsync(db, caller, destId, ct);
        return TypedResults.Ok(await flows.ConnectionAsync(destination, ct));
    }

    private static async Task<IResult> StartAsync(string projectId, string destId, HttpContext http, AperturDb db, OAuthFlows flows, CancellationToken ct)
    {
        var body = await JsonBody.ReadAsync(http.Request, ct);
        var returnUrl = body.Text("return_url", "returnUrl") ?? http.Request.Query["return_url"].FirstOrDefault();
        var started = await BeginAsync(projectId, destId, returnUrl, http, db, flows, ct);
        return TypedResults.Ok(started);
    }

    private static async Task<IResult> StartRedirectAsync(string projectId, string destId, HttpContext http, AperturDb db, OAuthFlows flows, CancellationToken ct)
    {
        var started = await BeginAsync(projectId, destId, http.Request.Query["return_url"].FirstOrDefault(), http, db, flows, ct);
        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.Redirect(started.AuthorizeUrl);
    }

    private static async Task<StartView> BeginAsync(string projectId, string destId, string? returnUrl, HttpContext http, AperturDb db, OAuthFlows flows,
        CancellationToken ct)
    {
        var caller = http.RequireProject(projectId);
        var destination = await FindAsync(db, caller, destId, ct);
        flows.AdapterOf(destination);
        if (returnUrl is not null && (!Uri.TryCreate(returnUrl, UriKind.Absolute, out var parsed) || (parsed.Scheme != Uri.UriSchemeHttps && parsed.Scheme != Uri.UriSchemeHttp)))
        {
            throw ApiException.BadRequest("'return_url' must be an absolute http(s) URL.");
        }
        return await flows.StartAsync(destination, returnUrl, http.Request, ct);
    }

    private static async Task<IResult> DisconnectAsync(string projectId, string destId, HttpContext http, AperturDb db, OAuthFlows flows, CancellationToken ct)
    {
        var caller = http.RequireProject(projectId);
        var destination = await FindAsync(db, caller, destId, ct);
        await flows.DisconnectAsync(destination, ct);
        return TypedResults.NoContent();
    }

    /// <summary>The provider's redirect back: checks the state, exchanges the code, stores the grant, then tells the person.</summary>
    private static async Task<IResult> CallbackAsync(string provider, HttpContext http, AperturDb db, DestinationRegistry registry, OAuthGrantStore store,
        TimeProvider time, ILogger<OAuthState> logger, CancellationToken ct)
    {
        http.Response.Headers.CacheControl = "no-store";
        // The URL holds a one-time code: keep it out of Referer headers of anything the page links to.
        http.Response.Headers["Referrer-Policy"] = "no-referrer";
        var query = http.Request.Query;
        var stateText = query["state"].FirstOrDefault();
        if (string.IsNullOrEmpty(stateText) || stateText.Length > 512)
        {
            return Page(400, "This connect link is not valid", "The provider sent no state back. Start the connection again.");
        }
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(stateText));
        var row = await db.OAuthStates.AsNoTracking().FirstOrDefaultAsync(s => s.StateHash == hash, ct);
        // The lookup finds the row by hash; the constant-time compare is the actual check.
        if (row is null || !CryptographicOperations.FixedTimeEquals(row.StateHash, hash) || row.Provider != provider)
        {
            LogBadState(logger, provider);
            return Page(400, "This connect link is not valid", "It is unknown or belongs to another provider. Start the connection again.");
        }
        var now = Iso.Millis(time.GetUtcNow());
        var claimed = await db.OAuthStates.Where(s => s.Id == row.Id && s.UsedAt == null && s.ExpiresAt > now)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.UsedAt, now), ct);
        if (claimed != 1)
        {
            LogStateSpent(logger, row.DestinationId);
            return Finish(row, 400, "error", "state_expired_or_used",
                "This connect link was already used or has expired", "Start the connection again from your application.");
        }
        if (query["error"].FirstOrDefault() is { Length: > 0 } error)
        {
            var description = query["error_description"].FirstOrDefault();
            LogProviderError(logger, row.DestinationId, error, description ?? "");
            return Finish(row, 400, "error", error, "The account was not connected",
                error == "access_denied" ? "Access was not granted." : $"The provider answered {error}{(description is null ? "" : ": " + description)}.");
        }
        var code = query["code"].FirstOrDefault();
        if (string.IsNullOrEmpty(code))
        {
            return Finish(row, 400, "error", "missing_code", "The account was not connected", "The provider sent no authorization code back.");
        }
        var destination = await db.Destinations.AsNoTracking().FirstOrDefaultAsync(d => d.Id == row.DestinationId && d.ProjectId == row.ProjectId, ct);
        if (destination is null || registry.Find(destination.Type) is not IOAuthDestination adapter || adapter.OAuth.App.Provider != row.Provider)
        {
            return Finish(row, 404, "error", "destination_not_found", "The account was not connected", "The destination was deleted or changed meanwhile.");
        }
        string verifier;
        try
        {
            verifier = store.Unprotect(row.CodeVerifier);
        }
        catch (CryptographicException)
        {
            return Finish(row, 400, "error", "state_unreadable", "The account was not connected", "This server cannot read the connect state. Start again.");
        }
        var answer = await adapter.OAuth.ExchangeCodeAsync(code, verifier, new Uri(row.RedirectUri), ct);
        switch (answer)
        {
            case TokenAnswer.Granted { RefreshToken: null or "" }:
                return Finish(row, 502, "error", "no_refresh_token", "The account was not connected",
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
                    LogAccountUnknown(logger, e, destination.Id);
                }
                await store.ConnectAsync(db, destination.Id, destination.ProjectId, row.Provider, granted, account, ct);
                return Finish(row, 200, "connected", null, $"Connected: {destination.Name}",
                    $"\"{destination.Name}\" now delivers to {account ?? "the connected account"}. You can close this window.");
            case TokenAnswer.Refused refused:
                LogExchangeRefused(logger, destination.Id, refused.Describe());
                return Finish(row, 502, "error", refused.Error, "The account was not connected", $"The provider refused the code: {refused.Describe()}.");
            case TokenAnswer.Unavailable unavailable:
                return Finish(row, 502, "error", "provider_unavailable", "The account was not connected", unavailable.Message + ". Try again.");
            default:
                throw new InvalidOperationException("unknown token answer");
        }
    }

    /// <summary>
    /// Back to the dashboard page the flow started from, or to the application's <c>return_url</c> when it gave one, with the
    /// outcome in the query; otherwise a small page.
    /// </summary>
    private static IResult Finish(OAuthState state, int status, string outcome, string? error, string title, string text)
    {
        // Checked again here, though the dashboard stored it only after the same check: nothing but a dashboard path is a relative landing.
        if (DashboardRoutes.IsDashboardPath(state.ReturnUrl))
        {
            return Landing(DashboardRoutes.WithOAuthOutcome(state.ReturnUrl!, state.DestinationId, outcome, error), title);
        }
        if (state.ReturnUrl is { } returnUrl && Uri.TryCreate(returnUrl, UriKind.Absolute, out var target))
        {
            var query = $"apertur_oauth={outcome}&destination_id={state.DestinationId}" + (error is null ? "" : $"&error={Uri.EscapeDataString(error)}");
            var builder = new UriBuilder(target);
            builder.Query = string.IsNullOrEmpty(builder.Query) ? query : builder.Query.TrimStart('?') + "&" + query;
            return TypedResults.Redirect(builder.Uri.AbsoluteUri);
        }
        return Page(status, title, text);
    }

    /// <summary>
    /// The way back to the dashboard: a same-origin page that navigates on by itself. A 302 would not do: the dashboard's
    /// SameSite=Strict sign-in cookie is not sent on a redirect chain that began at the provider's site, so the person would
    /// meet the sign-in page; a navigation started by this page is same-site, and the cookie goes along.
    /// </summary>
    private static ContentHttpResult Landing(string target, string title)
    {
        var html = HtmlEncoder.Default;
        var page = $"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <meta http-equiv="refresh" content="0;url={html.Encode(target)}">
            <title>{html.Encode(title)} · Apertur</title></head>
            <body style="font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem">
            <p><a href="{html.Encode(target)}">Back to the dashboard</a></p></body></html>
            """;
        return TypedResults.Content(page, "text/html; charset=utf-8", Encoding.UTF8, StatusCodes.Status200OK);
    }

    private static ContentHttpResult Page(int status, string title, string text)
    {
        var html = HtmlEncoder.Default;
        var page = $"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{html.Encode(title)} · Apertur</title></head>
            <body style="font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem">
            <h1 style="font-size:1.4rem">{html.Encode(title)}</h1><p>{html.Encode(text)}</p></body></html>
            """;
        return TypedResults.Content(page, "text/html; charset=utf-8", Encoding.UTF8, status);
    }

    private static async Task<Destination> FindAsync(AperturDb db, Caller caller, string destId, CancellationToken ct)
    {
        var id = Ids.ParseOrNotFound(destId, "Destination");
        return await db.Destinations.AsNoTracking().FirstOrDefaultAsync(d => d.Id == id && d.ProjectId == caller.ProjectId, ct)
            ?? throw ApiException.NotFound("Destination not found.", "DESTINATION_NOT_FOUND");
    }

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
}

/// <summary>The answer of <c>POST …/oauth/start</c>: open <c>authorizeUrl</c> in a browser.</summary>
public sealed record StartView(
    [property: JsonPropertyName("authorizeUrl")] string AuthorizeUrl,
    [property: JsonPropertyName("redirectUri")] string RedirectUri,
    [property: JsonPropertyName("expiresAt")] string ExpiresAt);

/// <summary>A destination's OAuth connection as the API shows it: never a token.</summary>
public sealed record ConnectionView(
    [property: JsonPropertyName("destinationId")] string DestinationId,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("provider")] string Provider,
    [property: JsonPropertyName("providerConfigured")] bool ProviderConfigured,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("account")] string? Account,
    [property: JsonPropertyName("connectedAt")] string? ConnectedAt,
    [property: JsonPropertyName("needsReconnectSince")] string? NeedsReconnectSince,
    [property: JsonPropertyName("error")] string? Error);
