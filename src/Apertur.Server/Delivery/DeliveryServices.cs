using Apertur.Server.Hosting;

namespace Apertur.Server.Delivery;

public static class DeliveryServices
{
    /// <summary>The delivery engine: worker, recorder, failure notifier, signed download links. The queue is chosen per database in AddAperturData.</summary>
    public static IServiceCollection AddDelivery(this IServiceCollection services)
    {
        services.AddOptions<DeliveryOptions>().BindConfiguration(DeliveryOptions.Section)
            .Validate(DeliveryOptions.IsValid, DeliveryOptions.ValidationMessage).ValidateOnStart();
        services.AddSettings<SmtpOptions>(SmtpOptions.Section);
        services.AddSingleton<DeliveryNudge>();
        services.AddSingleton<FailureNudge>();
        services.AddSingleton<DeliveryRecorder>();
        services.AddSingleton<DownloadLinks>();
        services.AddScoped<DeliveryLog>();
        services.AddHostedService<DeliveryWorker>();
        services.AddHostedService<FailureNotifier>();
        return services;
    }
}
