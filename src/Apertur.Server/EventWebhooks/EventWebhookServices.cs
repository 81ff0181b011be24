namespace Apertur.Server.EventWebhooks;

public static class EventWebhookServices
{
    /// <summary>
    /// Registers the event outbox writer, the signed sender, the claim queue and their settings (checked at start-up), the
    /// webhooks' CRUD, the delivery worker and the session-expiry sweep.
    /// </summary>
    public static IServiceCollection AddEventWebhooks(this IServiceCollection services)
    {
        services.AddOptions<EventWebhookOptions>().BindConfiguration(EventWebhookOptions.Section)
            .Validate(EventWebhookOptions.IsValid,
                "Apertur:EventWebhooks: intervals and Timeout must be positive, LeaseDuration longer than Timeout, BatchSize 1-256.")
            .ValidateOnStart();
        services.AddSingleton<EventDeliveryNudge>();
        services.AddSingleton<EventWebhookSender>();
        services.AddScoped<EventPublisher>();
        services.AddScoped<EventOutbox>();
        services.AddScoped<EventWebhookActions>();
        services.AddScoped<EventWebhookService>();
        // Delivery: leased claims of due rows, per-webhook retries, auto-disable after repeated failures.
        services.AddHostedService<EventDeliveryWorker>();
        // Announces each session past its expiry once (project.session.expired).
        services.AddHostedService<SessionExpirySweep>();
        return services;
    }
}
