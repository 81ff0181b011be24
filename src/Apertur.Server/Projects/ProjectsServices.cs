namespace Apertur.Server.Projects;

public static class ProjectsServices
{
    /// <summary>The project: its signing secrets (the 24 h overlap after a rotation) and what the API and dashboard share.</summary>
    public static IServiceCollection AddProjects(this IServiceCollection services)
    {
        services.AddSingleton<ProjectSigningProvider>();
        services.AddScoped<ProjectService>();
        return services;
    }
}
