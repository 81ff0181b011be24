using Apertur.BrowserTests.Dashboard;
using Apertur.BrowserTests.Infrastructure;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Tests;
using Microsoft.AspNetCore.Http;
using Microsoft.Playwright;
using Shouldly;
using static Microsoft.Playwright.Assertions;

namespace Apertur.BrowserTests;

/// <summary>
/// The public status page in real Chromium (docs/operations.md "Status page"): operational on a quiet server, degraded while
/// the webhook receivers refuse most deliveries, and with the incident an admin posts in the dashboard; light and dark,
/// desktop and phone. The screenshots are the README's (<c>scripts/screenshots.sh</c> writes them into docs/screenshots).
/// </summary>
[Collection(OneBrowser.Name)]
public sealed class StatusPageScreenshotTests(Chromium chromium)
{
    [Fact]
    public async Task StatusPage_OperationalThenDegradedThenWithAnIncident_ReadableWithoutScript()
    {
        await using var site = await DashboardSite.StartAsync(chromium, new Dictionary<string, string?> { ["Apertur:Status:CacheFor"] = "00:00:00" });
        var app = site.App;
        var page = await site.NewPageAsync();
        // Nothing on the page needs a script: it reads the same with scripts off.
        await page.Context.RouteAsync("**/*.js", route => route.AbortAsync());
        await page.GotoAsync($"{site.Origin}/status");
        await Expect(page.Locator("[data-overall]")).ToHaveAttributeAsync("data-overall", "operational");
        await Expect(page.GetByText("All systems operational")).ToBeVisibleAsync();
        await DashboardScreenshotTests.ShootFileAsync(page, "status-operational");

        // One receiver takes its images, another refuses every one for good: 1 of 5 attempts succeeds.
        await using var shop = await TestReceiver.StartAsync();
        await using var crm = await TestReceiver.StartAsync();
        crm.Respond = (http, _) =>
        {
            http.Response.StatusCode = StatusCodes.Status410Gone;
            return http.Response.WriteAsync("this endpoint was retired");
        };
        var shopId = await Seed.DestinationAsync(app, "webhook", "Shop backend", $$"""{"url":"{{shop.Url()}}"}""");
        var crmId = await Seed.DestinationAsync(app, "webhook", "Legacy CRM", $$"""{"url":"{{crm.Url()}}"}""");
        var good = (await app.Client.CreateSessionAsync($$"""{"destination_ids":["{{shopId}}"]}""")).GetProperty("uuid").GetString()!;
        var bad = (await app.Client.CreateSessionAsync($$"""{"destination_ids":["{{crmId}}"]}""")).GetProperty("uuid").GetString()!;
        (await app.UploadElsewhereAsync(good, "small.jpg")).ShouldBe(201);
        for (var i = 0; i < 4; i++)
        {
            (await app.UploadElsewhereAsync(bad, "small.jpg")).ShouldBe(201);
        }
        await Wait.UntilAsync(async () => (await app.Client.GetStringAsync("/status.json")).Contains("\"degraded\"", StringComparison.Ordinal),
            TimeSpan.FromSeconds(30), "the webhook kind degraded");
        await page.ReloadAsync();
        await Expect(page.Locator("[data-component='Webhook delivery']")).ToHaveAttributeAsync("data-state", "degraded");
        await Expect(page.Locator("[data-overall]")).ToHaveAttributeAsync("data-overall", "degraded");
        (await page.ContentAsync()).ShouldNotContain("Legacy CRM");
        await BannerReadableAsync(page);
        await DashboardScreenshotTests.ShootFileAsync(page, "status-degraded");

        // The admin posts an incident from the dashboard, reached from its header.
        var admin = await site.SignedInPageAsync();
        await admin.GetByRole(AriaRole.Link, new() { Name = "Status page" }).ClickAsync();
        await admin.GetByLabel("Title").FillAsync("Webhook deliveries failing for some receivers");
        await admin.GetByLabel("State").SelectOptionAsync("identified");
        await admin.GetByLabel("Message").FillAsync("Some receivers answer 410 Gone. We are contacting the affected customers; other deliveries are not affected.");
        await admin.GetByRole(AriaRole.Button, new() { Name = "Post incident" }).ClickAsync();
        await Expect(admin.GetByRole(AriaRole.Status)).ToContainTextAsync("posted on the status page");
        await DashboardScreenshotTests.ShootAsync(admin, "incidents");

        await page.ReloadAsync();
        var incident = page.Locator("article.incident");
        await Expect(incident).ToContainTextAsync("Webhook deliveries failing for some receivers");
        await Expect(incident).ToContainTextAsync("Identified");
        await DashboardScreenshotTests.ShootFileAsync(page, "status-incident", fullPage: true);

        var phone = await site.NewPageAsync(phone: true);
        await phone.EmulateMediaAsync(new() { ColorScheme = ColorScheme.Dark });
        await phone.GotoAsync($"{site.Origin}/status");
        await Expect(phone.Locator("article.incident")).ToBeVisibleAsync();
        (await phone.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth")).ShouldBeTrue("nothing wider than the phone");
        await BannerReadableAsync(phone);
        await DashboardScreenshotTests.ShootFileAsync(phone, "status-phone-dark");
        var png = await File.ReadAllBytesAsync(Path.Combine(Screenshots.Directory, "status-phone-dark.png"));
        PngImage.ReadSize(png).ShouldBe((780, 1688));
    }

    // The banner's text is not drawn in its own background colour (the state colours also colour text).
    private static async Task BannerReadableAsync(IPage page)
    {
        var colours = await page.Locator("[data-overall]").EvaluateAsync<string[]>("e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]");
        colours[0].ShouldNotBe(colours[1]);
    }
}
