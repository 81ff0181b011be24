using Apertur.Server.Hosting;
using Apertur.Server.Keys;
using Apertur.Server.Qr;
using Apertur.Server.OpenApi;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Apertur.Server.Sessions;

/// <summary>
/// Upload sessions (docs/api.md "Upload sessions"): create, read, change, delete, password check, list. Routing and mapping
/// only: the rules are <see cref="SessionCreator"/>'s, <see cref="SessionService"/>'s and <see cref="SessionEraser"/>'s.
/// </summary>
public static class SessionsApi
{
    public static IEndpointRouteBuilder MapSessionsApi(this IEndpointRouteBuilder app)
    {
        var keyed = app.MapGroup("/api/v1").RequireApiKey().WithTags("Upload sessions");
        keyed.MapPost("/upload-sessions", CreateAsync).WithRateLimit(RateLimitPolicies.SessionCreate)
            .WithName("CreateSession").WithSummary("Create an upload session").Body<SessionCreateRequest>().Errors(400);
        // POST /sessions is the name older docs give session creation (their rate-limit table): the same endpoint, limit and budget.
        keyed.MapPost("/sessions", CreateAsync).WithRateLimit(RateLimitPolicies.SessionCreate)
            .WithName("CreateSessionAlias").WithSummary("Create an upload session (alias of POST /upload-sessions)").Body<SessionCreateRequest>().Errors(400);
        keyed.MapPatch("/upload-sessions/{uuid}", PatchAsync).WithRateLimit(RateLimitPolicies.Api)
            .WithName("UpdateSession").WithSummary("Change a session").Body<SessionPatchRequest>().Errors(400, 404);
        keyed.MapDelete("/upload-sessions/{uuid}", DeleteAsync).WithRateLimit(RateLimitPolicies.Api)
            .WithName("DeleteSession").WithSummary("Delete a session and erase its images (idempotent)").Errors(404);
        keyed.MapGet("/sessions", ListAsync).WithRateLimit(RateLimitPolicies.SessionRead)
            .WithName("ListSessions").WithSummary("The project's sessions, paged, newest first").Errors(400);
        keyed.MapGet("/sessions/recent", RecentAsync).WithRateLimit(RateLimitPolicies.SessionRead)
            .WithName("RecentSessions").WithSummary("The project's latest sessions").Errors(400);

        var open = app.MapGroup("/api/v1/upload").Public().WithTags("Upload sessions");
        // Browsers on another site: only those in the session key's allowedDomains.
        open.MapGet("/{uuid}/session", DetailAsync).WithRateLimit(RateLimitPolicies.PublicSession).AddEndpointFilter<AllowedDomainsFilter>()
            .WithName("GetSession").WithSummary("A session's detail (public, by its UUID)").Errors(403, 404);
        open.MapPost("/{uuid}/verify-password", VerifyPasswordAsync).WithRateLimit(RateLimitPolicies.PasswordCheck)
            .AddEndpointFilter<AllowedDomainsFilter>()
            .WithName("VerifyPassword").WithSummary("Check a session's password").Body<PasswordCheckRequest>().Errors(400, 403, 404);
        return app;
    }

    private static async Task<Created<SessionCreated>> CreateAsync(HttpContext http, SessionCreator creator, PublicUrls urls, CancellationToken ct)
    {
        var caller = http.GetCaller();
        var body = await JsonBody.ReadAsync(http.Request, ct);
        var (session, destinations) = await creator.CreateAsync(caller, body, ct);

        var created = new SessionCreated(
            Id: session.Id.ToString(),
            Uuid: session.Id.ToString(),
            UploadUrl: urls.UploadPage(http.Request, session.Id),
            QrUrl: urls.Qr(http.Request, session.Id),
            QrSpecs: new QrSpecs(PublicUrls.QrPath(session.Id), QrOptions.Formats, QrOptions.DefaultParams),
            Destinations: destinations.Select(d => new SessionDestinationView(d.Id.ToString(), d.Type, d.Name)).ToList(),
            LongPolling: session.LongPolling,
            ExpiresAt: Iso.Format(session.ExpiresAt),
            PasswordProtected: session.PasswordHash is not null,
            Env: session.Env,
            MaxImages: session.MaxImages,
            Tags: session.Tags,
            Label: session.Label);
        return TypedResults.Created($"/api/v1/upload/{session.Id}/session", created);
    }

    private static async Task<Ok<SessionDetail>> DetailAsync(string uuid, SessionService sessions, CancellationToken ct) =>
        TypedResults.Ok(await sessions.DetailAsync(uuid, ct));

    private static async Task<Ok<SessionDetail>> PatchAsync(string uuid, HttpContext http, SessionService sessions, CancellationToken ct)
    {
        var caller = http.GetCaller();
        var body = await JsonBody.ReadAsync(http.Request, ct);
        return TypedResults.Ok(await sessions.PatchAsync(caller, uuid, body, ct));
    }

    /// <summary>Erasure on demand: 204 every time, the first call and the next ones alike.</summary>
    private static async Task<NoContent> DeleteAsync(string uuid, HttpContext http, SessionEraser eraser, CancellationToken ct)
    {
        await eraser.DeleteAsync(http.GetCaller().ProjectId, uuid, ct);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<PasswordCheck>> VerifyPasswordAsync(string uuid, HttpContext http, SessionService sessions, CancellationToken ct)
    {
        // An unknown session is a 404 whatever the body.
        var session = await sessions.FindAsync(uuid, ct);
        var body = await JsonBody.ReadAsync(http.Request, ct);
        return TypedResults.Ok(new PasswordCheck(SessionService.PasswordMatches(session, body.Text("password") ?? "")));
    }

    private static async Task<Ok<Page<SessionRow>>> ListAsync(HttpContext http, SessionService sessions, int? page, int? pageSize, CancellationToken ct)
    {
        var caller = http.GetCaller();
        var (number, size) = Paging.Normalise(page, pageSize);
        var (rows, total) = await sessions.PageAsync(caller.ProjectId, caller.ProjectName, number, size, ct);
        return TypedResults.Ok(new Page<SessionRow>(rows, total, number, size, Paging.TotalPages(total, size)));
    }

    private static async Task<Ok<List<SessionRow>>> RecentAsync(HttpContext http, SessionService sessions, int? limit, CancellationToken ct)
    {
        var caller = http.GetCaller();
        return TypedResults.Ok(await sessions.RecentAsync(caller.ProjectId, caller.ProjectName, Paging.Limit(limit), ct));
    }
}
