namespace Apertur.Server.Images;

public static class ThumbnailServices
{
    /// <summary>Registers the thumbnails of stored images (<see cref="Thumbnails"/>), kept under <c>{DataDirectory}/thumbnails</c>.</summary>
    public static IServiceCollection AddThumbnails(this IServiceCollection services, IConfiguration configuration)
    {
        var directory = Thumbnails.DirectoryOf(AperturOptions.ResolveDataDirectory(configuration));
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<Thumbnails>(sp, directory));
        return services;
    }
}
