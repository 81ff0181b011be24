using Apertur.Destinations;
using Apertur.Destinations.CloudDrives;
using Apertur.Destinations.Dropbox;
using Apertur.Destinations.GoogleDrive;
using Apertur.Destinations.OneDrive;
using Apertur.Server.Delivery;
using Apertur.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Apertur.Server.CloudDrives;

public static class CloudDriveServices
{
    /// <summary>
    /// The Google Drive, Dropbox and OneDrive adapters (on the guarded outbound client), their OAuth settings (validated at
    /// start-up), the grant store, the connect flows the API and the dashboard share, and the reconnect notices.
    /// </summary>
    public static IServiceCollection AddCloudDrives(this IServiceCollection services, string httpClientName)
    {
        services.AddSettings<OAuthOptions>(OAuthOptions.Section);
        services.AddSingleton<OAuthGrantStore>();
        services.AddSingleton<ReconnectNotices>();
        services.AddScoped<OAuthFlows>();
        services.AddDestination(sp => new GoogleDriveDestination(Http(sp, httpClientName), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<OAuthGrantStore>(), Options(sp).GoogleDrive(), Tuning(sp)));
        services.AddDestination(sp => new DropboxDestination(Http(sp, httpClientName), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<OAuthGrantStore>(), Options(sp).DropboxDrive(), Tuning(sp)));
        services.AddDestination(sp => new OneDriveDestination(Http(sp, httpClientName), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<OAuthGrantStore>(), Options(sp).OneDrive(), Tuning(sp)));
        return services;
    }

    private static HttpClient Http(IServiceProvider sp, string name) => sp.GetRequiredService<IHttpClientFactory>().CreateClient(name);

    private static OAuthOptions Options(IServiceProvider sp) => sp.GetRequiredService<IOptions<OAuthOptions>>().Value;

    /// <summary>The pacing, with the attempt kept inside the delivery lease: a slower attempt could be claimed by another worker.</summary>
    private static CloudDriveTuning Tuning(IServiceProvider sp)
    {
        var tuning = Options(sp).Tuning;
        var lease = sp.GetRequiredService<IOptions<DeliveryOptions>>().Value.Lease;
        var limit = lease - TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(2).Ticks, lease.Ticks / 2));
        return tuning.AttemptTimeout <= limit ? tuning : tuning with { AttemptTimeout = limit };
    }
}
