using Apertur.Server.Hosting;
using Apertur.Server.Queues;
using Microsoft.Extensions.Options;

namespace Apertur.Server.Retention;

public static class RetentionServices
{
    /// <summary>The retention settings, the sweep of image bytes and the purge of records, each every <c>Apertur:Retention:SweepInterval</c>.</summary>
    public static IServiceCollection AddRetention(this IServiceCollection services)
    {
        services.AddSettings<RetentionOptions>(RetentionOptions.Section);
        services.AddSingleton<ImageRetention>();
        services.AddHostedService<RetentionSweep>();
        services.AddSingleton<RecordPurge>();
        services.AddHostedService<RecordPurgeJob>();
        return services;
    }
}

/// <summary>The periodic retention pass (docs/operations.md "Periodic jobs"): image bytes past their retention, batch by batch.</summary>
public sealed class RetentionSweep(ImageRetention images, TimeProvider time, IOptions<RetentionOptions> options, IOptions<WorkersOptions> workers,
    IJobLock jobs, ILogger<RetentionSweep> logger)
    : PeriodicJob(Jobs.Retention, "Retention sweep", time, workers, jobs, logger)
{
    protected override TimeSpan Interval => options.Value.SweepInterval;

    protected override async Task RunPassAsync(CancellationToken ct)
    {
        while (await images.SweepAsync(ct) == ImageRetention.BatchSize)
        {
        }
    }
}

/// <summary>The periodic purge of records (docs/operations.md "Periodic jobs"): sessions, images, deliveries and events past <c>Records</c>.</summary>
public sealed class RecordPurgeJob(RecordPurge purge, TimeProvider time, IOptions<RetentionOptions> options, IOptions<WorkersOptions> workers,
    IJobLock jobs, ILogger<RecordPurgeJob> logger)
    : PeriodicJob(Jobs.RecordPurge, "Record purge", time, workers, jobs, logger)
{
    protected override TimeSpan Interval => options.Value.SweepInterval;

    protected override Task RunPassAsync(CancellationToken ct) => purge.PurgeAsync(ct);
}
