using System.Globalization;
using Apertur.Server.Data;
using Apertur.Server.Deliveries;
using Apertur.Server.Queues;
using Apertur.Server.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Apertur.Server.Health;

/// <summary>
/// The readiness checks behind <c>GET /healthz/ready</c> (docs/operations.md "Health", docs/scale-out.md "Readiness"), with the
/// framework's health checks: each named check answers for one thing a replica needs to take traffic. An unhealthy check
/// answers 503; a degraded one (the server works, with less) still 200. A new check is one more <c>AddCheck</c> here.
/// </summary>
public static class HealthServices
{
    /// <summary>How long one check may take before it counts as failed: a balancer's probe must get an answer.</summary>
    public static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(5);

    public static IServiceCollection AddHealth(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<DatabaseCheck>("database", timeout: CheckTimeout)
            .AddCheck<StorageCheck>("storage", timeout: CheckTimeout)
            .AddCheck<DeliveryCheck>("delivery", timeout: CheckTimeout);
        return services;
    }
}

/// <summary>
/// A readiness check whose probe gives its result: a probe that throws fails it with <see cref="Failure"/> as the public
/// description, and the reason goes to the log only (the answer is public and says no more than which check failed).
/// </summary>
public abstract partial class ProbeCheck(ILogger logger) : IHealthCheck
{
    /// <summary>The sentence a failed check answers, e.g. "The database cannot be used."</summary>
    protected abstract string Failure { get; }

    protected abstract Task<HealthCheckResult> ProbeAsync(CancellationToken ct);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var result = await ProbeAsync(cancellationToken);
            if (result.Status == HealthStatus.Unhealthy)
            {
                LogUnhealthy(logger, result.Description ?? Failure);
            }
            return result;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogFailed(logger, Failure, e.GetBaseException().Message);
            return HealthCheckResult.Unhealthy(Failure);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Readiness check failed: {Failure} ({Reason})")]
    private static partial void LogFailed(ILogger logger, string failure, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Readiness check failed: {Failure}")]
    private static partial void LogUnhealthy(ILogger logger, string failure);
}

/// <summary>The database answers a query.</summary>
public sealed class DatabaseCheck(IServiceScopeFactory scopes, ILogger<DatabaseCheck> logger) : ProbeCheck(logger)
{
    protected override string Failure => "The database cannot be used.";

    protected override async Task<HealthCheckResult> ProbeAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
        await db.Database.SqlQueryRaw<int>("SELECT 1 AS \"Value\"").SingleAsync(ct);
        return HealthCheckResult.Healthy();
    }
}

/// <summary>
/// The image store takes a write, gives it back and deletes it (<see cref="IImageStore.ProbeAsync"/>). Degraded, not failed,
/// while the free space is below <c>Apertur:Storage:MinFreeBytes</c> (<see cref="FreeSpace"/>): uploads are refused with 507
/// then, but everything else works, and another replica on the same storage would be as full (docs/operations.md "Health").
/// </summary>
public sealed class StorageCheck(IImageStore store, FreeSpace freeSpace, ILogger<StorageCheck> logger) : ProbeCheck(logger)
{
    protected override string Failure => "The image store cannot take images.";

    protected override async Task<HealthCheckResult> ProbeAsync(CancellationToken ct)
    {
        await store.ProbeAsync(ct);
        return freeSpace.Low() is null
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Degraded("Free space is below Apertur:Storage:MinFreeBytes: uploads are refused (507) until space is freed; deliveries go on.");
    }
}

/// <summary>
/// The delivery worker of this replica runs and is not stuck (docs/operations.md "Health"). Passes, saying so, when
/// <c>Apertur:Workers:Enabled</c> is false (a replica that only serves; others deliver). Fails when the worker has stopped,
/// or when its loop has not looked for due deliveries (<see cref="LeaseWorker{TWork, TOptions}.LastLookedAt"/>) for longer
/// than a lease plus the poll interval while a delivery has been due for as long; degraded when it is that quiet with
/// nothing waiting. Costs nothing while the loop is looking, else one query on the due index.
/// </summary>
public sealed class DeliveryCheck(DeliveryWorker worker, IOptions<WorkersOptions> workers, IOptions<DeliveryOptions> options, IServiceScopeFactory scopes,
    TimeProvider time, ILogger<DeliveryCheck> logger) : ProbeCheck(logger)
{
    protected override string Failure => "The delivery worker's state cannot be read.";

    protected override async Task<HealthCheckResult> ProbeAsync(CancellationToken ct)
    {
        if (!workers.Value.Enabled)
        {
            return HealthCheckResult.Healthy("Off on this replica (Apertur:Workers:Enabled=false): other replicas deliver.");
        }
        if (worker.ExecuteTask is { IsCompleted: true })
        {
            return HealthCheckResult.Unhealthy("The delivery worker has stopped.");
        }
        var now = time.GetUtcNow();
        var limit = options.Value.Lease + options.Value.PollInterval;
        var quiet = worker.LastLookedAt is { } looked ? now - looked : TimeSpan.Zero;
        if (quiet <= limit)
        {
            return HealthCheckResult.Healthy();
        }
        await using var scope = scopes.CreateAsyncScope();
        var oldestDue = await scope.ServiceProvider.GetRequiredService<AperturDb>().Deliveries.AsNoTracking()
            .Where(d => (d.Status == DeliveryStatus.Pending || d.Status == DeliveryStatus.Retrying) && d.NextAttemptAt <= now)
            .OrderBy(d => d.NextAttemptAt)
            .Select(d => (DateTimeOffset?)d.NextAttemptAt)
            .FirstOrDefaultAsync(ct);
        var waiting = oldestDue is { } due ? now - due : TimeSpan.Zero;
        return waiting > limit
            ? HealthCheckResult.Unhealthy($"The delivery worker is stuck: it has not looked for due deliveries for {Minutes(quiet)}, and a delivery has been due for {Minutes(waiting)}.")
            : HealthCheckResult.Degraded($"The delivery worker has not looked for due deliveries for {Minutes(quiet)}; none has been due that long.");
    }

    private static string Minutes(TimeSpan span) => string.Create(CultureInfo.InvariantCulture, $"{span.TotalMinutes:0} min");
}
