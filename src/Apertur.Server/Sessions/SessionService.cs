using Apertur.Server.Data;
using Apertur.Server.Deliveries;
using Apertur.Server.Encryption;
using Apertur.Server.Events;
using Apertur.Server.Hosting;
using Apertur.Server.Keys;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Apertur.Server.Sessions;

/// <summary>
/// Reading and changing upload sessions (docs/api.md "Upload sessions"), for the sessions API and the dashboard's
/// sessions pages: the detail, PATCH, the password check and the listed rows with their delivery counts. Creation is
/// <see cref="SessionCreator"/>'s. Failures are <see cref="ApiException"/>s.
/// </summary>
public sealed class SessionService(AperturDb db, TimeProvider time, ServerKeys keys, SessionEventHub events,
    IOptions<UploadSessionOptions> sessions, IOptions<UploadOptions> uploads)
{
    /// <summary>The session by its UUID (404 otherwise), of <paramref name="projectId"/> when given.</summary>
    public Task<Session> FindAsync(string uuid, CancellationToken ct, Guid? projectId = null) => SessionState.FindAsync(db, uuid, ct, projectId);

    public async Task<SessionDetail> DetailAsync(string uuid, CancellationToken ct) =>
        await DetailOfAsync(await FindAsync(uuid, ct), time.GetUtcNow(), ct);

    /// <summary>Applies <paramref name="body"/> (docs/api.md "Update a session"), saves and tells the session's listeners.</summary>
    public async Task<SessionDetail> PatchAsync(Caller caller, string uuid, JsonBody body, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var session = await SessionState.FindAsync(db, uuid, ct, caller.ProjectId, track: true);
        var now = Iso.Millis(time.GetUtcNow());
        SessionRequests.Patch(session, body, caller, sessions.Value, uploads.Value, now);
        await db.SaveChangesAsync(ct);
        events.Publish(session.Id, SessionEventNames.SessionUpdated, new { sessionId = session.Id });
        return await DetailOfAsync(session, now, ct);
    }

    /// <summary>True when the session has no password or <paramref name="password"/> is it (constant time).</summary>
    public static bool PasswordMatches(Session session, string password)
    {
        ArgumentNullException.ThrowIfNull(session);
        return session.PasswordHash is null || SessionPasswords.Verify(password, session.PasswordHash);
    }

    /// <summary>
    /// One page of the project's sessions, newest first, and the total count (the API's paging contract): the total from the
    /// project's count (<see cref="CountAsync"/>), the page from the nearer end of the index on (project_id, created_at, id)
    /// (<see cref="OffsetPage"/>; docs/performance.md).
    /// </summary>
    public async Task<(List<SessionRow> Rows, int Total)> PageAsync(Guid projectId, string projectName, int number, int size, CancellationToken ct)
    {
        var query = db.Sessions.AsNoTracking().Where(s => s.ProjectId == projectId);
        var total = await CountAsync(projectId, ct);
        var page = await OffsetPage.ReadAsync(Newest(query), Oldest(query), total, number, size, ct);
        return (await RowsAsync(projectName, page, ct), total);
    }

    /// <summary>
    /// How many sessions the project has, deleted ones included (they are listed): its rolled-up count plus the deltas not rolled
    /// up yet, in one statement, so it is exact the moment a session's insert or deletion commits and costs the same at any
    /// history size (<see cref="SessionCount"/>; docs/performance.md "Sessions that exist").
    /// </summary>
    public Task<int> CountAsync(Guid projectId, CancellationToken ct) =>
        db.SessionCounts.Where(c => c.ProjectId == projectId).Select(c => c.Sessions)
            .Concat(db.SessionCountDeltas.Where(d => d.ProjectId == projectId).Select(d => d.Sessions))
            .SumAsync(ct);

    /// <summary>
    /// The <paramref name="size"/> newest sessions older than <paramref name="before"/> (the newest when null), for the
    /// dashboard: no count, and the cursor of the next page when there are more.
    /// </summary>
    public async Task<(List<SessionRow> Rows, ListCursor? Older)> OlderThanAsync(Guid projectId, string projectName, ListCursor? before, int size,
        CancellationToken ct)
    {
        var query = db.Sessions.AsNoTracking().Where(s => s.ProjectId == projectId);
        if (before is { } c)
        {
            // The first condition is implied by the second; it is what PostgreSQL can start the index range from.
            query = query.Where(s => s.CreatedAt <= c.CreatedAt && (s.CreatedAt < c.CreatedAt || (s.CreatedAt == c.CreatedAt && s.Id.CompareTo(c.Id) < 0)));
        }
        var page = await Newest(query).Take(size + 1).ToListAsync(ct);
        var older = page.Count > size ? new ListCursor(page[size - 1].CreatedAt, page[size - 1].Id) : null;
        return (await RowsAsync(projectName, page.Take(size).ToList(), ct), older);
    }

    private static IQueryable<Session> Newest(IQueryable<Session> query) => query.OrderByDescending(s => s.CreatedAt).ThenByDescending(s => s.Id);

    private static IQueryable<Session> Oldest(IQueryable<Session> query) => query.OrderBy(s => s.CreatedAt).ThenBy(s => s.Id);

    /// <summary>The project's <paramref name="take"/> newest sessions.</summary>
    public async Task<List<SessionRow>> RecentAsync(Guid projectId, string projectName, int take, CancellationToken ct)
    {
        var recent = await Newest(db.Sessions.AsNoTracking().Where(s => s.ProjectId == projectId)).Take(take).ToListAsync(ct);
        return await RowsAsync(projectName, recent, ct);
    }

    private async Task<SessionDetail> DetailOfAsync(Session s, DateTimeOffset now, CancellationToken ct) => new(
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
        EffectiveMaxImageDimension: Math.Min(s.MaxImageDimension ?? int.MaxValue, uploads.Value.MaxImageDimension),
        EffectiveMaxImageSizeBytes: s.MaxImageBytes,
        PasswordProtected: s.PasswordHash is not null,
        LongPolling: s.LongPolling,
        Env: s.Env,
        ServerPublicKey: await keys.GetPublicKeyPemAsync(ct),
        E2eEnabled: false,
        E2ePublicKey: null,
        E2eDowngraded: false);

    private async Task<List<SessionRow>> RowsAsync(string projectName, List<Session> list, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var ids = list.Select(s => s.Id).ToList();
        var destinationCounts = await db.SessionDestinations.Where(d => ids.Contains(d.SessionId))
            .GroupBy(d => d.SessionId).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(x => x.Key, x => x.Count, ct);
        var delivered = await db.Deliveries.Where(d => ids.Contains(d.SessionId) && d.Status == DeliveryStatus.Sent)
            .GroupBy(d => d.SessionId).Select(g => new { g.Key, Count = g.Select(d => d.ImageId).Distinct().Count() })
            .ToDictionaryAsync(x => x.Key, x => x.Count, ct);
        var failed = await db.Deliveries.Where(d => ids.Contains(d.SessionId) && d.Status == DeliveryStatus.Failed)
            .GroupBy(d => d.SessionId).Select(g => new { g.Key, Count = g.Select(d => d.ImageId).Distinct().Count() })
            .ToDictionaryAsync(x => x.Key, x => x.Count, ct);
        return list.Select(s => new SessionRow(
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
            Env: s.Env,
            Deleted: s.DeletedAt is not null)).ToList();
    }
}
