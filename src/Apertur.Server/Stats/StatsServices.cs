namespace Apertur.Server.Stats;

public static class StatsServices
{
    /// <summary>Usage counts, for the stats API and the dashboard's charts.</summary>
    public static IServiceCollection AddStats(this IServiceCollection services) => services.AddScoped<UsageStats>();
}
