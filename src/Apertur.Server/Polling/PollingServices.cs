using Apertur.Server.Hosting;

namespace Apertur.Server.Polling;

public static class PollingServices
{
    /// <summary>Pull delivery and delivery status: the long-poll settings (checked at start-up), the snapshot reader, the queue.</summary>
    public static IServiceCollection AddPolling(this IServiceCollection services)
    {
        services.AddSettings<PollingOptions>(PollingOptions.Section);
        services.AddScoped<DeliveryStatusReader>();
        services.AddScoped<DeliveryStatusPoll>();
        services.AddScoped<PolledImages>();
        return services;
    }
}
