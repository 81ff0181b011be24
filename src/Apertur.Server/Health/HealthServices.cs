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

/// <summary>The database answers a query.</summary>
public sealed partial class DatabaseCheck(IServiceScopeFactory scopes, ILogger<DatabaseCheck> logger) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
            await db.Database.SqlQueryRaw<int>("SELECT 1 AS \"Value\"").SingleAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The reason goes to the log only: the readiness answer is public and says no more than which check failed.
            LogFailed(logger, e.GetBaseException().Message);
            return HealthCheckResult.Unhealthy("The database cannot be used.");
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Readiness: the database cannot be used ({Reason})")]
    private static partial void LogFailed(ILogger logger, string reason);
}

/// <summary>The image store takes a write, gives it back and deletes it (<see cref="IImageStore.ProbeAsync"/>).</summary>
public sealed partial class StorageCheck(IImageStore store, ILogger<StorageCheck> logger) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await store.ProbeAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogFailed(logger, e.GetBaseException().Message);
            return HealthCheckResult.Unhealthy("The image store cannot take images.");
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Readiness: the image store cannot take images ({Reason})")]
    private static partial void LogFailed(ILogger logger, string reason);
}
