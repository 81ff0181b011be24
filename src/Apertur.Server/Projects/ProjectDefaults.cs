using Apertur.Server.Sessions;

namespace Apertur.Server.Projects;

/// <summary>
/// A project's own defaults over the server's settings (set in the dashboard): the retry window of its deliveries and the
/// limits a new session gets when the request does not say. Null keeps the server's setting; server caps always hold.
/// </summary>
public static class ProjectDefaults
{
    public static UploadSessionOptions Apply(UploadSessionOptions server, int? defaultMaxImages, int? defaultExpiryMinutes)
    {
        ArgumentNullException.ThrowIfNull(server);
        if (defaultMaxImages is null && defaultExpiryMinutes is null)
        {
            return server;
        }
        var expiry = defaultExpiryMinutes is { } minutes ? TimeSpan.FromMinutes(minutes) : server.DefaultExpiry;
        return new UploadSessionOptions
        {
            DefaultMaxImages = Math.Min(defaultMaxImages ?? server.DefaultMaxImages, server.MaxImagesCap),
            MaxImagesCap = server.MaxImagesCap,
            DefaultExpiry = expiry < server.MaxExpiry ? expiry : server.MaxExpiry,
            MaxExpiry = server.MaxExpiry,
        };
    }

    /// <summary>The delivery settings with the project's retry window, when it has one.</summary>
    public static Deliveries.DeliveryOptions RetryWindowOf(Deliveries.DeliveryOptions server, int? retryWindowMinutes)
    {
        ArgumentNullException.ThrowIfNull(server);
        if (retryWindowMinutes is not { } minutes)
        {
            return server;
        }
        return server.WithRetryWindow(TimeSpan.FromMinutes(minutes));
    }
}
