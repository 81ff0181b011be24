using Apertur.Server.CloudDrives;
using Apertur.Server.Data;
using Apertur.Server.Destinations;
using Apertur.Server.Hosting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Dashboard.Destinations;

/// <summary>
/// "Connect" of a drive destination (<see cref="DashboardRoutes.OAuthConnect"/>): a POST (anti-forgery checked, owners only,
/// the destination's project checked like every project page) starts the cloud drives' OAuth flow through
/// <see cref="OAuthFlows"/> and redirects to the provider's consent; the callback brings the person back to
/// <c>returnUrl</c>, a dashboard path. A GET only shows the button: starting a flow stores a state row, so it is never done on a GET.
/// </summary>
public sealed class ConnectPageModel(OAuthFlows flows, Apertur.Destinations.DestinationKindRegistry kinds) : ProjectPageModel
{
    public Destination Destination { get; private set; } = null!;

    public string Provider => kinds.DisplayName(Destination.Type);

    /// <summary>The dashboard page to come back to.</summary>
    public string ReturnUrl { get; private set; } = "";

    protected override async Task<Guid?> ProjectIdAsync(AperturDb db, CancellationToken ct)
    {
        if (!Guid.TryParse(RouteData.Values["destinationId"]?.ToString(), out var id))
        {
            return null;
        }
        var destination = await db.Destinations.AsNoTracking().FirstOrDefaultAsync(d => d.Id == id, ct);
        if (destination is null || !flows.IsOAuth(destination.Type))
        {
            return null;
        }
        Destination = destination;
        return destination.ProjectId;
    }

    protected override async Task<IActionResult?> BeforeHandlerAsync(PageHandlerExecutingContext context)
    {
        if (await base.BeforeHandlerAsync(context) is { } early)
        {
            return early;
        }
        if (!IsOwner)
        {
            return ForbiddenPage();
        }
        // This page's form ends at the provider's consent page: allow that redirect in form-action.
        DashboardHeaders.Apply(Response, flows.AuthorizeOrigins());
        return null;
    }

    public IActionResult OnGet(string? returnUrl) => Accept(returnUrl) ? Page() : Refused();

    public async Task<IActionResult> OnPostAsync(string? returnUrl, CancellationToken ct)
    {
        if (!Accept(returnUrl))
        {
            return Refused();
        }
        StartView? started = null;
        if (await TryAsync(async () => started = await flows.StartAsync(Destination, ReturnUrl, Request, ct)))
        {
            return Redirect(started!.AuthorizeUrl);
        }
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }

    /// <summary>Only a dashboard path is a place to come back to (no open redirect); none means the destinations page.</summary>
    private bool Accept(string? returnUrl)
    {
        ReturnUrl = string.IsNullOrEmpty(returnUrl) ? DashboardRoutes.Destinations(Project.Id) : returnUrl;
        return DashboardRoutes.IsDashboardPath(ReturnUrl);
    }

    private PageResult Refused()
    {
        Error = "The return address must be a page of this dashboard (a path starting with /dashboard/); the connection was not started.";
        ReturnUrl = DashboardRoutes.Destinations(Project.Id);
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }
}
