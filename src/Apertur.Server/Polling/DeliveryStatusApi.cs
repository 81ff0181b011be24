using Apertur.Server.Data;
using Apertur.Server.Events;
using Apertur.Server.Hosting;
using Apertur.Server.Keys;
using Apertur.Server.Sessions;
using Microsoft.Extensions.Options;

namespace Apertur.Server.Polling;

/// <summary>
/// Delivery status (docs/api.md "Delivery status"): the snapshot, or with <c>pollFrom</c> a long-poll that answers
/// as soon as the session changed after that instant, or with the unchanged snapshot at the hold limit.
/// Kept beside polling rather than in a <c>DeliveryStatus/</c> folder: that namespace would shadow
/// <c>Delivery.DeliveryStatus</c> for every file under <c>Apertur.Server</c>, and its setting lives in <c>Apertur:Polling</c>.
/// </summary>
public static class DeliveryStatusApi
{
    public static IEndpointRouteBuilder MapDeliveryStatusApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/v1").AddEndpointFilter<ApiKeyAuth>()
            .MapGet("/upload-sessions/{uuid}/delivery-status", GetAsync)
            .WithRateLimit(RateLimitPolicies.SessionRead);
        return app;
    }

    private static async Task<IResult> GetAsync(string uuid, string? pollFrom, HttpContext http, AperturDb db, DeliveryStatusReader reader,
        SessionEventHub events, TimeProvider time, IOptions<PollingOptions> options, IHostApplicationLifetime lifetime, CancellationToken ct)
    {
        DateTimeOffset? since = null;
        if (!string.IsNullOrWhiteSpace(pollFrom))
        {
            since = TryParsePollFrom(pollFrom, out var parsed)
                ? parsed
                : throw ApiException.BadRequest("'pollFrom' must be an ISO-8601 date-time such as a previous lastChanged.", "INVALID_POLL_FROM");
        }
        var session = await SessionState.FindAsync(db, uuid, ct, http.GetCaller().ProjectId);
        if (since is null)
        {
            return TypedResults.Ok(await ReadAsync(reader, session.Id, ct));
        }

        // Subscribe before the first read: a change committed between the read and the wait still wakes us.
        using var changes = events.Subscribe(session.Id);
        var snapshot = await ReadAsync(reader, session.Id, ct);
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
            await WaitForChangeAsync(changes, left < options.Value.DeliveryStatusRecheck ? left : options.Value.DeliveryStatusRecheck, time, stopping, ct);
            snapshot = await ReadAsync(reader, session.Id, ct);
        }
        // Changed or not, the answer is 200 with the current snapshot: never 204 or 304.
        return TypedResults.Ok(snapshot);
    }

    /// <summary>
    /// Parses <c>pollFrom</c> to whole milliseconds. A literal <c>+</c> that arrived unencoded reads as a space after
    /// query decoding, so a space before the offset is taken as <c>+</c>.
    /// </summary>
    internal static bool TryParsePollFrom(string text, out DateTimeOffset value)
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
    internal static TimeSpan HoldFor(TimeSpan limit, DateTimeOffset expiresAt, string status, DateTimeOffset now)
    {
        var untilExpiry = expiresAt - now + TimeSpan.FromMilliseconds(1);
        return status == SessionStatus.Active && untilExpiry < limit ? untilExpiry : limit;
    }

    private static async Task<DeliveryStatusSnapshot> ReadAsync(DeliveryStatusReader reader, Guid sessionId, CancellationToken ct) =>
        await reader.ReadAsync(sessionId, ct) ?? throw ApiException.NotFound("Session not found.", "SESSION_NOT_FOUND");

    /// <summary>Returns when an event of the session arrives, the timeout passes or the server stops; throws if the client went away.</summary>
    private static async Task WaitForChangeAsync(SessionEventHub.Subscription changes, TimeSpan timeout, TimeProvider time,
        CancellationToken stopping, CancellationToken ct)
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
