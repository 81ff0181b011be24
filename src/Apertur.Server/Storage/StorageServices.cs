using Apertur.Server.Data;
using Apertur.Server.Hosting;

namespace Apertur.Server.Storage;

public static partial class StorageServices
{
    /// <summary>
    /// Registers the image store <c>Apertur:Storage:Kind</c> names: a local directory under <c>Apertur:DataDirectory</c>
    /// (default) or an S3 bucket (docs/deploy.md "Image store on S3"), and the free-space check of uploads
    /// (<see cref="FreeSpace"/>). The settings are read now: the kind decides the registration.
    /// </summary>
    public static IServiceCollection AddImageStorage(this IServiceCollection services, IConfiguration configuration)
    {
        var dataDirectory = AperturOptions.ResolveDataDirectory(configuration);
        var options = configuration.ReadSettings<StorageOptions>(StorageOptions.Section);
        services.AddSingleton(options);
        // Temp files are local with either store; the local store's images are beside them (docs/deploy.md "A full disk").
        var tempDirectory = LocalDiskImageStore.TempDirectoryOf(dataDirectory);
        IReadOnlyList<string> written = options.Kind == StorageKind.S3 ? [tempDirectory] : [tempDirectory, LocalDiskImageStore.ImagesDirectoryOf(dataDirectory)];
        services.AddSingleton(sp => new FreeSpace(options, written, sp.GetRequiredService<TimeProvider>()));
        if (options.Kind == StorageKind.S3)
        {
            services.AddSingleton<S3ImageStore>(sp => new S3ImageStore(options.S3, dataDirectory, sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILoggerFactory>().CreateLogger<S3ImageStore>()));
            services.AddSingleton<IImageStore>(sp => sp.GetRequiredService<S3ImageStore>());
        }
        else
        {
            services.AddSingleton<IImageStore>(sp => new LocalDiskImageStore(
                dataDirectory, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<LocalDiskImageStore>>()));
        }
        // What a crash leaves behind (stale temp files, images without a row, rows without bytes): docs/operations.md "Crash leftovers".
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<OrphanCheck>(sp, tempDirectory));
        services.AddHostedService<OrphanCheckJob>();
        return services;
    }

    /// <summary>
    /// The start-up check of the image store: with <c>s3</c>, a probe object is written, read and deleted, so a missing
    /// bucket, refused credentials or an unreachable endpoint stop the start (<see cref="ImageStoreUnavailableException"/>).
    /// With <c>local</c> on PostgreSQL, a warning: replicas do not share a local disk.
    /// </summary>
    public static async Task CheckImageStoreAsync(IServiceProvider services, CancellationToken ct)
    {
        var options = services.GetRequiredService<StorageOptions>();
        if (options.Kind == StorageKind.S3)
        {
            await services.GetRequiredService<S3ImageStore>().ProbeAsync(ct);
        }
        else if (services.GetRequiredService<DatabaseSettings>().Provider == DatabaseProvider.Postgres)
        {
            LogLocalOnPostgres(services.GetRequiredService<ILoggerFactory>().CreateLogger("Apertur.Storage"));
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Images are kept on this server's disk (Apertur:Storage:Kind=local) while the database is PostgreSQL: "
        + "fine for one server, but several replicas must share an image store (Apertur:Storage:Kind=s3, docs/deploy.md \"Image store on S3\")")]
    private static partial void LogLocalOnPostgres(ILogger logger);
}
