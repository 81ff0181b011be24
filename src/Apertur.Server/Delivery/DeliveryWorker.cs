using System.Collections.Concurrent;
using System.Text.Json;
using Apertur.Destinations;
using Apertur.Server.Data;
using Apertur.Server.Destinations;
using Apertur.Server.Events;
using Apertur.Server.Hosting;
using Apertur.Server.Projects;
using Apertur.Server.Storage;
using Microsoft.Extensions.Options;

namespace Apertur.Server.Delivery;

/// <summary>
/// Drains the delivery outbox (docs/architecture.md "How a delivery flows"): claims due deliveries under a lease, runs up to
/// <see cref="DeliveryOptions.Concurrency"/> at once through their destination's adapter, and hands each outcome to the
/// <see cref="DeliveryRecorder"/>. It wakes on a nudge (an upload or a retry committed) or every poll interval. On
/// shutdown the attempts in flight are cancelled and their leases released untried; if the process dies instead, the
/// leases expire and another claim picks the deliveries up again.
/// </summary>
public sealed partial class DeliveryWorker(IServiceScopeFactory scopes, DestinationConfigs configs, ProjectSigningProvider signing, DeliveryNudge nudge, DeliveryRecorder recorder, DestinationRegistry adapters,
    IImageStore store, DownloadLinks links, SessionEventHub events, TimeProvider time, IOptions<DeliveryOptions> options, ILogger<DeliveryWorker> logger)
    : BackgroundService
{
    private readonly ConcurrentDictionary<Guid, Task> _inFlight = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var stopping = stoppingToken;
        var o = options.Value;
        if (!o.WorkerEnabled)
        {
            return;
        }
        await Task.Yield();
        var recording = recorder.RunAsync();
        // Under load, wait until a quarter of the slots are free so each claim takes a batch, not a row.
        var minimumClaim = Math.Max(1, o.Concurrency / 4);
        LogStarted(logger, o.Concurrency, o.PollInterval.TotalMilliseconds);
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                var free = o.Concurrency - _inFlight.Count;
                var claimed = 0;
                if (free >= minimumClaim)
                {
                    try
                    {
                        claimed = await ClaimAndStartAsync(free, o.Lease, stopping);
                    }
                    catch (Exception e) when (!stopping.IsCancellationRequested)
                    {
                        DatabaseUnavailable.LogJobFailure(logger, e, "Claiming due deliveries", LogClaimFailed);
                    }
                }
                // A full claim may mean more is due: look again at once; otherwise sleep until nudged or the poll interval.
                if (claimed == 0 || claimed < free)
                {
                    await nudge.WaitAsync(o.PollInterval, time, stopping);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Stopping.
        }
        await Task.WhenAll(_inFlight.Values);
        recorder.Complete();
        await recording;
    }

    private async Task<int> ClaimAndStartAsync(int max, TimeSpan lease, CancellationToken stopping)
    {
        await using var scope = scopes.CreateAsyncScope();
        var queue = scope.ServiceProvider.GetRequiredService<IDeliveryQueue>();
        // Not cancellable: a claim that committed must be loaded and started, or its leases would only expire.
        var claim = await queue.ClaimDueAsync(max, lease, CancellationToken.None);
        if (claim.DeliveryIds.Count == 0)
        {
            return 0;
        }
        var work = await DeliveryWork.LoadAsync(scope.ServiceProvider.GetRequiredService<AperturDb>(), claim, CancellationToken.None);
        foreach (var item in work)
        {
            var id = item.Delivery.Id;
            var task = Task.Run(() => RunAsync(item, claim.LeaseToken, stopping), CancellationToken.None);
            _inFlight[id] = task;
            // Removed after it was added, whatever the order of completion; the freed slot wakes the loop.
            _ = task.ContinueWith(_ =>
            {
                _inFlight.TryRemove(id, out Task? _);
                nudge.Poke();
            }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        }
        return claim.DeliveryIds.Count;
    }

    private async Task RunAsync(DeliveryWork work, Guid leaseToken, CancellationToken stopping)
    {
        var delivery = work.Delivery;
        var started = Iso.Millis(time.GetUtcNow());
        var clock = time.GetTimestamp();
        events.Publish(work.Session.Id, SessionEventNames.ImageDelivering,
            new { imageId = work.Image.Id.ToString(), destinationId = delivery.DestinationId.ToString() });
        DeliveryOutcome outcome;
        try
        {
            outcome = await AttemptAsync(work, started, stopping);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            await ReleaseAsync(delivery.Id, leaseToken);
            return;
        }
        catch (Exception e)
        {
            // Never lose a claimed delivery to a bug: count it as a failed attempt and let the schedule retry it.
            LogAttemptCrashed(logger, e, delivery.Id, work.Destination?.Name ?? "?", delivery.Attempts + 1);
            outcome = DeliveryOutcome.After(OptionsFor(work), delivery.Attempts, delivery.FirstAttemptAt, started, Iso.Millis(time.GetUtcNow()),
                new DeliveryResult.RetryLater($"Internal error: {e.Message}"), Random.Shared.NextDouble());
        }
        await recorder.RecordAsync(new RecordedAttempt(work, leaseToken, started, time.GetElapsedTime(clock), outcome));
    }

    /// <summary>One attempt through the destination's adapter; a deleted or disabled destination fails without one.</summary>
    private async Task<DeliveryOutcome> AttemptAsync(DeliveryWork work, DateTimeOffset started, CancellationToken stopping)
    {
        var o = OptionsFor(work);
        var delivery = work.Delivery;
        var destination = work.Destination;
        DeliveryResult result;
        if (destination is null)
        {
            result = new DeliveryResult.Rejected("Destination deleted");
        }
        else if (!destination.IsActive)
        {
            result = new DeliveryResult.Rejected("Destination disabled");
        }
        else if (adapters.Find(destination.Type) is not { } adapter)
        {
            LogNoAdapter(logger, delivery.Id, destination.Name, destination.Type);
            return DeliveryOutcome.NoAdapter(o, delivery.Attempts, delivery.FirstAttemptAt, destination.Type, started);
        }
        else
        {
            DeliveryRequest? request;
            try
            {
                request = work.ToRequest(destination, configs.Reveal(destination.Config), signing.For(work.Project, started), store, links.For(work.Image.Id));
            }
            catch (Exception e) when (e is JsonException or System.Security.Cryptography.CryptographicException)
            {
                // A config or webhook secret that cannot be read or decrypted (lost master key) is reported as such, not retried blindly.
                request = null;
            }
            result = request is null
                ? new DeliveryResult.Rejected("The destination's config cannot be read (not valid JSON, or its secrets cannot be decrypted with this master key)")
                : await adapter.DeliverAsync(request, stopping);
        }
        return DeliveryOutcome.After(o, delivery.Attempts, delivery.FirstAttemptAt, started, Iso.Millis(time.GetUtcNow()), result, Random.Shared.NextDouble());
    }

    /// <summary>The delivery settings with the project's own retry window, when it set one.</summary>
    private DeliveryOptions OptionsFor(DeliveryWork work) => Projects.ProjectDefaults.RetryWindowOf(options.Value, work.Project.RetryWindowMinutes);

    private async Task ReleaseAsync(Guid deliveryId, Guid leaseToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            using var writing = await scope.ServiceProvider.GetRequiredService<WriteGate>().EnterAsync(CancellationToken.None);
            await DeliveryRecorder.ReleaseAsync(scope.ServiceProvider.GetRequiredService<AperturDb>(), deliveryId, leaseToken, time.GetUtcNow(), CancellationToken.None);
            LogReleased(logger, deliveryId);
        }
        catch (Exception e)
        {
            // The lease expires on its own; the delivery is claimed again then.
            LogReleaseFailed(logger, e, deliveryId);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Delivery worker started: {Concurrency} at once, polling every {PollMs} ms")]
    private static partial void LogStarted(ILogger logger, int concurrency, double pollMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "Claiming due deliveries failed; trying again at the next poll")]
    private static partial void LogClaimFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Delivery {DeliveryId} to {Destination} crashed on attempt {Attempt}")]
    private static partial void LogAttemptCrashed(ILogger logger, Exception exception, Guid deliveryId, string destination, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery {DeliveryId} to {Destination} waits: no adapter for {Kind} is installed in this version")]
    private static partial void LogNoAdapter(ILogger logger, Guid deliveryId, string destination, string kind);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Released delivery {DeliveryId} untried: the server is stopping")]
    private static partial void LogReleased(ILogger logger, Guid deliveryId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not release delivery {DeliveryId} at shutdown; its lease will expire")]
    private static partial void LogReleaseFailed(ILogger logger, Exception exception, Guid deliveryId);
}
