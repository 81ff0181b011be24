using System.Diagnostics.Metrics;
using Apertur.Server.Data;
using Apertur.Server.Deliveries;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Telemetry;

/// <summary>
/// The delivery queue's figures behind the two gauges of <see cref="AperturMetrics"/>: deliveries waiting per destination
/// kind and the age of the oldest due one. Read from the database (so deployment-wide: every replica reports the same
/// figures), on the due index, at most once per <see cref="MaxAge"/> however often the endpoint is scraped. A read that
/// fails keeps the last figures and logs one line.
/// </summary>
public sealed partial class QueueFigures(IServiceScopeFactory scopes, TimeProvider time, ILogger<QueueFigures> logger)
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(5);

    private readonly Lock _lock = new();
    private Snapshot _last = new(DateTimeOffset.MinValue, [], 0);

    private sealed record Snapshot(DateTimeOffset ReadAt, List<(string Kind, int Count)> Waiting, double OldestDueSeconds);

    public IEnumerable<Measurement<long>> Waiting() =>
        Current().Waiting.Select(w => new Measurement<long>(w.Count, new KeyValuePair<string, object?>("kind", w.Kind)));

    public double OldestDueAge() => Current().OldestDueSeconds;

    private Snapshot Current()
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            if (now - _last.ReadAt >= MaxAge || now < _last.ReadAt)
            {
                try
                {
                    _last = Read(now);
                }
                catch (Exception e)
                {
                    LogReadFailed(logger, e.GetBaseException().Message);
                    _last = _last with { ReadAt = now };
                }
            }
            return _last;
        }
    }

    // Synchronous: a gauge's callback is; the lock makes concurrent scrapes share one read.
    private Snapshot Read(DateTimeOffset now)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
        var waiting = db.Deliveries.AsNoTracking()
            .Where(d => d.Status == DeliveryStatus.Pending || d.Status == DeliveryStatus.Retrying || d.Status == DeliveryStatus.Sending)
            .Join(db.Destinations, d => d.DestinationId, dest => dest.Id, (d, dest) => dest.Type)
            .GroupBy(kind => kind)
            .Select(g => new { Kind = g.Key, Count = g.Count() })
            .ToList();
        var oldestDue = db.Deliveries.AsNoTracking()
            .Where(d => (d.Status == DeliveryStatus.Pending || d.Status == DeliveryStatus.Retrying) && d.NextAttemptAt <= now)
            .OrderBy(d => d.NextAttemptAt)
            .Select(d => (DateTimeOffset?)d.NextAttemptAt)
            .FirstOrDefault();
        var age = oldestDue is { } due ? Math.Max(0, (now - due).TotalSeconds) : 0;
        return new Snapshot(now, waiting.Select(w => (w.Kind, w.Count)).ToList(), age);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The delivery queue's figures for the metrics could not be read ({Reason}); the last ones are reported")]
    private static partial void LogReadFailed(ILogger logger, string reason);
}
