namespace Apertur.Server.Keys;

/// <summary>Who is calling: the authenticated key, its project and environment.</summary>
public sealed record Caller(Guid KeyId, Guid ProjectId, string ProjectName, string Env, ApiKey Key);

public static class CallerExtensions
{
    /// <summary>The caller of an endpoint behind <see cref="ApiKeyAuth"/>. Throws 401 if the route forgot the filter.</summary>
    public static Caller GetCaller(this HttpContext context) =>
        context.Features.Get<Caller>() ?? throw Hosting.ApiException.Unauthorized("An API key is required.");
}
