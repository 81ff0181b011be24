using Apertur.Server.Data;
using Apertur.Server.Deliveries;
using Apertur.Server.Hosting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Dashboard.Deliveries;

/// <summary>
/// The delivery log: every delivery with destination, status, attempts, last error, response code and duration; filters by
/// status, destination, session and date; retry one or all failed. All through <see cref="DeliveryLog"/>, as the API.
/// </summary>
public sealed class DeliveriesPageModel(AperturDb db, DeliveryLog log) : ProjectPageModel
{
    public IReadOnlyList<DeliveryEntry> Rows { get; private set; } = [];

    public CursorPager Pager { get; private set; } = null!;

    public IReadOnlyList<(Guid Id, string Name)> Destinations { get; private set; } = [];

    [BindProperty(SupportsGet = true)] public string? Status { get; set; }
    [BindProperty(SupportsGet = true)] public Guid? DestinationId { get; set; }
    [BindProperty(SupportsGet = true)] public Guid? SessionId { get; set; }
    [BindProperty(SupportsGet = true)] public DateOnly? From { get; set; }
    [BindProperty(SupportsGet = true)] public DateOnly? Until { get; set; }

    protected override bool MemberMayPost(string? handler) => handler is "Retry" or "RetryAll";

    public async Task OnGetAsync(CancellationToken ct)
    {
        Destinations = (await db.Destinations.AsNoTracking().Where(d => d.ProjectId == Project.Id).OrderBy(d => d.Name)
            .Select(d => new { d.Id, d.Name }).ToListAsync(ct)).Select(d => (d.Id, d.Name)).ToList();
        var filter = new DeliveryFilter(
            string.IsNullOrEmpty(Status) || !DeliveryLog.Statuses.Contains(Status) ? null : Status, SessionId, DestinationId,
            From is { } from ? new DateTimeOffset(from.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : null,
            Until is { } until ? new DateTimeOffset(until.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : null);
        var (entries, older) = await log.OlderThanAsync(Project.Id, filter, CursorPager.Before(Request), CursorPager.PageSize, ct);
        Rows = entries;
        Pager = CursorPager.For(Request, older);
    }

    public async Task<IActionResult> OnPostRetryAsync(Guid id, CancellationToken ct)
    {
        if (await TryAsync(() => log.RetryAsync(Project.Id, id, ct)))
        {
            Notice = "Delivery re-queued: it is attempted again now.";
        }
        else
        {
            Notice = Error;
        }
        return Redirect(ReturnUrl());
    }

    public async Task<IActionResult> OnPostRetryAllAsync(CancellationToken ct)
    {
        var count = await log.RetryFailedAsync(Project.Id, SessionId, ct);
        Notice = $"Re-queued {count} failed {(count == 1 ? "delivery" : "deliveries")}.";
        return Redirect(ReturnUrl());
    }

    private string ReturnUrl() => Request.Form["returnUrl"].ToString() is { Length: > 0 } back && back.StartsWith(DashboardRoutes.Deliveries(Project.Id), StringComparison.Ordinal)
        ? back
        : DashboardRoutes.Deliveries(Project.Id);
}
