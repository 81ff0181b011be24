using System.Text.Encodings.Web;
using System.Text.Json.Serialization;
using System.Text;
using Apertur.Server.Dashboard;
using Apertur.Server.Hosting;
using Apertur.Server.Keys;
using Apertur.Server.OpenApi;
using Apertur.Server.Projects;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Apertur.Server.CloudDrives;

/// <summary>
/// Connecting a cloud drive destination to an account (OAuth 2.0 authorization code with PKCE S256). With a project key:
/// <c>POST …/destinations/{id}/oauth/start</c> answers the provider's consent URL (<c>GET</c> redirects there), <c>GET
/// …/oauth</c> shows the connection, <c>DELETE …/oauth</c> forgets it. Public: <c>GET /oauth/{provider}/callback</c>, where
/// the provider sends the browser back with a code, and which goes back to the dashboard when the flow started there
/// (Dashboard/Destinations/ConnectPage). Routing and mapping only: starting, status, disconnect and the callback's checks are <see cref="OAuthFlows"/>. The state is random, stored as its SHA-256 with the PKCE verifier
/// (encrypted), bound to the project and destination, single use and short-lived, and kept in the database so any
/// replica can finish the flow. The redirect URI is <c>{PublicBaseUrl}/oauth/{provider}/callback</c>.
/// </summary>
public static class OAuthApi
{
    public static IEndpointRouteBuilder MapOAuthApi(this IEndpointRouteBuilder app)
    {
        var keyed = app.MapGroup("/api/v1/projects/{projectId}/destinations/{destId}/oauth")
            .RequireApiKey().WithRateLimit(RateLimitPolicies.Api).WithTags("Destinations");
        keyed.MapGet("", StatusAsync).WithName("GetOAuthConnection").WithSummary("A cloud drive destination's connection (never a token)")
            .Errors(400, 404);
        keyed.MapPost("/start", StartAsync).WithName("StartOAuth").WithSummary("Start connecting a cloud drive: the provider's consent URL")
            .Body<OAuthStartRequest>().Errors(400, 404);
        keyed.MapGet("/start", StartRedirectAsync).WithName("StartOAuthRedirect").WithSummary("Start connecting a cloud drive: redirects to the provider")
            .Produces(StatusCodes.Status302Found).Errors(400, 404);
        keyed.MapDelete("", DisconnectAsync).WithName("DisconnectOAuth").WithSummary("Forget a cloud drive connection").Errors(400, 404);
        // A page for the browser the provider sends back, not an API route: left out of the API reference.
        app.MapGet("/oauth/{provider}/callback", CallbackAsync).WithRateLimit(RateLimitPolicies.PublicSession).ExcludeFromDescription();
        return app;
    }

    private static async Task<Ok<ConnectionView>> StatusAsync(string projectId, string destId, HttpContext http, OAuthFlows flows, CancellationToken ct)
    {
        var caller = http.RequireProject(projectId);
        var destination = await flows.FindAsync(caller.ProjectId, destId, ct);
        return TypedResults.Ok(await flows.ConnectionAsync(destination, ct));
    }

    private static async Task<Ok<StartView>> StartAsync(string projectId, string destId, HttpContext http, OAuthFlows flows, CancellationToken ct)
    {
        var body = await JsonBody.ReadAsync(http.Request, ct);
        var returnUrl = body.Text("return_url", "returnUrl") ?? http.Request.Query["return_url"].FirstOrDefault();
        var started = await BeginAsync(projectId, destId, returnUrl, http, flows, ct);
        return TypedResults.Ok(started);
    }

    private static async Task<RedirectHttpResult> StartRedirectAsync(string projectId, string destId, HttpContext http, OAuthFlows flows, CancellationToken ct)
    {
        var started = await BeginAsync(projectId, destId, http.Request.Query["return_url"].FirstOrDefault(), http, flows, ct);
        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.Redirect(started.AuthorizeUrl);
    }

    private static async Task<StartView> BeginAsync(string projectId, string destId, string? returnUrl, HttpContext http, OAuthFlows flows,
        CancellationToken ct)
    {
        var caller = http.RequireProject(projectId);
        var destination = await flows.FindAsync(caller.ProjectId, destId, ct);
        flows.AdapterOf(destination);
        if (returnUrl is not null && (!Uri.TryCreate(returnUrl, UriKind.Absolute, out var parsed) || (parsed.Scheme != Uri.UriSchemeHttps && parsed.Scheme != Uri.UriSchemeHttp)))
        {
            throw ApiException.BadRequest("'return_url' must be an absolute http(s) URL.");
        }
        return await flows.StartAsync(destination, returnUrl, http.Request, ct);
    }

    private static async Task<NoContent> DisconnectAsync(string projectId, string destId, HttpContext http, OAuthFlows flows, CancellationToken ct)
    {
        var caller = http.RequireProject(projectId);
        var destination = await flows.FindAsync(caller.ProjectId, destId, ct);
        await flows.DisconnectAsync(destination, ct);
        return TypedResults.NoContent();
    }

    /// <summary>The provider's redirect back: <see cref="OAuthFlows.CompleteAsync"/>, then the person is told or sent on.</summary>
    private static async Task<Results<ContentHttpResult, RedirectHttpResult>> CallbackAsync(string provider, HttpContext http, OAuthFlows flows,
        CancellationToken ct)
    {
        http.Response.Headers.CacheControl = "no-store";
        // The URL holds a one-time code: keep it out of Referer headers of anything the page links to.
        http.Response.Headers["Referrer-Policy"] = "no-referrer";
        var query = http.Request.Query;
        var outcome = await flows.CompleteAsync(provider, query["state"].FirstOrDefault(), query["error"].FirstOrDefault(),
            query["error_description"].FirstOrDefault(), query["code"].FirstOrDefault(), ct);
        return outcome.State is { } state
            ? Finish(state, outcome.Status, outcome.Outcome, outcome.Error, outcome.Title, outcome.Text)
            : Page(outcome.Status, outcome.Title, outcome.Text);
    }

    /// <summary>
    /// Back to the dashboard page the flow started from, or to the application's <c>return_url</c> when it gave one, with the
    /// outcome in the query; otherwise a small page.
    /// </summary>
    private static Results<ContentHttpResult, RedirectHttpResult> Finish(OAuthState state, int status, string outcome, string? error, string title, string text)
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

/// <summary>The optional body of <c>POST …/oauth/start</c>.</summary>
public sealed record OAuthStartRequest(
    [property: JsonPropertyName("return_url"), System.ComponentModel.Description("Where the browser goes after the provider (alias returnUrl); an absolute http(s) URL.")] string? ReturnUrl);
