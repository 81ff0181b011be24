using System.Net;
using System.Text.RegularExpressions;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Server.Dashboard.Accounts;
using Apertur.Server.Data;
using Apertur.Server.Hosting;
using Apertur.Tests;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;

namespace Apertur.IntegrationTests.Dashboard;

/// <summary>
/// A person at the dashboard with a plain HttpClient: cookies kept, forms posted with the anti-forgery token read from the
/// page that holds them, redirects not followed (so each answer can be checked).
/// </summary>
public sealed partial class DashboardBrowser(HttpClient http) : IDisposable
{
    public const string AdminPassword = "admin-password-for-tests";

    public HttpClient Http { get; } = http;

    /// <summary>A server whose first admin (<c>admin</c>) has <see cref="AdminPassword"/>.</summary>
    public static Task<TestApp> StartAppAsync(string database, IDictionary<string, string?>? settings = null, ManualClock? clock = null, bool kestrel = false)
    {
        var all = new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>())
        {
            ["Apertur:Bootstrap:AdminPassword"] = AdminPassword,
        };
        return TestApp.StartAsync(database, all, clock, kestrel);
    }

    /// <summary>A browser with no sign-in yet (no API key either).</summary>
    public static DashboardBrowser Anonymous(TestApp app) => new(app.CreateClient());

    /// <summary>Signs in and insists it worked (a redirect away from the sign-in page).</summary>
    public static async Task<DashboardBrowser> SignInAsync(TestApp app, string username = "admin", string password = AdminPassword)
    {
        var browser = Anonymous(app);
        using var response = await browser.SignInAttemptAsync(username, password);
        response.StatusCode.ShouldBe(HttpStatusCode.Redirect, await response.Content.ReadAsStringAsync());
        return browser;
    }

    /// <summary>One sign-in attempt through the form.</summary>
    public Task<HttpResponseMessage> SignInAttemptAsync(string username, string password) =>
        PostFormAsync("/dashboard/login", new() { ["username"] = username, ["password"] = password });

    /// <summary>
    /// Opens <paramref name="pageUrl"/>, takes the anti-forgery token of its forms, and posts <paramref name="fields"/> to it
    /// (to the named handler when given), as the browser submits a form of that page.
    /// </summary>
    public Task<HttpResponseMessage> PostFormAsync(string pageUrl, Dictionary<string, string> fields, string? handler = null) =>
        PostFormToAsync(handler is null ? pageUrl : $"{pageUrl}{(pageUrl.Contains('?', StringComparison.Ordinal) ? '&' : '?')}handler={handler}",
            pageUrl, fields);

    /// <summary>Posts to <paramref name="target"/> a form of <paramref name="formPage"/> (one whose action is elsewhere), with that page's token.</summary>
    public async Task<HttpResponseMessage> PostFormToAsync(string target, string formPage, Dictionary<string, string>? fields = null)
    {
        var token = await TokenAsync(formPage);
        var form = new Dictionary<string, string>(fields ?? []) { ["__RequestVerificationToken"] = token };
        return await Http.PostAsync(target, new FormUrlEncodedContent(form));
    }

    /// <summary>The anti-forgery token in the forms of a page (the page must answer 200).</summary>
    public async Task<string> TokenAsync(string pageUrl)
    {
        using var page = await Http.GetAsync(pageUrl);
        var html = await page.Content.ReadAsStringAsync();
        page.StatusCode.ShouldBe(HttpStatusCode.OK, $"GET {pageUrl}: {html}");
        var match = TokenInput().Match(html);
        match.Success.ShouldBeTrue($"no anti-forgery token on {pageUrl}");
        return WebUtility.HtmlDecode(match.Groups["value"].Value);
    }

    /// <summary>A page that must answer 200: its HTML.</summary>
    public async Task<string> PageAsync(string url)
    {
        var (status, html) = await GetPageAsync(url);
        status.ShouldBe(HttpStatusCode.OK, $"GET {url}: {html}");
        return html;
    }

    public async Task<(HttpStatusCode Status, string Html)> GetPageAsync(string url)
    {
        using var response = await Http.GetAsync(url);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>The text of the page's error paragraph, or null.</summary>
    public static string? ErrorOf(string html) => ErrorParagraph().Match(html) is { Success: true } m ? WebUtility.HtmlDecode(m.Groups["text"].Value) : null;

    /// <summary>The text of the page's notice paragraph (what a change did), or null.</summary>
    public static string? NoticeOf(string html) => NoticeParagraph().Match(html) is { Success: true } m ? WebUtility.HtmlDecode(m.Groups["text"].Value) : null;

    /// <summary>An account straight through the service (not what a test is about), optionally a member of a project.</summary>
    public static async Task<DashboardUser> CreateUserAsync(TestApp app, string username, string password, Guid? projectId = null,
        string role = ProjectRoles.Member, bool mustChangePassword = false)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var accounts = scope.ServiceProvider.GetRequiredService<AccountService>();
        var user = await accounts.CreateUserAsync(username, password, isAdmin: false, mustChangePassword, CancellationToken.None);
        if (projectId is { } id)
        {
            var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
            db.ProjectMembers.Add(new ProjectMember { ProjectId = id, UserId = user.Id, Role = role, CreatedAt = user.CreatedAt });
            await db.SaveChangesAsync();
        }
        return user;
    }

    public static Task<Guid> DefaultProjectIdAsync(TestApp app) =>
        Manage.DbAsync(app, db => db.Projects.Where(p => p.Name == Startup.DefaultProjectName).Select(p => p.Id).FirstAsync());

    public static Task<DashboardUser> UserAsync(TestApp app, string username) =>
        Manage.DbAsync(app, db => db.DashboardUsers.AsNoTracking().FirstAsync(u => u.Username == username));

    public void Dispose() => Http.Dispose();

    [GeneratedRegex("""<input[^>]*name="__RequestVerificationToken"[^>]*value="(?<value>[^"]+)""")]
    private static partial Regex TokenInput();

    [GeneratedRegex("""<p class="error" role="alert">(?<text>[^<]*)</p>""")]
    private static partial Regex ErrorParagraph();

    [GeneratedRegex("""<p class="notice" role="status">(?<text>[^<]*)</p>""")]
    private static partial Regex NoticeParagraph();
}
