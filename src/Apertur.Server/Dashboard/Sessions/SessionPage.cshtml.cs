using Apertur.Server.Data;
using Apertur.Server.Deliveries;
using Apertur.Server.Hosting;
using Apertur.Server.Qr;
using Apertur.Server.Sessions;
using Apertur.Server.Uploads;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Dashboard.Sessions;

/// <summary>
/// One session: its QR code large enough to scan from the screen, its link, and its images with their deliveries, refreshed
/// live from the session's SSE stream (the public <c>/api/v1/upload/{uuid}/events</c>, fed by the SessionEventHub).
/// </summary>
public sealed class SessionPageModel(AperturDb db, PublicUrls urls, DeliveryLog log, SessionEraser eraser, TimeProvider time) : ProjectPageModel
{
    public sealed record ImageRow(Image Image, IReadOnlyList<(string Destination, string Status, string? Error)> Deliveries);

    public Session Session { get; private set; } = null!;

    public string Status { get; private set; } = "";

    public string UploadUrl { get; private set; } = "";

    public string QrSvg { get; private set; } = "";

    public IReadOnlyList<ImageRow> Images { get; private set; } = [];

    protected override bool MemberMayPost(string? handler) => handler == "RetryFailed";

    public async Task<IActionResult> OnGetAsync(Guid sessionId, CancellationToken ct)
    {
        if (!await LoadAsync(sessionId, ct))
        {
            return NotFoundPage();
        }
        UploadUrl = urls.UploadPage(Request, Session.Id);
        var parameters = QrParameters.Parse(new QueryCollection()) with { Format = QrFormat.Svg };
        QrSvg = Qr.QrSvg.Render(QrMatrix.Encode(UploadUrl), parameters);
        return Page();
    }

    /// <summary>The images part alone, fetched by the page's script on each live event.</summary>
    public async Task<IActionResult> OnGetLiveAsync(Guid sessionId, CancellationToken ct) =>
        await LoadAsync(sessionId, ct) ? Partial("/Dashboard/Sessions/_Images.cshtml", this) : NotFoundPage();

    public async Task<IActionResult> OnPostRetryFailedAsync(Guid sessionId, CancellationToken ct)
    {
        if (!await db.Sessions.AnyAsync(s => s.Id == sessionId && s.ProjectId == Project.Id, ct))
        {
            return NotFoundPage();
        }
        var count = await log.RetryFailedAsync(Project.Id, sessionId, ct);
        Notice = $"Re-queued {count} failed {(count == 1 ? "delivery" : "deliveries")}.";
        return Redirect(DashboardRoutes.Session(Project.Id, sessionId));
    }

    /// <summary>Owners only: the same erasure as <c>DELETE /api/v1/upload-sessions/{uuid}</c> (the form asks first).</summary>
    public async Task<IActionResult> OnPostDeleteAsync(Guid sessionId, CancellationToken ct)
    {
        if (!await TryAsync(() => eraser.DeleteAsync(Project.Id, sessionId.ToString(), ct)))
        {
            return NotFoundPage();
        }
        Notice = "Session deleted: its photos were removed from the server and its pending deliveries cancelled.";
        return Redirect(DashboardRoutes.Session(Project.Id, sessionId));
    }

    private async Task<bool> LoadAsync(Guid sessionId, CancellationToken ct)
    {
        var session = await db.Sessions.AsNoTracking().FirstOrDefaultAsync(s => s.Id == sessionId && s.ProjectId == Project.Id, ct);
        if (session is null)
        {
            return false;
        }
        Session = session;
        // The API reads a deleted session as expired; the dashboard says what happened.
        Status = session.DeletedAt is not null ? SessionStatus.Deleted : SessionState.StatusOf(session, time.GetUtcNow());
        var images = await db.Images.AsNoTracking().Where(i => i.SessionId == session.Id).OrderBy(i => i.ImageIndex).ToListAsync(ct);
        var deliveries = await (
                from d in db.Deliveries.AsNoTracking()
                where d.SessionId == session.Id
                join dest in db.Destinations.AsNoTracking() on d.DestinationId equals dest.Id into found
                from dest in found.DefaultIfEmpty()
                select new { d.ImageId, d.CreatedAt, Name = dest == null ? "(deleted)" : dest.Name, d.Status, d.LastError })
            .ToListAsync(ct);
        var byImage = deliveries.ToLookup(d => d.ImageId);
        Images = images.Select(i => new ImageRow(i, byImage[i.Id].OrderBy(d => d.CreatedAt).Select(d => (d.Name, d.Status, (string?)d.LastError)).ToList())).ToList();
        return true;
    }
}
