using Apertur.Server.Data;
using Apertur.Server.Hosting;
using Apertur.Server.Sessions;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Polling;

/// <summary>
/// Reads a session's delivery-status snapshot (docs/api.md "Delivery status") in four queries whatever its size: the session, its
/// images, their deliveries with destination type and name, and the session's destination order. Shared by the
/// delivery-status endpoint, the SSE stream and the dashboard.
/// </summary>
public sealed class DeliveryStatusReader(AperturDb db, TimeProvider time)
{
    private const string UnknownType = "unknown";
    private const string DeletedName = "(deleted destination)";

    /// <summary>The snapshot, or null when the session does not exist (any more).</summary>
    public async Task<DeliveryStatusSnapshot?> ReadAsync(Guid sessionId, CancellationToken ct)
    {
        var session = await db.Sessions.AsNoTracking().FirstOrDefaultAsync(s => s.Id == sessionId, ct);
        if (session is null)
        {
            return null;
        }
        var images = await db.Images.AsNoTracking()
            .Where(i => i.SessionId == sessionId)
            .OrderBy(i => i.ImageIndex)
            .Select(i => new { i.Id, i.Filename, i.SizeBytes, i.CreatedAt, i.AcknowledgedAt })
            .ToListAsync(ct);
        var deliveries = await (
            from d in db.Deliveries.AsNoTracking()
            where d.SessionId == sessionId
            join dest in db.Destinations.AsNoTracking() on d.DestinationId equals dest.Id into found
            from dest in found.DefaultIfEmpty()
            select new { d.ImageId, d.DestinationId, d.Status, d.Attempts, d.LastError, d.UpdatedAt, Type = dest == null ? null : dest.Type, Name = dest == null ? null : dest.Name })
            .ToListAsync(ct);
        var positions = await db.SessionDestinations.AsNoTracking()
            .Where(sd => sd.SessionId == sessionId)
            .ToDictionaryAsync(sd => sd.DestinationId, sd => sd.Position, ct);

        var byImage = deliveries.ToLookup(d => d.ImageId);
        var files = images.Select(i => new DeliveryFile(
            RecordId: i.Id.ToString(),
            Filename: i.Filename,
            SizeBytes: i.SizeBytes,
            HasThumbnail: false,
            Destinations: byImage[i.Id]
                // The session's destination order; a destination no longer listed goes last, in a stable order.
                .OrderBy(d => positions.TryGetValue(d.DestinationId, out var p) ? p : int.MaxValue)
                .ThenBy(d => d.DestinationId)
                .Select(d => new DeliveryTarget(d.DestinationId.ToString(), d.Type ?? UnknownType, d.Name ?? DeletedName, d.Status, d.Attempts, d.LastError))
                .ToList())).ToList();

        var now = time.GetUtcNow();
        var status = SessionState.StatusOf(session, now);
        var lastChanged = LastChangedOf(
            session.CreatedAt,
            session.LastChangedAt,
            status == SessionStatus.Expired ? session.ExpiresAt : null,
            images.Select(i => i.CreatedAt)
                .Concat(images.Select(i => i.AcknowledgedAt).OfType<DateTimeOffset>())
                .Concat(deliveries.Select(d => d.UpdatedAt)));
        return new DeliveryStatusSnapshot(status, files, lastChanged);
    }

    /// <summary>
    /// The latest observable change, at millisecond precision: the session's own change time (never earlier than its
    /// creation), the moment it expired if it has, and every image upload, acknowledgement and delivery update.
    /// </summary>
    internal static DateTimeOffset LastChangedOf(DateTimeOffset createdAt, DateTimeOffset sessionChangedAt, DateTimeOffset? expiredAt,
        IEnumerable<DateTimeOffset> moments)
    {
        var latest = createdAt > sessionChangedAt ? createdAt : sessionChangedAt;
        if (expiredAt is { } expired && expired > latest)
        {
            latest = expired;
        }
        foreach (var moment in moments)
        {
            if (moment > latest)
            {
                latest = moment;
            }
        }
        return Iso.Millis(latest);
    }
}
