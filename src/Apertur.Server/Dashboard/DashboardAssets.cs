using Apertur.Server.Hosting;

namespace Apertur.Server.Dashboard;

/// <summary>The dashboard's script and style sheet (Assets/), served under <c>/dashboard/assets/</c>.</summary>
public sealed class DashboardAssets() : EmbeddedAssets(DashboardRoutes.Assets, "Apertur.Server.Dashboard.Assets.",
[
    ("dashboard.js", "text/javascript; charset=utf-8"),
    ("dashboard.css", "text/css; charset=utf-8"),
]);
