using Apertur.Server.Hosting;
using Apertur.Server.Queues;

namespace Apertur.Server.Deliveries;

public static class DeliveryServices
{
    /// <summary>The delivery engine: worker, recorder, failure notifier, signed download links, and the lease queue they drain (its database hooks are chosen in AddAperturData).</summary>
    public static IServiceCollection AddDelivery(this IServiceCollection services)
    {
        services.AddSettings<DeliveryOptions>(DeliveryOptions.Section);
        services.AddLeaseQueue();
        services.AddSettings<SmtpOptions>(SmtpOptions.Section);
        // Every e-mail the server sends (failure notifications, reconnect notices) goes through this one sender.
        services.AddSingleton<SmtpMailer>();
        services.AddSingleton<DeliveryNudge>();
        services.AddSingleton<FailureNudge>();
        services.AddSingleton<DeliveryRecorder>();
        services.AddSingleton<DownloadLinks>();
        services.AddSingleton<DeliveryImageProcessing>();
        services.AddScoped<DeliveryLog>();
        // One instance, also read by the readiness check "delivery" (Health/HealthServices.cs).
        services.AddSingleton<DeliveryWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<DeliveryWorker>());
        services.AddHostedService<FailureNotifier>();
        return services;
    }
}
