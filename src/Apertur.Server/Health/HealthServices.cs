using Apertur.Server.Data;
using Apertur.Server.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Apertur.Server.Health;

/// <summary>
/// The readiness checks behind <c>GET /healthz/ready</c> (docs/scale-out.md "Readiness"), with the framework's health checks:
/// each named check answers for one thing a replica needs to take traffic. A new check is one more <c>AddCheck</c> here.
/// </summary>
public static class HealthServices
{
    /// <summary>How long one check may take before it counts as failed: a balancer's probe must get an answer.</summary>
    public static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(5);

    public static IServiceCollection AddHealth(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<DatabaseCheck>("database", timeout: CheckTimeout)
            .AddCheck<StorageCheck>("storage", timeout: CheckTimeout);
        return services;
    }
}

/// <summary>
/// A readiness check that passes when its probe completes: a probe that throws fails it with <see cref="Failure"/> as the
/// public description, and the reason goes to the log only (the answer is public and says no more than which check failed).
/// </summary>
public abstract partial class ProbeCheck(ILogger logger) : IHealthCheck
{
    /// <summary>The sentence a failed check answers, e.g. "The database cannot be used."</summary>
    protected abstract string Failure { get; }

    protected abstract Task ProbeAsync(CancellationToken ct);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await ProbeAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogFailed(logger, Failure, e.GetBaseException().Message);
            return HealthCheckResult.Unhealthy(Failure);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Readiness check failed: {Failure} ({Reason})")]
    private static partial void LogFailed(ILogger logger, string failure, string reason);
}

/// <summary>The database answers a query.</summary>
public sealed class DatabaseCheck(IServiceScopeFactory scopes, ILogger<DatabaseCheck> logger) : ProbeCheck(logger)
{
    protected override string Failure => "The database cannot be used.";

    protected override async Task ProbeAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
        await db.Database.SqlQueryRaw<int>("SELECT 1 AS \"Value\"").SingleAsync(ct);
    }
}

/// <summary>The image store takes a write, gives it back and deletes it (<see cref="IImageStore.ProbeAsync"/>).</summary>
public sealed class StorageCheck(IImageStore store, ILogger<StorageCheck> logger) : ProbeCheck(logger)
{
    protected override string Failure => "The image store cannot take images.";

    protected override Task ProbeAsync(CancellationToken ct) => store.ProbeAsync(ct);
}
