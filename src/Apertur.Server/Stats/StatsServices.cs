using Apertur.Server.Hosting;

namespace Apertur.Server.Stats;

public static class StatsServices
{
    /// <summary>Usage counts, for the stats API and the dashboard's charts, and the roll-up of their deltas (<c>Apertur:Usage</c>).</summary>
    public static IServiceCollection AddStats(this IServiceCollection services)
    {
        services.AddSettings<UsageOptions>(UsageOptions.Section);
        services.AddSingleton<UsageRollup>();
        services.AddHostedService<UsageRollupJob>();
        return services.AddScoped<UsageStats>();
    }
}
