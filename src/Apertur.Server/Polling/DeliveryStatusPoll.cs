using Apertur.Server.Data;
using Apertur.Server.Events;
using Apertur.Server.Hosting;
using Apertur.Server.Sessions;
using Microsoft.Extensions.Options;

namespace Apertur.Server.Polling;

/// <summary>
/// The delivery-status long-poll (docs/api.md "Delivery status"): the snapshot now, or with a <c>pollFrom</c> instant the
/// first snapshot that changed after it, or the unchanged one at the hold limit (<see cref="PollingOptions"/>).
/// </summary>
public sealed class DeliveryStatusPoll(AperturDb db, DeliveryStatusReader reader, SessionEventHub events, TimeProvider time,
    IOptions<PollingOptions> options, IHostApplicationLifetime lifetime)
{
    /// <summary>The project's session's snapshot (404 for another project's or an unknown session), held while unchanged since <paramref name="since"/>.</summary>
    public async Task<DeliveryStatusSnapshot> ReadAsync(Guid projectId, string uuid, DateTimeOffset? since, CancellationToken ct)
    {
        var session = await SessionState.FindAsync(db, uuid, ct, projectId);
        if (since is null)
        {
            return await ReadAsync(session.Id, ct);
        }

        // Subscribe before the first read: a change committed between the read and the wait still wakes us.
        using var changes = events.Subscribe(session.Id);
        var snapshot = await ReadAsync(session.Id, ct);
        var started = time.GetTimestamp();
        var hold = HoldFor(options.Value.DeliveryStatusHold, session.ExpiresAt, snapshot.Status, time.GetUtcNow());
        var stopping = lifetime.ApplicationStopping;
        while (snapshot.LastChangedAt <= since)
        {
            var left = hold - time.GetElapsedTime(started);
            // A stopping server answers held requests now instead of delaying its shutdown.
            if (left <= TimeSpan.Zero || stopping.IsCancellationRequested)
            {
                break;
            }
            await WaitForChangeAsync(changes, left < options.Value.DeliveryStatusRecheck ? left : options.Value.DeliveryStatusRecheck, stopping, ct);
            snapshot = await ReadAsync(session.Id, ct);
        }
        return snapshot;
    }

    /// <summary>
    /// Parses <c>pollFrom</c> to whole milliseconds. A literal <c>+</c> that arrived unencoded reads as a space after
    /// query decoding, so a space before the offset is taken as <c>+</c>.
    /// </summary>
    public static bool TryParsePollFrom(string text, out DateTimeOffset value)
    {
        text = text.Trim();
        if (Iso.TryParse(text, out value) || (text.Contains(' ', StringComparison.Ordinal) && Iso.TryParse(text.Replace(' ', '+'), out value)))
        {
            value = Iso.Millis(value);
            return true;
        }
        return false;
    }

    /// <summary>The hold limit, cut short at the session's expiry so the expired status is reported when it happens.</summary>
    public static TimeSpan HoldFor(TimeSpan limit, DateTimeOffset expiresAt, string status, DateTimeOffset now)
    {
        var untilExpiry = expiresAt - now + TimeSpan.FromMilliseconds(1);
        return status == SessionStatus.Active && untilExpiry < limit ? untilExpiry : limit;
    }

    private async Task<DeliveryStatusSnapshot> ReadAsync(Guid sessionId, CancellationToken ct) =>
        await reader.ReadAsync(sessionId, ct) ?? throw ApiException.NotFound("Session not found.", "SESSION_NOT_FOUND");

    /// <summary>Returns when an event of the session arrives, the timeout passes or the server stops; throws if the client went away.</summary>
    private async Task WaitForChangeAsync(SessionEventHub.Subscription changes, TimeSpan timeout, CancellationToken stopping, CancellationToken ct)
    {
        using var timer = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timer.Token, stopping);
        try
        {
            await changes.Reader.WaitToReadAsync(linked.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // Timed out or stopping: the caller re-reads and decides.
        }
        while (changes.Reader.TryRead(out _))
        {
            // Any number of events means one re-read.
        }
    }
}
