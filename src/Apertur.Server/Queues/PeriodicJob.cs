using Apertur.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Apertur.Server.Queues;

/// <summary>
/// The one loop of periodic background work: a run at start, then one every <see cref="Interval"/>, a failed run logged
/// (one line while the database is unavailable) and tried again at the next interval. <see cref="PeriodicJob"/> is the
/// shared work of a deployment (workers switch, one replica at a time); a direct subclass is per-process work that runs in
/// every process (e.g. Hosting/IdleCollection.cs).
/// </summary>
public abstract partial class PeriodicLoop(string name, TimeProvider time, ILogger logger) : BackgroundService
{
    private static readonly TimeSpan MaxStep = TimeSpan.FromDays(1);

    protected TimeProvider Time => time;

    /// <summary>How long to wait after a run before the next one.</summary>
    protected abstract TimeSpan Interval { get; }

    /// <summary>False: the loop does not start in this process.</summary>
    protected abstract bool Enabled { get; }

    /// <summary>One run.</summary>
    protected abstract Task RunOnceAsync(CancellationToken ct);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Enabled)
        {
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunOnceAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                DatabaseUnavailable.LogJobFailure(logger, e, name, (l, failure) => LogPassFailed(l, failure, name));
            }
            try
            {
                // Task.Delay takes at most about 49 days: a longer interval is waited in steps of a day.
                for (var left = Interval; left > TimeSpan.Zero; left -= MaxStep)
                {
                    await Task.Delay(left < MaxStep ? left : MaxStep, time, stoppingToken);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{Job} failed; trying again at the next interval")]
    private static partial void LogPassFailed(ILogger logger, Exception exception, string job);
}

/// <summary>
/// Background work that runs a pass every <see cref="PeriodicLoop.Interval"/>: one replica at a time (<see cref="IJobLock"/>,
/// docs/scale-out.md "Periodic jobs"), off when <c>Apertur:Workers:Enabled</c> is false. A job is a subclass and one
/// <c>AddHostedService</c>.
/// </summary>
public abstract class PeriodicJob(string job, string name, TimeProvider time, IOptions<WorkersOptions> workers, IJobLock jobs, ILogger logger)
    : PeriodicLoop(name, time, logger)
{
    protected sealed override bool Enabled => workers.Value.Enabled;

    /// <summary>One pass; it loops over batches until there is nothing left to do now.</summary>
    protected abstract Task RunPassAsync(CancellationToken ct);

    /// <summary>Work on this replica's own files (its temp directory): every interval on every replica, outside the lock, before the pass.</summary>
    protected virtual Task RunOnThisReplicaAsync(CancellationToken ct) => Task.CompletedTask;

    protected sealed override async Task RunOnceAsync(CancellationToken ct)
    {
        await RunOnThisReplicaAsync(ct);
        await jobs.TryRunAsync(job, RunPassAsync, ct);
    }
}
