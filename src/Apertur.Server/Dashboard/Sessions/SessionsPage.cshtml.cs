using System.Text.Json;
using Apertur.Server.Data;
using Apertur.Server.Hosting;
using Apertur.Server.Keys;
using Apertur.Server.Sessions;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Dashboard.Sessions;

/// <summary>
/// Sessions: the list (status, counts, tags; paged) and a new session made in the browser with the same
/// <see cref="SessionCreator"/> as POST /api/v1/upload-sessions, acting as the API key the person picks.
/// </summary>
public sealed class SessionsPageModel(AperturDb db, SessionCreator creator, SessionService sessions) : ProjectPageModel
{
    public IReadOnlyList<SessionRow> Rows { get; private set; } = [];

    public CursorPager Pager { get; private set; } = null!;

    public IReadOnlyList<ApiKey> Keys { get; private set; } = [];

    public IReadOnlyList<(Guid Id, string Name, string Type, bool Active)> Destinations { get; private set; } = [];

    protected override bool MemberMayPost(string? handler) => handler == "Create";

    public async Task OnGetAsync(CancellationToken ct) => await LoadAsync(CursorPager.Before(Request), ct);

    public async Task<IActionResult> OnPostCreateAsync(Guid keyId, string? label, string? tags, int? maxImages, int? expiresInHours, string? password,
        bool longPolling, CancellationToken ct)
    {
        var key = await db.ApiKeys.AsNoTracking().FirstOrDefaultAsync(k => k.Id == keyId && k.ProjectId == Project.Id && k.IsActive, ct);
        if (key is null)
        {
            Error = "Choose an active API key of this project: the session takes its environment, limits and default destinations.";
            await LoadAsync(null, ct);
            return Page();
        }
        var body = new Dictionary<string, object?>
        {
            ["label"] = string.IsNullOrWhiteSpace(label) ? null : label.Trim(),
            ["tags"] = (tags ?? "").Split([',', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            ["long_polling"] = longPolling,
        };
        if (maxImages is { } max)
        {
            body["max_images"] = max;
        }
        if (expiresInHours is { } hours)
        {
            body["expires_in_hours"] = hours;
        }
        if (!string.IsNullOrEmpty(password))
        {
            body["password"] = password;
        }
        var chosen = Request.Form["destinations"].OfType<string>().ToArray();
        if (chosen.Length > 0)
        {
            body["destination_ids"] = chosen;
        }
        var caller = new Caller(key.Id, Project.Id, Project.Name, key.Env, key);
        Session? session = null;
        if (!await TryAsync(async () => (session, _) = await creator.CreateAsync(caller, JsonBody.FromElement(JsonSerializer.SerializeToElement(body)), ct)))
        {
            await LoadAsync(null, ct);
            return Page();
        }
        return Redirect(DashboardRoutes.Session(Project.Id, session!.Id));
    }

    private async Task LoadAsync(ListCursor? before, CancellationToken ct)
    {
        (Rows, var older) = await sessions.OlderThanAsync(Project.Id, Project.Name, before, CursorPager.PageSize, ct);
        Pager = CursorPager.For(Request, older);
        Keys = await db.ApiKeys.AsNoTracking().Where(k => k.ProjectId == Project.Id && k.IsActive).OrderBy(k => k.CreatedAt).ToListAsync(ct);
        Destinations = (await db.Destinations.AsNoTracking().Where(d => d.ProjectId == Project.Id).OrderBy(d => d.CreatedAt)
            .Select(d => new { d.Id, d.Name, d.Type, d.IsActive }).ToListAsync(ct)).Select(d => (d.Id, d.Name, d.Type, d.IsActive)).ToList();
    }

    public static string When(string iso) =>
        Iso.TryParse(iso, out var at) ? Show.Time(at) : iso;
}
