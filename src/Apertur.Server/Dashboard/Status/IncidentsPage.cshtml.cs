using Apertur.Server.Status;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;

namespace Apertur.Server.Dashboard.Status;

/// <summary>
/// The incidents of the public status page (docs/operations.md "Status page"): open one, post updates, resolve. Admins only:
/// an incident speaks for the whole server, and only admins answer for every project; an owner of one project is not.
/// </summary>
public sealed class IncidentsPageModel(IncidentService incidents) : DashboardPageModel
{
    public IReadOnlyList<IncidentService.Entry> Entries { get; private set; } = [];

    protected override Task<IActionResult?> BeforeHandlerAsync(PageHandlerExecutingContext context) =>
        Task.FromResult(CurrentUser is { IsAdmin: true } ? null : (IActionResult?)AdminsOnlyPage());

    public async Task OnGetAsync(CancellationToken ct) => Entries = await incidents.RecentAsync(ct);

    public async Task<IActionResult> OnPostCreateAsync(string? title, string? state, string? message, CancellationToken ct)
    {
        if (!await TryAsync(() => incidents.CreateAsync(title, state, message, ct)))
        {
            Entries = await incidents.RecentAsync(ct);
            return Page();
        }
        Notice = $"Incident \"{title!.Trim()}\" posted on the status page.";
        return Redirect(DashboardRoutes.Incidents);
    }

    public async Task<IActionResult> OnPostUpdateAsync(Guid incidentId, string? state, string? message, CancellationToken ct)
    {
        if (!await TryAsync(() => incidents.PostUpdateAsync(incidentId, state, message, ct)))
        {
            Entries = await incidents.RecentAsync(ct);
            return Page();
        }
        Notice = state == IncidentStates.Resolved ? "Incident resolved." : "Update posted on the status page.";
        return Redirect(DashboardRoutes.Incidents);
    }
}
