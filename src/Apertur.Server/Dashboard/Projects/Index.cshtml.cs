using Apertur.Server.Dashboard.Accounts;
using Apertur.Server.Data;
using Apertur.Server.Keys;
using Apertur.Server.Projects;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Dashboard.Projects;

/// <summary>
/// The projects of the signed-in account; admins create projects here. An account with one project goes straight to it (after
/// sign-in too, which comes here), unless it asks for the list itself (<see cref="DashboardRoutes.AllProjects"/>).
/// </summary>
public sealed class IndexModel(AperturDb db, KeyIssuer issuer, TimeProvider time) : DashboardPageModel
{
    public sealed record Row(Guid Id, string Name, string Role, int Sessions, DateTimeOffset CreatedAt);

    public IReadOnlyList<Row> Rows { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(bool all, CancellationToken ct)
    {
        if (!all && await DashboardAccess.ProjectsOfAsync(db, CurrentUser!, ct) is [var only])
        {
            return Redirect(DashboardRoutes.Project(only.Id));
        }
        await LoadAsync(ct);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(string? name, CancellationToken ct)
    {
        var user = CurrentUser!;
        if (!user.IsAdmin)
        {
            return ForbiddenPage();
        }
        Project? project = null;
        if (!await TryAsync(async () => project = await issuer.CreateProjectAsync(ProjectService.ValidName(name), ct)))
        {
            await LoadAsync(ct);
            return Page();
        }
        db.ProjectMembers.Add(new ProjectMember { ProjectId = project!.Id, UserId = user.Id, Role = ProjectRoles.Owner, CreatedAt = time.GetUtcNow() });
        await db.SaveChangesAsync(ct);
        Notice = $"Project \"{project.Name}\" created.";
        return Redirect(DashboardRoutes.Project(project.Id));
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        var user = CurrentUser!;
        var projects = await DashboardAccess.ProjectsOfAsync(db, user, ct);
        var ids = projects.Select(p => p.Id).ToList();
        var roles = await db.ProjectMembers.AsNoTracking().Where(m => m.UserId == user.Id && ids.Contains(m.ProjectId))
            .ToDictionaryAsync(m => m.ProjectId, m => m.Role, ct);
        var sessions = await db.Sessions.AsNoTracking().Where(s => ids.Contains(s.ProjectId)).GroupBy(s => s.ProjectId)
            .Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count, ct);
        var created = await db.Projects.AsNoTracking().Where(p => ids.Contains(p.Id)).ToDictionaryAsync(p => p.Id, p => p.CreatedAt, ct);
        Rows = projects.Select(p => new Row(p.Id, p.Name, user.IsAdmin ? "admin" : roles.GetValueOrDefault(p.Id, ProjectRoles.Member),
            sessions.GetValueOrDefault(p.Id), created[p.Id])).ToList();
    }
}
