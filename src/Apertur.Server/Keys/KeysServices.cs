namespace Apertur.Server.Keys;

public static class KeysServices
{
    /// <summary>API keys: the request filter that checks them, the issuer (bootstrap, <c>keys create</c>) and what the API and dashboard share.</summary>
    public static IServiceCollection AddKeys(this IServiceCollection services)
    {
        services.AddScoped<ApiKeyAuth>();
        services.AddScoped<KeyIssuer>();
        services.AddScoped<KeyService>();
        return services;
    }
}
