using Apertur.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Apertur.Server.Queues;

/// <summary>
/// Settings section <c>Apertur:Workers</c>: whether this process runs the background workers (the delivery worker, the
/// failure notifier, the event delivery worker and the session expiry sweep). The API keeps writing the outboxes either
/// way, so replicas can split serving from relaying.
/// </summary>
public sealed class WorkersOptions : ISettings
{
    public const string Section = "Apertur:Workers";

    /// <summary>Whether this process runs the background workers (default true).</summary>
    public bool Enabled { get; set; } = true;

    public IReadOnlyList<string> Problems() => [];
}

public static class QueueServices
{
    /// <summary>
    /// The lease queue and the workers' switch; called by each feature that has an outbox (once is enough, twice is
    /// harmless). The per-database <see cref="LeaseDialect"/> is registered with the provider in <c>Data/DataServices.cs</c>.
    /// </summary>
    public static IServiceCollection AddLeaseQueue(this IServiceCollection services)
    {
        if (services.Any(d => d.ServiceType == typeof(LeaseQueue)))
        {
            return services;
        }
        services.AddScoped<LeaseQueue>();
        services.AddSettings<WorkersOptions>(WorkersOptions.Section)
            .Renamed("Apertur:Delivery:WorkerEnabled", "Apertur:Workers:Enabled (it turns off every background worker of this process)");
        return services;
    }

    /// <summary>
    /// Stops the start when configuration still sets a setting under its old name, with one line naming the new one:
    /// an old name silently ignored would change what the server does without a word.
    /// </summary>
    public static OptionsBuilder<T> Renamed<T>(this OptionsBuilder<T> builder, string oldKey, string newKey) where T : class =>
        builder.Validate<IConfiguration>((_, configuration) => configuration[oldKey] is null,
            $"{oldKey} is no longer read: it was renamed; use {newKey}.");
}
