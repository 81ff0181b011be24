using Apertur.Server.Data;
using Apertur.Server.EventWebhooks;
using Apertur.Server.Hosting;
using Apertur.Server.Keys;
using Apertur.Server.Projects;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Apertur.Server.Sessions;

/// <summary>
/// Creates an upload session for a caller (the API's key, or the key a dashboard user picked): the body's settings within
/// the server, project and key limits, its destinations, and the <c>project.session.created</c> event in one transaction.
/// </summary>
public sealed class SessionCreator(AperturDb db, TimeProvider time, IOptions<UploadSessionOptions> sessions, IOptions<UploadOptions> uploads,
    EventPublisher events)
{
    public async Task<(Session Session, List<Destinations.Destination> Destinations)> CreateAsync(Caller caller, JsonBody body, CancellationToken ct)
    {
        var now = Iso.Millis(time.GetUtcNow());
        var defaults = await db.Projects.AsNoTracking().Where(p => p.Id == caller.ProjectId)
            .Select(p => new { p.DefaultMaxImages, p.DefaultExpiryMinutes, p.DefaultMaxImageSizeMb }).FirstOrDefaultAsync(ct);
        var options = ProjectDefaults.Apply(sessions.Value, defaults?.DefaultMaxImages, defaults?.DefaultExpiryMinutes);
        var session = SessionRequests.Create(body, caller, options, uploads.Value, now, Ids.New(time));
        if (defaults?.DefaultMaxImageSizeMb is { } mb && !body.Has("max_image_size_mb", "maxImageSizeMb"))
        {
            session.MaxImageBytes = Math.Min(mb * 1024L * 1024L, uploads.Value.MaxImageBytes);
        }

        var requested = body.TextArray("destination_ids", "destinationIds");
        var destinations = await ResolveDestinationsAsync(caller, requested, ct);
        session.Destinations = destinations.Select((d, i) => new SessionDestination { SessionId = session.Id, DestinationId = d.Id, Position = i }).ToList();

        // The session and its project.session.created event commit together.
        await using (var tx = await db.Database.BeginTransactionAsync(ct))
        {
            db.Sessions.Add(session);
            await db.SaveChangesAsync(ct);
            await events.PublishAsync(session.ProjectId, session.Env, EventTopics.SessionCreated, EventData.Session(session, SessionStatus.Active), ct);
            await tx.CommitAsync(ct);
        }
        events.Nudge();
        return (session, destinations);
    }

    /// <summary>Explicit ids must be this project's destinations; otherwise the key's active defaults, in order.</summary>
    private async Task<List<Destinations.Destination>> ResolveDestinationsAsync(Caller caller, string[]? requested, CancellationToken ct)
    {
        if (requested is not null)
        {
            var ids = new List<Guid>();
            foreach (var raw in requested.Distinct())
            {
                ids.Add(Guid.TryParse(raw, out var g) ? g : throw ApiException.BadRequest($"Unknown destination id '{raw}'.", "DESTINATION_NOT_FOUND"));
            }
            var found = await db.Destinations.AsNoTracking().Where(d => d.ProjectId == caller.ProjectId && ids.Contains(d.Id)).ToListAsync(ct);
            var missing = ids.Where(id => found.All(d => d.Id != id)).ToList();
            if (missing.Count > 0)
            {
                throw ApiException.BadRequest($"Unknown destination id '{missing[0]}'.", "DESTINATION_NOT_FOUND");
            }
            return ids.Select(id => found.First(d => d.Id == id)).ToList();
        }
        var defaults = caller.Key.DefaultDestinations.Select(s => Guid.TryParse(s, out var g) ? g : Guid.Empty).ToList();
        if (defaults.Count == 0)
        {
            return [];
        }
        var rows = await db.Destinations.AsNoTracking()
            .Where(d => d.ProjectId == caller.ProjectId && d.IsActive && defaults.Contains(d.Id)).ToListAsync(ct);
        return defaults.Select(id => rows.FirstOrDefault(d => d.Id == id)).OfType<Destinations.Destination>().ToList();
    }
}
