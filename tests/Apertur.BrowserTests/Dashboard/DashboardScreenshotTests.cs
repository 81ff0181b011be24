using System.Net.Http.Json;
using Apertur.BrowserTests.Infrastructure;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Tests;
using Microsoft.AspNetCore.Http;
using Microsoft.Playwright;
using Shouldly;
using static Microsoft.Playwright.Assertions;

namespace Apertur.BrowserTests.Dashboard;

/// <summary>
/// Each main dashboard page with real data (deliveries sent to a webhook and a WebDAV server, one receiver refusing), at
/// desktop size and the busiest ones at phone size, as shown in the README. An ordinary run writes them under the test
/// output; <c>scripts/screenshots.sh</c> writes them into docs/screenshots.
/// </summary>
[Collection(OneBrowser.Name)]
public sealed class DashboardScreenshotTests(Chromium chromium) : IAsyncLifetime
{
    private readonly (string Remote, string Local) _folder = LoopbackFiles.NewFolder();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        LoopbackFiles.DeleteLocal(_folder.Local);
        await LoopbackFiles.DeleteWebDavAsync(_folder.Remote);
    }

    [Fact]
    public async Task Screenshots_MainPages_AreTakenAtDesktopAndPhoneSize()
    {
        await using var site = await DashboardSite.StartAsync(chromium);
        await using var shop = await TestReceiver.StartAsync();
        await using var crm = await TestReceiver.StartAsync();
        crm.Respond = (http, _) =>
        {
            http.Response.StatusCode = StatusCodes.Status410Gone;
            return http.Response.WriteAsync("this endpoint was retired");
        };
        await using var events = await TestReceiver.StartAsync();
        var app = site.App;
        var shopId = await Seed.DestinationAsync(app, "webhook", "Shop backend", $$"""{"url":"{{shop.Url()}}"}""");
        var crmId = await Seed.DestinationAsync(app, "webhook", "Legacy CRM", $$"""{"url":"{{crm.Url()}}","format":"json_base64"}""");
        var nasId = await Seed.DestinationAsync(app, "webdav", "Office NAS", $$"""
            {"url":"{{LoopbackFiles.WebDavRoot}}","username":"{{LoopbackFiles.User}}","password":"{{LoopbackFiles.Password}}","remote_dir":"{{_folder.Remote}}"}
            """);
        var project = (await (await app.Client.GetAsync("/api/v1/project")).ReadJsonAsync()).GetProperty("id").GetString();
        using (var created = await app.Client.PostAsJsonAsync($"/api/v1/projects/{project}/webhooks",
            new { url = events.Url(), topics = new[] { "project.upload.completed", "project.upload.failed", "project.session.created" } }))
        {
            created.IsSuccessStatusCode.ShouldBeTrue(await created.Content.ReadAsStringAsync());
        }

        var claims = await app.Client.CreateSessionAsync($$"""
            {"label":"Claim 4512 · kitchen","tags":["claim:4512","adjuster:marta"],"destination_ids":["{{shopId}}","{{nasId}}"],"max_images":12}
            """);
        var claimsId = claims.GetProperty("uuid").GetString()!;
        foreach (var photo in new[] { "small.jpg", "phone-photo.jpg", "photo.heic", "photo.webp" })
        {
            (await app.UploadElsewhereAsync(claimsId, photo)).ShouldBe(201);
        }
        var crmSession = await app.Client.CreateSessionAsync($$"""{"label":"Store 12 shelf check","tags":["store:12"],"destination_ids":["{{crmId}}","{{shopId}}"]}""");
        (await app.UploadElsewhereAsync(crmSession.GetProperty("uuid").GetString()!, "small.jpg")).ShouldBe(201);
        await app.Client.CreateSessionAsync("""{"label":"Front desk kiosk"}""");
        await Wait.UntilAsync(async () => shop.Requests.Count == 5 && crm.Requests.Count == 1, TimeSpan.FromSeconds(30), "deliveries done");

        var page = await site.NewPageAsync();
        await page.GotoAsync($"{site.Origin}/dashboard/login");
        await ShootAsync(page, "login");
        await site.SignInAsync(page, "admin", DashboardSite.AdminPassword);
        // The only project opens at once; the list is one link away.
        await page.WaitForURLAsync(url => url.Contains("/dashboard/projects/", StringComparison.Ordinal), DashboardSite.SignedInUrl);
        await ShootAsync(page, "overview");
        await page.GotoAsync($"{site.Origin}/dashboard?all=true");
        await ShootAsync(page, "projects");
        await site.OpenAsync(page, "Sessions");
        await ShootAsync(page, "sessions");
        await page.GetByRole(AriaRole.Link, new() { Name = "Claim 4512 · kitchen" }).ClickAsync();
        await Expect(page.Locator("[data-live-status]")).ToHaveAttributeAsync("data-state", "on");
        await Expect(page.Locator("[data-image] img")).ToHaveCountAsync(4);
        await ThumbnailsShownAsync(page);
        await ShootAsync(page, "session", fullPage: true);
        await site.OpenAsync(page, "Deliveries");
        await ShootAsync(page, "deliveries");
        await page.Locator("tr[data-delivery]", new() { Has = page.Locator("[data-status=failed]") }).GetByRole(AriaRole.Link).ClickAsync();
        await ShootAsync(page, "delivery");
        await site.OpenAsync(page, "Destinations");
        await page.GotoAsync(page.Url.Split('?', '#')[0] + "?kind=sftp");
        await page.Locator("tr[data-destination='Office NAS']").GetByRole(AriaRole.Button, new() { Name = "Test connection" }).ClickAsync();
        await Expect(page.Locator("tr[data-destination='Office NAS'] [data-test-result]")).ToHaveAttributeAsync("data-test-result", "success");
        await ShootAsync(page, "destinations", fullPage: true);
        await site.OpenAsync(page, "API keys");
        await ShootAsync(page, "keys", fullPage: true);
        await site.OpenAsync(page, "Event webhooks");
        await ShootAsync(page, "webhooks");
        await site.OpenAsync(page, "Settings");
        await ShootAsync(page, "settings", fullPage: true);
        await page.GetByRole(AriaRole.Link, new() { Name = "admin" }).ClickAsync();
        await ShootAsync(page, "account");

        var phone = await site.SignedInPageAsync(phone: true);
        await site.OpenAsync(phone, "Overview");
        await ShootAsync(phone, "overview-phone");
        await site.OpenAsync(phone, "Sessions");
        await phone.GetByRole(AriaRole.Link, new() { Name = "Claim 4512 · kitchen" }).ClickAsync();
        await Expect(phone.Locator("[data-image] img")).ToHaveCountAsync(4);
        await ThumbnailsShownAsync(phone);
        await ShootAsync(phone, "session-phone");
        await site.OpenAsync(phone, "Deliveries");
        await ShootAsync(phone, "deliveries-phone");

        foreach (var name in new[] { "overview-phone", "session-phone", "deliveries-phone" })
        {
            var png = await File.ReadAllBytesAsync(Path.Combine(Screenshots.Directory, $"dashboard-{name}.png"));
            PngImage.ReadSize(png).ShouldBe((780, 1688), name);
        }
    }

    /// <summary>
    /// Waits until every thumbnail has been made by the server and drawn: they load lazily, and the first request of each
    /// makes it (JPEG, WebP and HEIC alike), which can take longer than the screenshot's pause.
    /// </summary>
    private static async Task ThumbnailsShownAsync(IPage page)
    {
        await page.EvaluateAsync("() => document.querySelectorAll('img[data-thumbnail]').forEach(i => i.loading = 'eager')");
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('img[data-thumbnail]')].every(i => i.complete && i.naturalWidth > 0)");
    }

    /// <summary>Saves the page as docs/screenshots/dashboard-{name}.png (see scripts/screenshots.sh).</summary>
    internal static Task ShootAsync(IPage page, string name, bool fullPage = false) => ShootFileAsync(page, $"dashboard-{name}", fullPage);

    /// <summary>Saves the page as docs/screenshots/{file}.png.</summary>
    internal static async Task ShootFileAsync(IPage page, string file, bool fullPage = false)
    {
        Directory.CreateDirectory(Screenshots.Directory);
        // The session page keeps its event stream open, so "network idle" never comes: wait for the load, then a moment for images.
        await page.WaitForLoadStateAsync(LoadState.Load);
        await page.WaitForTimeoutAsync(300);
        await page.ScreenshotAsync(new()
        {
            Path = Path.Combine(Screenshots.Directory, $"{file}.png"),
            FullPage = fullPage,
            Animations = ScreenshotAnimations.Disabled,
        });
    }
}
