using System.Text.Json;
using Apertur.Destinations;
using Apertur.Server.Data;
using Apertur.Server.Destinations;
using Apertur.Server.Events;
using Apertur.Server.Hosting;
using Apertur.Server.Projects;
using Apertur.Server.Queues;
using Apertur.Server.Storage;
using Apertur.Server.Telemetry;
using Microsoft.Extensions.Options;

namespace Apertur.Server.Deliveries;

/// <summary>
/// Drains the delivery outbox (docs/architecture.md "How a delivery flows") on the one lease loop (<see cref="LeaseWorker{TWork, TOptions}"/>):
/// claimed deliveries go through their destination's adapter, up to <see cref="DeliveryOptions.Concurrency"/> at once, and
/// each outcome goes to the <see cref="DeliveryRecorder"/>. It wakes on a nudge (an upload or a retry committed) or every
/// poll interval. On shutdown the attempts in flight are cancelled and their leases released untried; if the process dies
/// instead, the leases expire and another claim picks the deliveries up again.
/// </summary>
public sealed partial class DeliveryWorker(IServiceScopeFactory scopes, DestinationConfigs configs, ProjectSigningProvider signing, DeliveryNudge nudge, DeliveryRecorder recorder, DestinationRegistry adapters,
    IImageStore store, DownloadLinks links, DeliveryImageProcessing images, SessionEventHub events, AperturMetrics metrics, TimeProvider time, IOptions<DeliveryOptions> options,
    IOptions<WorkersOptions> workers, ILogger<DeliveryWorker> logger)
    : LeaseWorker<DeliveryWork, DeliveryOptions>(scopes, nudge, time, options, workers, logger)
{
    /// <summary>
    /// The delivery outbox as a lease table: <c>pending</c>/<c>retrying</c> rows whose time came, or <c>sending</c> rows
    /// whose lease ran out (their worker died), become <c>sending</c> under the claim's lease.
    /// </summary>
    public static readonly LeaseTable Outbox = new(
        Table: "deliveries",
        Due: "(status IN ('pending', 'retrying') AND next_attempt_at <= @now) OR (status = 'sending' AND lease_expires_at < @now)",
        OrderBy: "next_attempt_at",
        Claim: "status = 'sending', lease_token = @token, lease_expires_at = @until, updated_at = @now");

    private Task? _recording;

    protected override LeaseTable Table => Outbox;

    protected override string Name => "deliveries";

    protected override Task StartingAsync()
    {
        _recording = recorder.RunAsync();
        return Task.CompletedTask;
    }

    protected override async Task StoppedAsync()
    {
        recorder.Complete();
        if (_recording is not null)
        {
            await _recording;
        }
    }

    protected override async Task<IReadOnlyList<DeliveryWork>> LoadAsync(IServiceProvider scope, LeaseClaim claim) =>
        await DeliveryWork.LoadAsync(scope.GetRequiredService<AperturDb>(), claim, CancellationToken.None);

    protected override Task RunAsync(DeliveryWork work, Guid leaseToken, CancellationToken stopping) => AttemptAndRecordAsync(work, leaseToken, stopping);

    private async Task AttemptAndRecordAsync(DeliveryWork work, Guid leaseToken, CancellationToken stopping)
    {
        var delivery = work.Delivery;
        // A child of the upload's commit span (its traceparent stored with the image): one trace from upload to each attempt.
        using var span = AperturTelemetry.StartContinuing("apertur.delivery.attempt", work.Image.TraceParent);
        span?.SetTag("apertur.image.id", work.Image.Id.ToString());
        span?.SetTag("apertur.delivery.id", delivery.Id.ToString());
        var started = Iso.Millis(Time.GetUtcNow());
        var clock = Time.GetTimestamp();
        if (work.Image.BytesDeletedAt is not null)
        {
            // The image's bytes were deleted (its session deleted, or retention) after this delivery was queued or requeued:
            // nothing is sent anywhere; the delivery ends cancelled, not failed (no failure e-mail).
            var cancelled = DeliveryOutcome.Cancelled(delivery.Attempts, delivery.FirstAttemptAt, DeliveryOutcome.CancelledBecause(work.Image.BytesDeletedReason), started);
            await recorder.RecordAsync(new RecordedAttempt(work, leaseToken, started, TimeSpan.Zero, cancelled));
            return;
        }
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
            LogAttemptCrashed(Logger, e, delivery.Id, work.Destination?.Name ?? "?", delivery.Attempts + 1);
            outcome = DeliveryOutcome.After(OptionsFor(work), delivery.Attempts, delivery.FirstAttemptAt, started, Iso.Millis(Time.GetUtcNow()),
                new DeliveryResult.RetryLater($"Internal error: {e.Message}"), Random.Shared.NextDouble());
        }
        span?.SetTag("apertur.delivery.outcome", outcome.Status);
        // Counted before the outcome is written: whoever sees the delivery sent already sees it counted.
        metrics.DeliveryAttempt(work.Destination?.Type ?? "deleted", outcome.Status, Time.GetUtcNow() - work.Image.CreatedAt);
        await recorder.RecordAsync(new RecordedAttempt(work, leaseToken, started, Time.GetElapsedTime(clock), outcome));
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
            LogNoAdapter(Logger, delivery.Id, destination.Name, destination.Type);
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
            if (request is null)
            {
                result = new DeliveryResult.Rejected("The destination's config cannot be read (not valid JSON, or its secrets cannot be decrypted with this master key)");
            }
            else
            {
                // The destination's image options (convert, strip, resize), applied here and only here; the bytes as delivered.
                using var prepared = await images.PrepareAsync(request, stopping);
                result = prepared.Failure ?? await adapter.DeliverAsync(prepared.Request!, stopping);
            }
        }
        return DeliveryOutcome.After(o, delivery.Attempts, delivery.FirstAttemptAt, started, Iso.Millis(Time.GetUtcNow()), result, Random.Shared.NextDouble());
    }

    /// <summary>The delivery settings with the project's own retry window, when it set one.</summary>
    private DeliveryOptions OptionsFor(DeliveryWork work) => Projects.ProjectDefaults.RetryWindowOf(Options, work.Project.RetryWindowMinutes);

    private async Task ReleaseAsync(Guid deliveryId, Guid leaseToken)
    {
        try
        {
            await using var scope = Scopes.CreateAsyncScope();
            await DeliveryRecorder.ReleaseAsync(scope.ServiceProvider.GetRequiredService<AperturDb>(), deliveryId, leaseToken, Time.GetUtcNow(), CancellationToken.None);
            LogReleased(Logger, deliveryId);
        }
        catch (Exception e)
        {
            // The lease expires on its own; the delivery is claimed again then.
            LogReleaseFailed(Logger, e, deliveryId);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Delivery {DeliveryId} to {Destination} crashed on attempt {Attempt}")]
    private static partial void LogAttemptCrashed(ILogger logger, Exception exception, Guid deliveryId, string destination, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery {DeliveryId} to {Destination} waits: no adapter for {Kind} is installed in this version")]
    private static partial void LogNoAdapter(ILogger logger, Guid deliveryId, string destination, string kind);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Released delivery {DeliveryId} untried: the server is stopping")]
    private static partial void LogReleased(ILogger logger, Guid deliveryId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not release delivery {DeliveryId} at shutdown; its lease will expire")]
    private static partial void LogReleaseFailed(ILogger logger, Exception exception, Guid deliveryId);
}
