using Apertur.Server.Dashboard.Accounts;
using Apertur.Server.Data;
using Apertur.Server.Hosting;
using Apertur.Server.Projects;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.Mvc.ViewFeatures;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Dashboard;

/// <summary>
/// Every dashboard page: security headers, the signed-in account, and the first-sign-in password change. A failure thrown
/// as <see cref="ApiException"/> by the shared services is shown on the page (<see cref="Error"/>) instead of a JSON body.
/// </summary>
public abstract class DashboardPageModel : PageModel
{
    /// <summary>The signed-in account; null only on the sign-in page.</summary>
    public DashboardUser? CurrentUser { get; private set; }

    /// <summary>A message for the person: what went wrong with what they sent.</summary>
    public string? Error { get; set; }

    /// <summary>A message for the person: what just happened.</summary>
    [TempData]
    public string? Notice { get; set; }

    /// <summary>Pages a person with a password to change may still open.</summary>
    protected virtual bool AllowedWithPasswordToChange => false;

    // Not a handler of its own (its name reads as one: "On" + verb "Page" + handler "HandlerExecution").
    [NonHandler]
    public override async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        DashboardHeaders.Apply(HttpContext.Response);
        CurrentUser = HttpContext.SignedInUser();
        if (CurrentUser is { MustChangePassword: true } && !AllowedWithPasswordToChange)
        {
            context.Result = Redirect(DashboardRoutes.Account);
            return;
        }
        if (await BeforeHandlerAsync(context) is { } early)
        {
            context.Result = early;
            return;
        }
        await next();
    }

    /// <summary>Runs before the handler; a result answers instead of it.</summary>
    protected virtual Task<IActionResult?> BeforeHandlerAsync(PageHandlerExecutingContext context) => Task.FromResult<IActionResult?>(null);

    /// <summary>Runs an action of a shared service; its <see cref="ApiException"/> becomes <see cref="Error"/> and false.</summary>
    protected async Task<bool> TryAsync(Func<Task> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        try
        {
            await action();
            return true;
        }
        catch (ApiException e)
        {
            Error = e.Message;
            return false;
        }
    }

    /// <summary>The dashboard's own 404 page, which says nothing about whether the thing exists elsewhere.</summary>
    protected IActionResult NotFoundPage() => new ViewResult
    {
        ViewName = "/Dashboard/Shared/_NotFound.cshtml",
        StatusCode = StatusCodes.Status404NotFound,
        ViewData = new ViewDataDictionary(ViewData) { Model = this },
    };

    /// <summary>Asked by a person without the role: 403 with a page that says why.</summary>
    protected IActionResult ForbiddenPage() => new ViewResult
    {
        ViewName = "/Dashboard/Shared/_Forbidden.cshtml",
        StatusCode = StatusCodes.Status403Forbidden,
        ViewData = new ViewDataDictionary(ViewData) { Model = this },
    };

    /// <summary>Asked by an account that is not an admin, for a server-wide page: 403 with a page that says why.</summary>
    protected IActionResult AdminsOnlyPage() => new ViewResult
    {
        ViewName = "/Dashboard/Shared/_Forbidden.cshtml",
        StatusCode = StatusCodes.Status403Forbidden,
        ViewData = new ViewDataDictionary(ViewData) { Model = this, ["AdminsOnly"] = true },
    };

    /// <summary>True when the request came from the page's script and wants only a fragment back.</summary>
    protected bool IsFragmentRequest => Request.Headers["X-Dashboard-Fragment"] == "1";
}

/// <summary>
/// A page of one project: <c>{projectId}</c> in the route must be a project the account belongs to (admins belong to all);
/// anything else is the same 404, so a project's existence does not leak.
/// </summary>
public abstract class ProjectPageModel : DashboardPageModel
{
    public Project Project { get; private set; } = null!;

    public string Role { get; private set; } = ProjectRoles.Member;

    public bool IsOwner => Role == ProjectRoles.Owner;

    /// <summary>The projects this account can open, for the switcher.</summary>
    public IReadOnlyList<(Guid Id, string Name)> Projects { get; private set; } = [];

    protected override async Task<IActionResult?> BeforeHandlerAsync(PageHandlerExecutingContext context)
    {
        var db = HttpContext.RequestServices.GetRequiredService<AperturDb>();
        var user = CurrentUser!;
        if (await ProjectIdAsync(db, HttpContext.RequestAborted) is not { } projectId)
        {
            return NotFoundPage();
        }
        var access = await DashboardAccess.ForProjectAsync(db, user, projectId, HttpContext.RequestAborted);
        if (access is null)
        {
            return NotFoundPage();
        }
        (Project, Role) = access.Value;
        Projects = await DashboardAccess.ProjectsOfAsync(db, user, HttpContext.RequestAborted);
        if (HttpMethods.IsPost(Request.Method) && !IsOwner && !MemberMayPost(context.HandlerMethod?.Name))
        {
            return ForbiddenPage();
        }
        return null;
    }

    /// <summary>
    /// The project this page belongs to: <c>{projectId}</c> of the route, or for a page addressed by a thing of the project,
    /// that thing's project (null: the same 404). Membership and role are then checked the same way for every page.
    /// </summary>
    protected virtual Task<Guid?> ProjectIdAsync(AperturDb db, CancellationToken ct) =>
        Task.FromResult(Guid.TryParse(RouteData.Values["projectId"]?.ToString(), out var id) ? id : (Guid?)null);

    /// <summary>Which POST handlers a member (not owner) may run on this page; owners run all.</summary>
    protected virtual bool MemberMayPost(string? handler) => false;
}

/// <summary>Who may open which project.</summary>
public static class DashboardAccess
{
    public static async Task<(Project Project, string Role)?> ForProjectAsync(AperturDb db, DashboardUser user, Guid projectId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(user);
        var project = await db.Projects.FirstOrDefaultAsync(p => p.Id == projectId, ct);
        if (project is null)
        {
            return null;
        }
        if (user.IsAdmin)
        {
            return (project, ProjectRoles.Owner);
        }
        var role = await db.ProjectMembers.Where(m => m.ProjectId == projectId && m.UserId == user.Id).Select(m => m.Role).FirstOrDefaultAsync(ct);
        return role is null ? null : (project, role);
    }

    public static async Task<IReadOnlyList<(Guid Id, string Name)>> ProjectsOfAsync(AperturDb db, DashboardUser user, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(user);
        var projects = user.IsAdmin
            ? db.Projects.AsNoTracking()
            : db.Projects.AsNoTracking().Where(p => db.ProjectMembers.Any(m => m.ProjectId == p.Id && m.UserId == user.Id));
        var rows = await projects.OrderBy(p => p.Name).ThenBy(p => p.Id).Select(p => new { p.Id, p.Name }).ToListAsync(ct);
        return rows.Select(r => (r.Id, r.Name)).ToList();
    }
}

/// <summary>The HTTP headers of every dashboard answer: never cached or framed, scripts and styles only from this server.</summary>
public static class DashboardHeaders
{
    /// <param name="formTargets">Origins besides this server that a form of the page may end up at through a redirect (an OAuth
    /// provider's consent page after "Connect"): CSP <c>form-action</c> also governs where a form's answer redirects.</param>
    public static void Apply(HttpResponse response, IEnumerable<string>? formTargets = null)
    {
        ArgumentNullException.ThrowIfNull(response);
        var formAction = formTargets is null ? "'self'" : string.Join(' ', formTargets.Prepend("'self'"));
        var headers = response.Headers;
        // What anti-forgery itself requires of a page with a form (it would rewrite anything else, with a warning).
        headers.CacheControl = "no-cache, no-store";
        headers.Pragma = "no-cache";
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "same-origin";
        headers.ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            + $"form-action {formAction}; base-uri 'none'; frame-ancestors 'none'";
    }
}
