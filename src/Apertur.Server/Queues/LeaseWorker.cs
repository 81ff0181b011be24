using System.Collections.Concurrent;
using Apertur.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Apertur.Server.Queues;

/// <summary>The settings every lease worker has, under the same names in each section (README, "Configuration").</summary>
public interface ILeaseWorkerOptions
{
    /// <summary>Items in flight at once in this process, from claim to recorded outcome.</summary>
    int Concurrency { get; }

    /// <summary>How often the worker looks for due items when nothing nudges it.</summary>
    TimeSpan PollInterval { get; }

    /// <summary>How long a claim holds an item; a worker that dies loses it after this (more than an attempt).</summary>
    TimeSpan Lease { get; }

    /// <summary>How long one attempt may take.</summary>
    TimeSpan AttemptTimeout { get; }
}

/// <summary>The problems of the four settings every lease worker has, in the words of <c>Hosting/SettingsValidation.cs</c>.</summary>
public static class LeaseWorkerSettings
{
    public static IEnumerable<string> Problems(string section, ILeaseWorkerOptions o, int maxConcurrency, TimeSpan leaseMargin)
    {
        if (o.Concurrency < 1 || o.Concurrency > maxConcurrency)
        {
            yield return $"{section}:{nameof(o.Concurrency)} must be 1-{maxConcurrency} (got {o.Concurrency}).";
        }
        if (o.PollInterval <= TimeSpan.Zero)
        {
            yield return $"{section}:{nameof(o.PollInterval)} must be positive (got {o.PollInterval}).";
        }
        if (o.AttemptTimeout <= TimeSpan.Zero)
        {
            yield return $"{section}:{nameof(o.AttemptTimeout)} must be positive (got {o.AttemptTimeout}).";
        }
        else if (o.Lease <= o.AttemptTimeout + leaseMargin)
        {
            yield return $"{section}:{nameof(o.Lease)} must be longer than {nameof(o.AttemptTimeout)} ({o.AttemptTimeout})"
                + (leaseMargin > TimeSpan.Zero ? $" by more than {leaseMargin.TotalSeconds:0} s" : "") + $" (got {o.Lease}).";
        }
    }
}

/// <summary>
/// The one relay loop of the outboxes (docs/architecture.md "The lease queue"): claims up to the free slots' worth of due
/// rows of <see cref="Table"/> through <see cref="LeaseQueue"/>, runs each claimed item concurrently, and claims again
/// when a quarter of the slots are free, when nudged, or every poll interval. A failed claim is logged as one line when
/// the database is unavailable (<see cref="DatabaseUnavailable.LogJobFailure"/>) and tried again at the next poll. On
/// shutdown the attempts in flight get the cancelled token: what they do with it (release the row, or leave its lease to
/// expire) is the feature's. Off when <c>Apertur:Workers:Enabled</c> is false.
/// </summary>
public abstract partial class LeaseWorker<TWork, TOptions>(IServiceScopeFactory scopes, Nudge nudge, TimeProvider time, IOptions<TOptions> options,
    IOptions<WorkersOptions> workers, ILogger logger) : BackgroundService
    where TOptions : class, ILeaseWorkerOptions
{
    private readonly ConcurrentDictionary<long, Task> _inFlight = new();
    private long _next;
    private long _lastLookedTicks;

    /// <summary>The outbox this worker drains.</summary>
    protected abstract LeaseTable Table { get; }

    /// <summary>What the logs call the rows ("deliveries", "event deliveries").</summary>
    protected abstract string Name { get; }

    protected TOptions Options => options.Value;

    /// <summary>
    /// When the loop last looked for due items (the start, then each claim, whether it returned or failed), by the
    /// <see cref="TimeProvider"/>; null before it started. It stops moving while every slot is taken: a loop whose attempts
    /// never return, or that hangs, shows here (the readiness check <c>delivery</c>, Health/HealthServices.cs).
    /// </summary>
    public DateTimeOffset? LastLookedAt => Volatile.Read(ref _lastLookedTicks) is var ticks and > 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

    protected IServiceScopeFactory Scopes => scopes;

    protected TimeProvider Time => time;

    protected ILogger Logger => logger;

    /// <summary>Loads a committed claim's items. Runs with no cancellation: a claim that committed must be started, or its leases would only expire.</summary>
    protected abstract Task<IReadOnlyList<TWork>> LoadAsync(IServiceProvider scope, LeaseClaim claim);

    /// <summary>One attempt and its record. <paramref name="stopping"/> fires at shutdown.</summary>
    protected abstract Task RunAsync(TWork work, Guid leaseToken, CancellationToken stopping);

    /// <summary>Before the first claim (e.g. start an outcome writer).</summary>
    protected virtual Task StartingAsync() => Task.CompletedTask;

    /// <summary>Once the attempts in flight have all returned.</summary>
    protected virtual Task StoppedAsync() => Task.CompletedTask;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!workers.Value.Enabled)
        {
            return;
        }
        Looked();
        await Task.Yield();
        var o = Options;
        await StartingAsync();
        // Under load, wait until a quarter of the slots are free so each claim takes a batch, not a row.
        var minimumClaim = Math.Max(1, o.Concurrency / 4);
        LogStarted(logger, Name, o.Concurrency, o.PollInterval.TotalMilliseconds);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var free = o.Concurrency - _inFlight.Count;
                var claimed = 0;
                if (free >= minimumClaim)
                {
                    try
                    {
                        claimed = await ClaimAndStartAsync(free, o.Lease, stoppingToken);
                    }
                    catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                    {
                        DatabaseUnavailable.LogJobFailure(logger, e, $"Claiming due {Name}", (l, ex) => LogClaimFailed(l, ex, Name));
                    }
                    Looked();
                }
                // A full claim may mean more is due: look again at once; otherwise sleep until nudged or the poll interval.
                if (claimed == 0 || claimed < free)
                {
                    await nudge.WaitAsync(o.PollInterval, time, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
        await Task.WhenAll(_inFlight.Values);
        await StoppedAsync();
    }

    private void Looked() => Volatile.Write(ref _lastLookedTicks, time.GetUtcNow().UtcTicks);

    private async Task<int> ClaimAndStartAsync(int max, TimeSpan lease, CancellationToken stopping)
    {
        IReadOnlyList<TWork> work;
        LeaseClaim claim;
        await using (var scope = scopes.CreateAsyncScope())
        {
            // Not cancellable: a claim that committed must be loaded and started, or its leases would only expire.
            claim = await scope.ServiceProvider.GetRequiredService<LeaseQueue>().ClaimAsync(Table, max, lease, CancellationToken.None);
            if (claim.Ids.Count == 0)
            {
                return 0;
            }
            work = await LoadAsync(scope.ServiceProvider, claim);
        }
        foreach (var item in work)
        {
            var key = Interlocked.Increment(ref _next);
            var task = Task.Run(() => RunGuardedAsync(item, claim.LeaseToken, stopping), CancellationToken.None);
            _inFlight[key] = task;
            // Removed after it was added, whatever the order of completion; the freed slot wakes the loop.
            _ = task.ContinueWith(_ =>
            {
                _inFlight.TryRemove(key, out Task? _);
                nudge.PokeHere();
            }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        }
        return claim.Ids.Count;
    }

    private async Task RunGuardedAsync(TWork item, Guid leaseToken, CancellationToken stopping)
    {
        try
        {
            await RunAsync(item, leaseToken, stopping);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Shutdown: the row's lease expires and it is claimed again.
        }
        catch (Exception e)
        {
            // One broken item does not stop the others; its lease runs out and it is tried again.
            LogAttemptFailed(logger, e, Name);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Worker for {Name} started: {Concurrency} at once, polling every {PollMs} ms")]
    private static partial void LogStarted(ILogger logger, string name, int concurrency, double pollMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "Claiming due {Name} failed; trying again at the next poll")]
    private static partial void LogClaimFailed(ILogger logger, Exception exception, string name);

    [LoggerMessage(Level = LogLevel.Error, Message = "An attempt of {Name} failed unexpectedly; it is tried again when its lease runs out")]
    private static partial void LogAttemptFailed(ILogger logger, Exception exception, string name);
}
