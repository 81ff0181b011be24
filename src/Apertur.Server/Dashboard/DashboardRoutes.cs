namespace Apertur.Server.Dashboard;

/// <summary>Every dashboard URL, built in one place.</summary>
public static class DashboardRoutes
{
    public const string Root = "/dashboard";
    public const string Login = "/dashboard/login";
    public const string Logout = "/dashboard/logout";
    public const string Account = "/dashboard/account";
    public const string Assets = "/dashboard/assets/";

    /// <summary>The status page's incidents, for admins (Dashboard/Status/IncidentsPage).</summary>
    public const string Incidents = "/dashboard/incidents";

    /// <summary>The project list itself: <see cref="Root"/> opens the one project of an account that has only one.</summary>
    public const string AllProjects = Root + "?all=true";

    /// <summary>
    /// Where a "Connect" button of an OAuth-connected drive (google_drive, dropbox, onedrive) posts: the dashboard's connect
    /// page (Destinations/ConnectPage), which starts the cloud drives' OAuth flow and sends the browser to the provider's
    /// consent; the callback comes back to {returnUrl}, a dashboard path (<see cref="IsDashboardPath"/>). The one place
    /// that names it; {destinationId} and {returnUrl} are filled in.
    /// </summary>
    public const string OAuthConnectTemplate = "/dashboard/oauth/connect/{destinationId}?returnUrl={returnUrl}";

    public static string OAuthConnect(Guid destinationId, string returnUrl) => OAuthConnectTemplate
        .Replace("{destinationId}", destinationId.ToString(), StringComparison.Ordinal)
        .Replace("{returnUrl}", Uri.EscapeDataString(returnUrl), StringComparison.Ordinal);

    /// <summary>The query parameters a finished connect flow adds to the dashboard page it comes back to.</summary>
    public const string OAuthOutcomeParameter = "oauth";
    public const string OAuthDestinationParameter = "destination";
    public const string OAuthErrorParameter = "oauth_error";

    /// <summary>
    /// True for a path inside the dashboard on this server, the only return URLs a dashboard connect flow accepts (no open
    /// redirect): it starts with <c>/dashboard/</c>, and has no scheme, no host (<c>//</c>), no backslash, no control
    /// character or space, no fragment and no <c>.</c> or <c>..</c> segment (plain or percent-encoded) that could climb out.
    /// </summary>
    public static bool IsDashboardPath(string? url)
    {
        if (url is null || url.Length is 0 or > 2048 || !(url.StartsWith(Root + "/", StringComparison.Ordinal) || url.StartsWith(Root + "?", StringComparison.Ordinal) || url == Root))
        {
            return false;
        }
        if (url.Contains("//", StringComparison.Ordinal) || url.Any(c => c == '\\' || c == '#' || char.IsControl(c) || char.IsWhiteSpace(c) || c > '~'))
        {
            return false;
        }
        var path = url.Split('?', 2)[0];
        return !path.Split('/').Any(segment => segment is "." or ".." || segment.Contains("%2e", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>A dashboard return URL with a connect flow's outcome added to its query.</summary>
    public static string WithOAuthOutcome(string returnUrl, Guid destinationId, string outcome, string? error)
    {
        ArgumentNullException.ThrowIfNull(returnUrl);
        var query = $"{OAuthOutcomeParameter}={Uri.EscapeDataString(outcome)}&{OAuthDestinationParameter}={destinationId}"
            + (error is null ? "" : $"&{OAuthErrorParameter}={Uri.EscapeDataString(error)}");
        return returnUrl + (returnUrl.Contains('?', StringComparison.Ordinal) ? "&" : "?") + query;
    }

    public static string Project(Guid projectId) => $"{Root}/projects/{projectId}";
    public static string Settings(Guid projectId) => $"{Project(projectId)}/settings";
    public static string Keys(Guid projectId) => $"{Project(projectId)}/keys";
    public static string Destinations(Guid projectId) => $"{Project(projectId)}/destinations";
    public static string Sessions(Guid projectId) => $"{Project(projectId)}/sessions";
    public static string Session(Guid projectId, Guid sessionId) => $"{Sessions(projectId)}/{sessionId}";
    public static string Image(Guid projectId, Guid imageId) => $"{Project(projectId)}/images/{imageId}";
    public static string Thumbnail(Guid projectId, Guid imageId) => $"{Image(projectId, imageId)}/thumbnail";
    public static string Deliveries(Guid projectId) => $"{Project(projectId)}/deliveries";
    public static string Delivery(Guid projectId, Guid deliveryId) => $"{Deliveries(projectId)}/{deliveryId}";
    public static string Webhooks(Guid projectId) => $"{Project(projectId)}/webhooks";
    public static string Webhook(Guid projectId, Guid webhookId) => $"{Webhooks(projectId)}/{webhookId}";
}
