namespace Apertur.Server.Dashboard;

/// <summary>Every dashboard URL, built in one place.</summary>
public static class DashboardRoutes
{
    public const string Root = "/dashboard";
    public const string Login = "/dashboard/login";
    public const string Logout = "/dashboard/logout";
    public const string Account = "/dashboard/account";
    public const string Assets = "/dashboard/assets/";

    /// <summary>
    /// Where a "Connect" button of an OAuth-connected drive (google_drive, dropbox, onedrive) sends the browser: the cloud
    /// drives' OAuth start endpoint, which asks the provider for consent and comes back to the destination. The one place
    /// that names it; {destinationId} and {returnUrl} (the dashboard page to come back to) are filled in.
    /// </summary>
    public const string OAuthConnectTemplate = "/dashboard/oauth/connect/{destinationId}?returnUrl={returnUrl}";

    public static string OAuthConnect(Guid destinationId, string returnUrl) => OAuthConnectTemplate
        .Replace("{destinationId}", destinationId.ToString(), StringComparison.Ordinal)
        .Replace("{returnUrl}", Uri.EscapeDataString(returnUrl), StringComparison.Ordinal);

    public static string Project(Guid projectId) => $"{Root}/projects/{projectId}";
    public static string Settings(Guid projectId) => $"{Project(projectId)}/settings";
    public static string Keys(Guid projectId) => $"{Project(projectId)}/keys";
    public static string Destinations(Guid projectId) => $"{Project(projectId)}/destinations";
    public static string Sessions(Guid projectId) => $"{Project(projectId)}/sessions";
    public static string Session(Guid projectId, Guid sessionId) => $"{Sessions(projectId)}/{sessionId}";
    public static string SessionEvents(Guid projectId, Guid sessionId) => $"{Session(projectId, sessionId)}/events";
    public static string Image(Guid projectId, Guid imageId) => $"{Project(projectId)}/images/{imageId}";
    public static string Deliveries(Guid projectId) => $"{Project(projectId)}/deliveries";
    public static string Delivery(Guid projectId, Guid deliveryId) => $"{Deliveries(projectId)}/{deliveryId}";
    public static string Webhooks(Guid projectId) => $"{Project(projectId)}/webhooks";
    public static string Webhook(Guid projectId, Guid webhookId) => $"{Webhooks(projectId)}/{webhookId}";
}
