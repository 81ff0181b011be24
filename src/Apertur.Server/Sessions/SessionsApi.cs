using Apertur.Server.Data;
using Apertur.Server.Delivery;
using Apertur.Server.Encryption;
using Apertur.Server.Events;
using Apertur.Server.EventWebhooks;
using Apertur.Server.Hosting;
using Apertur.Server.Keys;
using Apertur.Server.Qr;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Apertur.Server.Sessions;

/// <summary>Upload sessions (docs/api.md "Upload sessions"): create, read, change, password check, list.</summary>
public static class SessionsApi
{
    public static IEndpointRouteBuilder MapSessionsApi(this IEndpointRouteBuilder app)
    {
        var keyed = app.MapGroup("/api/v1").AddEndpointFilter<ApiKeyAuth>();
        // POST /sessions is the name older docs give session creation (their rate-limit table): the same endpoint, limit and budget.
        foreach (var path in (string[])["/upload-sessions", "/sessions"])
        {
            keyed.MapPost(path, CreateAsync).WithRateLimit(RateLimitPolicies.SessionCreate);
        }
        keyed.MapPatch("/upload-sessions/{uuid}", PatchAsync).WithRateLimit(RateLimitPolicies.Api);
        keyed.MapGet("/sessions", ListAsync).WithRateLimit(RateLimitPolicies.SessionRead);
        keyed.MapGet("/sessions/recent", RecentAsync).WithRateLimit(RateLimitPolicies.SessionRead);

        var open = app.MapGroup("/api/v1/upload");
        // Browsers on another site: only those in the session key's allowedDomains.
        open.MapGet("/{uuid}/session", DetailAsync).WithRateLimit(RateLimitPolicies.PublicSession).AddEndpointFilter<AllowedDomainsFilter>();
        open.MapPost("/{uuid}/verify-password", VerifyPasswordAsync).WithRateLimit(RateLimitPolicies.PasswordCheck)
            .AddEndpointFilter<AllowedDomainsFilter>();
        return app;
    }

    private static async Task<IResult> CreateAsync(HttpContext http, SessionCreator creator, PublicUrls urls, CancellationToken ct)
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

    private static async Task<IResult> DetailAsync(string uuid, AperturDb db, TimeProvider time, ServerKeys keys,
        IOptions<UploadOptions> uploads, CancellationToken ct)
    {
        var session = await SessionState.FindAsync(db, uuid, ct);
        return TypedResults.Ok(await ToDetailAsync(session, time.GetUtcNow(), keys, uploads.Value, ct));
    }

    private static async Task<IResult> PatchAsync(string uuid, HttpContext http, AperturDb db, TimeProvider time, ServerKeys keys,
        SessionEventHub events, IOptions<UploadSessionOptions> sessions, IOptions<UploadOptions> uploads, CancellationToken ct)
    {
        var caller = http.GetCaller();
        var body = await JsonBody.ReadAsync(http.Request, ct);
        var session = await SessionState.FindAsync(db, uuid, ct, caller.ProjectId, track: true);
        var now = Iso.Millis(time.GetUtcNow());
        SessionRequests.Patch(session, body, caller, sessions.Value, uploads.Value, now);
        await db.SaveChangesAsync(ct);
        events.Publish(session.Id, SessionEventNames.SessionUpdated, new { sessionId = session.Id });
        return TypedResults.Ok(await ToDetailAsync(session, now, keys, uploads.Value, ct));
    }

    private static async Task<IResult> VerifyPasswordAsync(string uuid, HttpContext http, AperturDb db, CancellationToken ct)
    {
        var session = await SessionState.FindAsync(db, uuid, ct);
        var body = await JsonBody.ReadAsync(http.Request, ct);
        var password = body.Text("password") ?? "";
        var valid = session.PasswordHash is null || SessionPasswords.Verify(password, session.PasswordHash);
        return TypedResults.Ok(new PasswordCheck(valid));
    }

    private static async Task<IResult> ListAsync(HttpContext http, AperturDb db, TimeProvider time, int? page, int? pageSize, CancellationToken ct)
    {
        var caller = http.GetCaller();
        var (number, size) = Paging.Normalise(page, pageSize);
        var query = db.Sessions.AsNoTracking().Where(s => s.ProjectId == caller.ProjectId);
        var total = await query.CountAsync(ct);
        var sessions = await query.OrderByDescending(s => s.CreatedAt).ThenByDescending(s => s.Id)
            .Skip((number - 1) * size).Take(size).ToListAsync(ct);
        var rows = await ToRowsAsync(db, caller.ProjectName, sessions, time.GetUtcNow(), ct);
        return TypedResults.Ok(new Page<SessionRow>(rows, total, number, size, Paging.TotalPages(total, size)));
    }

    private static async Task<IResult> RecentAsync(HttpContext http, AperturDb db, TimeProvider time, int? limit, CancellationToken ct)
    {
        var caller = http.GetCaller();
        var take = Paging.Limit(limit);
        var sessions = await db.Sessions.AsNoTracking().Where(s => s.ProjectId == caller.ProjectId)
            .OrderByDescending(s => s.CreatedAt).ThenByDescending(s => s.Id).Take(take).ToListAsync(ct);
        return TypedResults.Ok(await ToRowsAsync(db, caller.ProjectName, sessions, time.GetUtcNow(), ct));
    }

    internal static async Task<SessionDetail> ToDetailAsync(Session s, DateTimeOffset now, ServerKeys keys, UploadOptions uploads, CancellationToken ct) => new(
        Id: s.Id.ToString(),
        Status: SessionState.StatusOf(s, now),
        ExpiresAt: Iso.Format(s.ExpiresAt),
        CreatedAt: Iso.Format(s.CreatedAt),
        Tags: s.Tags,
        Label: s.Label,
        ImagesPerSession: s.MaxImages,
        ImagesCount: s.ImageCount,
        EffectiveMaxImages: s.MaxImages,
        EffectiveAllowedMimeTypes: s.AllowedMimeTypes,
        EffectiveMaxImageDimension: Math.Min(s.MaxImageDimension ?? int.MaxValue, uploads.MaxImageDimension),
        EffectiveMaxImageSizeBytes: s.MaxImageBytes,
        PasswordProtected: s.PasswordHash is not null,
        LongPolling: s.LongPolling,
        Env: s.Env,
        ServerPublicKey: await keys.GetPublicKeyPemAsync(ct),
        E2eEnabled: false,
        E2ePublicKey: null,
        E2eDowngraded: false);

    internal static async Task<List<SessionRow>> ToRowsAsync(AperturDb db, string projectName, List<Session> sessions, DateTimeOffset now, CancellationToken ct)
    {
        var ids = sessions.Select(s => s.Id).ToList();
        var destinationCounts = await db.SessionDestinations.Where(d => ids.Contains(d.SessionId))
            .GroupBy(d => d.SessionId).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(x => x.Key, x => x.Count, ct);
        var delivered = await db.Deliveries.Where(d => ids.Contains(d.SessionId) && d.Status == DeliveryStatus.Sent)
            .GroupBy(d => d.SessionId).Select(g => new { g.Key, Count = g.Select(d => d.ImageId).Distinct().Count() })
            .ToDictionaryAsync(x => x.Key, x => x.Count, ct);
        var failed = await db.Deliveries.Where(d => ids.Contains(d.SessionId) && d.Status == DeliveryStatus.Failed)
            .GroupBy(d => d.SessionId).Select(g => new { g.Key, Count = g.Select(d => d.ImageId).Distinct().Count() })
            .ToDictionaryAsync(x => x.Key, x => x.Count, ct);
        return sessions.Select(s => new SessionRow(
            Id: s.Id.ToString(),
            CreatedAt: Iso.Format(s.CreatedAt),
            ExpiresAt: Iso.Format(s.ExpiresAt),
            Status: SessionState.StatusOf(s, now),
            ProjectId: s.ProjectId.ToString(),
            ProjectName: projectName,
            ImagesCount: s.ImageCount,
            ImagesDelivered: delivered.GetValueOrDefault(s.Id),
            ImagesFailed: failed.GetValueOrDefault(s.Id),
            DestinationsCount: destinationCounts.GetValueOrDefault(s.Id),
            Tags: s.Tags,
            LongPollingEnabled: s.LongPolling,
            Label: s.Label,
            Env: s.Env)).ToList();
    }
}
