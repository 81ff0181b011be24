using Apertur.Server.Hosting;

namespace Apertur.Server.Events;

public static class EventsServices
{
    /// <summary>Session events: the in-process hub and the SSE settings (checked at start-up).</summary>
    public static IServiceCollection AddSessionEvents(this IServiceCollection services)
    {
        services.AddSettings<EventsOptions>(EventsOptions.Section);
        services.AddSingleton<SessionEventHub>();
        return services;
    }
}
