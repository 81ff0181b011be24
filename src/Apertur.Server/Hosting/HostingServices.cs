namespace Apertur.Server.Hosting;

/// <summary>What every feature leans on: time, the server-wide settings, public URLs, rate limits, the one error shape.</summary>
public static class HostingServices
{
    /// <summary>
    /// The data directory is the server's alone (0700, files 0600, umask 077 on Unix), made so before anything is written
    /// in it.
    /// </summary>
    public static WebApplicationBuilder SecureDataDirectory(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        DataDirectory.Secure(AperturOptions.ResolveDataDirectory(builder.Configuration));
        return builder;
    }

    /// <summary>
    /// Time as a dependency, the server-wide settings (<see cref="AperturOptions"/>, <see cref="BootstrapOptions"/>,
    /// <see cref="RateLimitOptions"/>, checked at start-up), public URLs, the rate limiter and the one JSON error shape.
    /// </summary>
    public static IServiceCollection AddAperturHosting(this IServiceCollection services)
    {
        services.AddSingleton(TimeProvider.System);
        services.AddSettings<AperturOptions>(AperturOptions.Section);
        services.AddSettings<BootstrapOptions>(BootstrapOptions.Section);
        services.AddSettings<RateLimitOptions>(RateLimitOptions.Section);
        services.AddSingleton<PublicUrls>();
        services.AddSingleton<StartupOutput>();
        services.AddSingleton<RateLimiter>();
        services.AddExceptionHandler<ApiErrorHandler>();
        services.AddProblemDetails();
        return services;
    }

    /// <summary>Every failure, thrown (<see cref="ApiException"/>) or a bare status code, answers the one JSON error shape.</summary>
    public static WebApplication UseApiErrors(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseExceptionHandler();
        app.UseStatusCodePages(ApiErrorHandler.WriteStatusCodeBodyAsync);
        return app;
    }
}
