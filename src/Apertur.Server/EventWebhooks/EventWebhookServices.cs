using Apertur.Server.Queues;

namespace Apertur.Server.EventWebhooks;

public static class EventWebhookServices
{
    /// <summary>
    /// Registers the event outbox writer, the signed sender, the lease queue and their settings (checked at start-up; the
    /// names they had before they matched <c>Apertur:Delivery</c>'s stop the start).
    /// </summary>
    public static IServiceCollection AddEventWebhooks(this IServiceCollection services)
    {
        services.AddOptions<EventWebhookOptions>().BindConfiguration(EventWebhookOptions.Section)
            .Validate(EventWebhookOptions.IsValid, EventWebhookOptions.ValidationMessage)
            .Renamed($"{EventWebhookOptions.Section}:LeaseDuration", $"{EventWebhookOptions.Section}:Lease")
            .Renamed($"{EventWebhookOptions.Section}:BatchSize", $"{EventWebhookOptions.Section}:Concurrency")
            .Renamed($"{EventWebhookOptions.Section}:Timeout", $"{EventWebhookOptions.Section}:AttemptTimeout")
            .ValidateOnStart();
        services.AddLeaseQueue();
        services.AddSingleton<EventDeliveryNudge>();
        services.AddSingleton<EventWebhookSender>();
        services.AddScoped<EventPublisher>();
        services.AddScoped<EventWebhookActions>();
        return services;
    }
}
