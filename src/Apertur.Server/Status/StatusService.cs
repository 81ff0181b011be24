using Apertur.Destinations;
using Apertur.Server.Data;
using Apertur.Server.Deliveries;
using Apertur.Server.EventWebhooks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Apertur.Server.Status;

/// <summary>One line of the status page: a component and its state; the figures only when the operator shows them.</summary>
public sealed record ComponentStatus(string Name, string State, int? SuccessPercent = null, int? LagMinutes = null);

/// <summary>What the status page shows, computed at <see cref="At"/>.</summary>
public sealed record StatusReport(DateTimeOffset At, IReadOnlyList<ComponentStatus> Components, IReadOnlyList<IncidentService.Entry> Incidents)
{
    /// <summary>The worst state of any component.</summary>
    public string Overall => Components.Select(c => c.State).Aggregate(ComponentStates.Operational, ComponentStates.Worst);
}

/// <summary>
/// The state of each component now (docs/operations.md "Status page"): the API and uploads, one line per destination kind in
/// use, event webhooks, the database and the image store. The database and storage lines are the readiness checks
/// (Health/HealthServices.cs) run through the framework's <see cref="HealthCheckService"/>; the delivery lines count the
/// attempts of the last <see cref="StatusThresholds.Window"/> and look at the oldest due delivery (<see cref="StatusThresholds"/>).
/// The page is public, so a computed report is reused for <see cref="StatusOptions.CacheFor"/> and only one request at a
/// time computes it: whatever the traffic, a few queries per period. No project, destination or count leaves here.
/// </summary>
public sealed partial class StatusService(IServiceScopeFactory scopes, HealthCheckService health, DestinationKindRegistry kinds, TimeProvider time,
    IOptions<StatusOptions> options, ILogger<StatusService> logger) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile StatusReport? _cached;

    /// <summary>The report of the last <see cref="StatusOptions.CacheFor"/>, or a fresh one.</summary>
    public async Task<StatusReport> CurrentAsync(CancellationToken ct)
    {
        if (Fresh() is { } cached)
        {
            return cached;
        }
        await _gate.WaitAsync(ct);
        try
        {
            return Fresh() ?? (_cached = await ComputeAsync(ct));
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Drops the cached report: an incident changed on this replica and should show at once.</summary>
    public void Forget() => _cached = null;

    public void Dispose() => _gate.Dispose();

    private StatusReport? Fresh() =>
        _cached is { } cached && time.GetUtcNow() - cached.At < options.Value.CacheFor ? cached : null;

    private async Task<StatusReport> ComputeAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var checks = await health.CheckHealthAsync(c => c.Name is "database" or "storage", ct);
        var database = StateOf(checks, "database");
        var storage = StateOf(checks, "storage");
        IReadOnlyList<ComponentStatus> deliveries = [];
        IReadOnlyList<IncidentService.Entry> incidents = [];
        if (database != ComponentStates.Down)
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
                deliveries = await DeliveriesAsync(db, now, ct);
                incidents = await scope.ServiceProvider.GetRequiredService<IncidentService>().RecentAsync(ct);
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                LogUnreadable(logger, e.GetBaseException().Message);
                database = ComponentStates.Down;
            }
        }
        var down = database == ComponentStates.Down;
        // Uploads need the database and room in the image store: below the free-space minimum they are refused (507).
        var uploads = down || storage != ComponentStates.Operational ? ComponentStates.Down : ComponentStates.Operational;
        List<ComponentStatus> components =
        [
            new("API", down ? ComponentStates.Down : ComponentStates.Operational),
            new("Uploads", uploads),
            .. down ? [new ComponentStatus("Deliveries", ComponentStates.Down)] : deliveries,
            new("Database", database),
            new("Storage", storage),
        ];
        return new StatusReport(now, components, incidents);
    }

    private async Task<IReadOnlyList<ComponentStatus>> DeliveriesAsync(AperturDb db, DateTimeOffset now, CancellationToken ct)
    {
        var since = now - StatusThresholds.Window;
        var attempts = await (
            from a in db.DeliveryAttempts.AsNoTracking()
            where a.StartedAt >= since
            join d in db.Deliveries.AsNoTracking() on a.DeliveryId equals d.Id
            join destination in db.Destinations.AsNoTracking() on d.DestinationId equals destination.Id
            group a by new { destination.Type, Sent = a.Outcome == DeliveryStatus.Sent } into g
            select new { g.Key.Type, g.Key.Sent, Count = g.Count() }).ToListAsync(ct);
        var types = await db.Destinations.AsNoTracking().Select(d => d.Type).Distinct().ToListAsync(ct);
        var lines = new List<(int Order, ComponentStatus Status)>();
        foreach (var byKind in types.Union(attempts.Select(a => a.Type)).GroupBy(Canonical))
        {
            var oldestDue = default(DateTimeOffset?);
            foreach (var type in byKind)
            {
                var due = await db.Deliveries.AsNoTracking()
                    .Where(d => (d.Status == DeliveryStatus.Pending || d.Status == DeliveryStatus.Retrying) && d.NextAttemptAt <= now
                        && db.Destinations.Any(x => x.Id == d.DestinationId && x.Type == type))
                    .OrderBy(d => d.NextAttemptAt)
                    .Select(d => (DateTimeOffset?)d.NextAttemptAt)
                    .FirstOrDefaultAsync(ct);
                oldestDue = due < oldestDue || oldestDue is null ? due : oldestDue;
            }
            var ofKind = attempts.Where(a => Canonical(a.Type) == byKind.Key).ToList();
            var descriptor = kinds.Find(byKind.Key);
            var order = descriptor is null ? int.MaxValue : kinds.All.ToList().IndexOf(descriptor);
            lines.Add((order, Line($"{kinds.DisplayName(byKind.Key)} delivery", ofKind.Sum(a => a.Count), ofKind.Where(a => a.Sent).Sum(a => a.Count), now - oldestDue)));
        }

        var events = await db.WebhookDeliveries.AsNoTracking()
            .Where(w => w.UpdatedAt >= since && w.Attempts > 0)
            .GroupBy(w => w.Status == WebhookDeliveryStatus.Sent)
            .Select(g => new { Sent = g.Key, Count = g.Count() })
            .ToListAsync(ct);
        var eventDue = await db.WebhookDeliveries.AsNoTracking()
            .Where(w => w.Status == WebhookDeliveryStatus.Retrying && w.NextRetryAt <= now)
            .OrderBy(w => w.NextRetryAt)
            .Select(w => w.NextRetryAt)
            .FirstOrDefaultAsync(ct);
        return
        [
            .. lines.OrderBy(l => l.Order).ThenBy(l => l.Status.Name, StringComparer.Ordinal).Select(l => l.Status),
            Line("Event webhooks", events.Sum(e => e.Count), events.Where(e => e.Sent).Sum(e => e.Count), now - eventDue),
        ];
    }

    private ComponentStatus Line(string name, int attempts, int succeeded, TimeSpan? lag)
    {
        var waited = lag is { } l && l > TimeSpan.Zero ? l : TimeSpan.Zero;
        var state = StatusThresholds.Of(attempts, succeeded, waited);
        return options.Value.ShowFigures
            ? new ComponentStatus(name, state, attempts >= StatusThresholds.MinAttempts ? succeeded * 100 / attempts : null, (int)waited.TotalMinutes)
            : new ComponentStatus(name, state);
    }

    private string Canonical(string type) => kinds.Find(type)?.Kind ?? type;

    private static string StateOf(HealthReport report, string check) => report.Entries.TryGetValue(check, out var entry)
        ? entry.Status switch
        {
            HealthStatus.Healthy => ComponentStates.Operational,
            HealthStatus.Degraded => ComponentStates.Degraded,
            _ => ComponentStates.Down,
        }
        : ComponentStates.Operational;

    [LoggerMessage(Level = LogLevel.Warning, Message = "The status page could not read the deliveries: {Reason}")]
    private static partial void LogUnreadable(ILogger logger, string reason);
}
