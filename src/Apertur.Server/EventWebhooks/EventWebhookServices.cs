using Apertur.Server.Hosting;
using Apertur.Server.Queues;

namespace Apertur.Server.EventWebhooks;

public static class EventWebhookServices
{
    /// <summary>
    /// Registers the event outbox writer, the signed sender, the lease queue and their settings (checked at start-up; the
    /// names they had before they matched <c>Apertur:Delivery</c>'s stop the start), the webhooks' CRUD, the delivery
    /// worker and the session-expiry sweep.
    /// </summary>
    public static IServiceCollection AddEventWebhooks(this IServiceCollection services)
    {
        services.AddSettings<EventWebhookOptions>(EventWebhookOptions.Section)
            .Renamed($"{EventWebhookOptions.Section}:LeaseDuration", $"{EventWebhookOptions.Section}:Lease")
            .Renamed($"{EventWebhookOptions.Section}:BatchSize", $"{EventWebhookOptions.Section}:Concurrency")
            .Renamed($"{EventWebhookOptions.Section}:Timeout", $"{EventWebhookOptions.Section}:AttemptTimeout");
        services.AddLeaseQueue();
        services.AddSingleton<EventDeliveryNudge>();
        services.AddSingleton<EventWebhookSender>();
        services.AddScoped<EventPublisher>();
        services.AddScoped<EventWebhookActions>();
        services.AddScoped<EventWebhookService>();
        // Delivery: leased claims of due rows, per-webhook retries, auto-disable after repeated failures.
        services.AddHostedService<EventDeliveryWorker>();
        // Announces each session past its expiry once (project.session.expired).
        services.AddHostedService<SessionExpirySweep>();
        return services;
    }
}
