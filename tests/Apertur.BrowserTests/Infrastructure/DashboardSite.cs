using Apertur.IntegrationTests.Infrastructure;
using Microsoft.Playwright;

namespace Apertur.BrowserTests.Infrastructure;

/// <summary>
/// The dashboard on a real server (the integration tests' TestApp on Kestrel, delivery worker on) with a known first admin,
/// opened in the shared headless Chromium: each page gets its own browser profile (cookies), desktop or phone sized.
/// </summary>
public sealed class DashboardSite : IAsyncDisposable
{
    public const string AdminPassword = "browser-test-password";

    private readonly Chromium _chromium;
    private readonly List<IBrowserContext> _contexts = [];

    private DashboardSite(Chromium chromium, TestApp app)
    {
        _chromium = chromium;
        App = app;
    }

    public TestApp App { get; }

    /// <summary>The server's origin, e.g. http://127.0.0.1:41234.</summary>
    public string Origin => App.KestrelAddress!.GetLeftPart(UriPartial.Authority);

    public static async Task<DashboardSite> StartAsync(Chromium chromium, IDictionary<string, string?>? settings = null)
    {
        var config = new Dictionary<string, string?>
        {
            ["Apertur:Bootstrap:AdminPassword"] = AdminPassword,
            ["Apertur:Workers:Enabled"] = "true",
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>())
        {
            config[k] = v;
        }
        return new DashboardSite(chromium, await TestApp.StartAsync(Databases.Sqlite, config, kestrel: true));
    }

    /// <summary>A fresh browser profile: a 1280×900 desktop, or a 390×844 phone at 2× pixels.</summary>
    public async Task<IPage> NewPageAsync(bool phone = false)
    {
        var context = await _chromium.Browser.NewContextAsync(phone
            ? new() { ViewportSize = new() { Width = 390, Height = 844 }, IsMobile = true, HasTouch = true, DeviceScaleFactor = 2 }
            : new() { ViewportSize = new() { Width = 1280, Height = 900 } });
        context.SetDefaultTimeout(20_000);
        _contexts.Add(context);
        var page = await context.NewPageAsync();
        // The person answers OK to "Delete …?" and "Rotate …?" confirmations (Playwright would dismiss them).
        page.Dialog += async (_, dialog) => await dialog.AcceptAsync();
        return page;
    }

    /// <summary>Signs in as the first admin and waits for the page after sign-in (the project, when it is the only one).</summary>
    public async Task<IPage> SignedInPageAsync(bool phone = false)
    {
        var page = await NewPageAsync(phone);
        await SignInAsync(page, "admin", AdminPassword);
        await page.WaitForURLAsync(url => !url.Contains("/dashboard/login", StringComparison.Ordinal), SignedInUrl);
        return page;
    }

    /// <summary>
    /// How to wait for the page after signing in: until the URL is the signed-in one on a committed navigation, not for
    /// that navigation's "load" (the sign-in answers with redirects; waiting for the load of one of them timed out once in
    /// a full run with the network already idle). What follows waits for the page it needs (locators, ShootAsync).
    /// </summary>
    public static readonly PageWaitForURLOptions SignedInUrl = new() { WaitUntil = WaitUntilState.Commit };

    public async Task SignInAsync(IPage page, string username, string password)
    {
        ArgumentNullException.ThrowIfNull(page);
        await page.GotoAsync($"{Origin}/dashboard/login");
        await page.GetByLabel("User name").FillAsync(username);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
    }

    /// <summary>Opens the Default project's page named by its navigation link ("API keys", "Destinations", …).</summary>
    public async Task OpenAsync(IPage page, string section)
    {
        ArgumentNullException.ThrowIfNull(page);
        if (!page.Url.Contains("/dashboard/projects/", StringComparison.Ordinal))
        {
            await page.GotoAsync($"{Origin}/dashboard?all=true");
            await page.GetByRole(AriaRole.Link, new() { Name = "Default" }).ClickAsync();
        }
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Project" }).GetByRole(AriaRole.Link, new() { Name = section, Exact = true }).ClickAsync();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var context in _contexts)
        {
            await context.CloseAsync();
        }
        await App.DisposeAsync();
    }
}
