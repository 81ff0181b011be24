using Apertur.Server.Data;
using Apertur.Server.Hosting;
using Apertur.Server.Queues;
using Apertur.Server.Sessions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Apertur.Server.EventWebhooks;

/// <summary>
/// Fires <c>project.session.expired</c> once per session: finds active sessions past <c>expires_at</c> whose
/// <c>expired_announced_at</c> is unset, and for each, in one transaction, sets the marker with a guarded update (so
/// two replicas cannot both announce it) and queues the event. A completed (full) session never reads as expired and is
/// not announced. Off when <c>Apertur:Workers:Enabled</c> is false.
/// </summary>
public sealed class SessionExpirySweep(IServiceScopeFactory scopes, TimeProvider time, IOptions<EventWebhookOptions> options,
    IOptions<WorkersOptions> workers, IJobLock jobs, ILogger<SessionExpirySweep> logger)
    : PeriodicJob(Jobs.SessionExpirySweep, "Session expiry sweep", time, workers, jobs, logger)
{
    private const int BatchSize = 100;

    protected override TimeSpan Interval => options.Value.ExpirySweepInterval;

    protected override async Task RunPassAsync(CancellationToken ct)
    {
        while (await SweepAsync(ct) == BatchSize)
        {
        }
    }

    /// <summary>Announces up to one batch of newly expired sessions; returns how many were looked at.</summary>
    internal async Task<int> SweepAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
        var events = scope.ServiceProvider.GetRequiredService<EventPublisher>();
        var now = Iso.Millis(Time.GetUtcNow());
        var expired = await db.Sessions.AsNoTracking()
            .Where(s => s.ExpiredAnnouncedAt == null && s.Status == SessionStatus.Active && s.ExpiresAt <= now && s.DeletedAt == null)
            .OrderBy(s => s.ExpiresAt).Take(BatchSize).ToListAsync(ct);
        var queued = 0;
        foreach (var session in expired)
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var claimed = await db.Sessions.Where(s => s.Id == session.Id && s.ExpiredAnnouncedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.ExpiredAnnouncedAt, (DateTimeOffset?)now), ct);
            if (claimed == 1)
            {
                queued += await events.PublishAsync(session.ProjectId, session.Env, EventTopics.SessionExpired,
                    EventData.Session(session, SessionStatus.Expired), ct);
            }
            await tx.CommitAsync(ct);
        }
        if (queued > 0)
        {
            events.Nudge();
        }
        return expired.Count;
    }
}
