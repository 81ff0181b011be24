namespace Apertur.Server.Destinations;

public static class DestinationsServices
{
    /// <summary>
    /// A project's destinations: configs with their secrets protected, revealed for adapters and masked in answers, and
    /// what the API and dashboard share (create, change, delete, test). The adapters themselves are <c>AddOutbound</c>'s.
    /// </summary>
    public static IServiceCollection AddDestinations(this IServiceCollection services)
    {
        services.AddSingleton<DestinationConfigs>();
        services.AddScoped<DestinationService>();
        return services;
    }
}
