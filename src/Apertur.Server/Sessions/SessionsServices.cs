using Apertur.Server.Hosting;

namespace Apertur.Server.Sessions;

public static class SessionsServices
{
    /// <summary>Upload sessions: their defaults and caps (checked at start-up), creation, reading, changes and deletion.</summary>
    public static IServiceCollection AddSessions(this IServiceCollection services)
    {
        services.AddSettings<UploadSessionOptions>(UploadSessionOptions.Section);
        services.AddScoped<SessionCreator>();
        services.AddScoped<SessionService>();
        services.AddScoped<SessionEraser>();
        return services;
    }
}
