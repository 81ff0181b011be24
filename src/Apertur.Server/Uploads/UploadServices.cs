using Apertur.Server.Sessions;

namespace Apertur.Server.Uploads;

public static class UploadServices
{
    /// <summary>Registers the upload flow and checks the upload limits at start-up.</summary>
    public static IServiceCollection AddUploads(this IServiceCollection services)
    {
        services.AddOptions<UploadOptions>()
            .Validate(o => o.MaxImageBytes > 0, "Apertur:Uploads:MaxImageBytes must be positive.")
            .Validate(o => o.MaxImageDimension > 0, "Apertur:Uploads:MaxImageDimension must be positive.")
            .Validate(o => o.MaxPixels > 0, "Apertur:Uploads:MaxPixels must be positive.");
        services.AddScoped<UploadHandler>();
        services.AddSingleton<UploadCommitter>();
        services.AddHostedService(sp => sp.GetRequiredService<UploadCommitter>());
        return services;
    }
}
