using Apertur.Server.Data;
using Apertur.Server.Hosting;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Sessions;

/// <summary>Finding a session by its public UUID and reading its effective status.</summary>
public static class SessionState
{
    // Every upload reads its session.
    private static readonly CompiledQuery<Func<AperturDb, Guid, CancellationToken, Task<Session?>>> ReadById = new(() =>
        EF.CompileAsyncQuery((AperturDb db, Guid id, CancellationToken ct) => db.Sessions.AsNoTracking().FirstOrDefault(s => s.Id == id)));

    /// <summary>
    /// A deleted session reads as <c>expired</c> (closed for good; the API has no other word for it); <c>completed</c> stays
    /// completed; an active session past its expiry reads as <c>expired</c>.
    /// </summary>
    public static string StatusOf(Session session, DateTimeOffset now) =>
        session.DeletedAt is not null ? SessionStatus.Expired
        : session.Status == SessionStatus.Completed ? SessionStatus.Completed
        : now >= session.ExpiresAt ? SessionStatus.Expired
        : session.Status;

    /// <summary>The session, or 404 <c>SESSION_NOT_FOUND</c>. With <paramref name="projectId"/> another project's session is also 404.</summary>
    public static async Task<Session> FindAsync(AperturDb db, string uuid, CancellationToken ct, Guid? projectId = null, bool track = false)
    {
        var notFound = ApiException.NotFound("Session not found.", "SESSION_NOT_FOUND");
        if (!Guid.TryParse(uuid, out var id))
        {
            throw notFound;
        }
        var session = track ? await db.Sessions.FirstOrDefaultAsync(s => s.Id == id, ct) : await ReadById.For(db)(db, id, ct);
        return session is null || (projectId is { } p && session.ProjectId != p) ? throw notFound : session;
    }
}
