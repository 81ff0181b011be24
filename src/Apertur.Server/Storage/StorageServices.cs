namespace Apertur.Server.Storage;

public static class StorageServices
{
    /// <summary>Registers the image store: a local directory under <c>Apertur:DataDirectory</c>.</summary>
    public static IServiceCollection AddImageStorage(this IServiceCollection services, IConfiguration configuration)
    {
        var dataDirectory = AperturOptions.ResolveDataDirectory(configuration);
        services.AddSingleton<IImageStore>(sp => new LocalDiskImageStore(
            dataDirectory, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<LocalDiskImageStore>>()));
        return services;
    }
}
