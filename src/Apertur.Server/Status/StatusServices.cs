using Apertur.Server.Hosting;

namespace Apertur.Server.Status;

/// <summary>The public status page (docs/operations.md "Status page"): its settings, the cached component states, incidents.</summary>
public static class StatusServices
{
    public static IServiceCollection AddStatus(this IServiceCollection services)
    {
        services.AddSettings<StatusOptions>(StatusOptions.Section);
        services.AddSingleton<StatusService>();
        services.AddScoped<IncidentService>();
        return services;
    }
}
