using Apertur.Destinations;
using Apertur.Destinations.Dropbox;
using Apertur.Destinations.GoogleDrive;
using Apertur.Destinations.OneDrive;
using Apertur.Server.Delivery;
using Microsoft.Extensions.Options;

namespace Apertur.Server.CloudDrives;

public static class CloudDriveServices
{
    /// <summary>
    /// The Google Drive, Dropbox and OneDrive adapters (on the guarded outbound client), their OAuth settings (validated at
    /// start-up), the grant store and the reconnect notices.
    /// </summary>
    public static IServiceCollection AddCloudDrives(this IServiceCollection services, string httpClientName)
    {
        services.AddOptions<OAuthOptions>().BindConfiguration(OAuthOptions.Section)
            .Validate(o => o.Problems().Count == 0, "Apertur:OAuth settings are invalid (URLs, chunk sizes or durations); see docs/cloud-drives.md.")
            .Validate<IOptions<DeliveryOptions>>((o, delivery) => o.AttemptTimeout < delivery.Value.Lease,
                "Apertur:OAuth:AttemptTimeout must be shorter than Apertur:Delivery:Lease, or a slow upload could be claimed twice.")
            .ValidateOnStart();
        services.AddSingleton<OAuthGrantStore>();
        services.AddSingleton<ReconnectNotices>();
        services.AddSingleton<IDestination>(sp => new GoogleDriveDestination(Http(sp, httpClientName), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<OAuthGrantStore>(), Options(sp).GoogleDrive(), Options(sp).Tuning));
        services.AddSingleton<IDestination>(sp => new DropboxDestination(Http(sp, httpClientName), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<OAuthGrantStore>(), Options(sp).DropboxDrive(), Options(sp).Tuning));
        services.AddSingleton<IDestination>(sp => new OneDriveDestination(Http(sp, httpClientName), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<OAuthGrantStore>(), Options(sp).OneDrive(), Options(sp).Tuning));
        return services;
    }

    private static HttpClient Http(IServiceProvider sp, string name) => sp.GetRequiredService<IHttpClientFactory>().CreateClient(name);

    private static OAuthOptions Options(IServiceProvider sp) => sp.GetRequiredService<IOptions<OAuthOptions>>().Value;
}
