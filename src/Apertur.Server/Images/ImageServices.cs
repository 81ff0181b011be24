using Apertur.Server.Hosting;

namespace Apertur.Server.Images;

public static class ImageServices
{
    /// <summary>Registers the image processor and checks its settings (<c>Apertur:Images</c>) at start-up.</summary>
    public static IServiceCollection AddImages(this IServiceCollection services)
    {
        services.AddSettings<ImageProcessingOptions>(ImageProcessingOptions.Section);
        services.AddSingleton<ImageProcessor>();
        return services;
    }
}
