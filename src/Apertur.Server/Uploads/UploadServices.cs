using Apertur.Server.Hosting;
using Apertur.Server.Sessions;

namespace Apertur.Server.Uploads;

public static class UploadServices
{
    /// <summary>Registers the upload flow and the uploads history, and checks the upload limits at start-up.</summary>
    public static IServiceCollection AddUploads(this IServiceCollection services)
    {
        services.AddSettings<UploadOptions>(UploadOptions.Section);
        services.AddScoped<UploadHandler>();
        services.AddScoped<UploadHistory>();
        services.AddSingleton<UploadCommitter>();
        services.AddHostedService(sp => sp.GetRequiredService<UploadCommitter>());
        return services;
    }
}
