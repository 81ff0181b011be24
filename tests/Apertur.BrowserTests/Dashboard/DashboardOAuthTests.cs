using Apertur.BrowserTests.Infrastructure;
using Apertur.IntegrationTests.CloudDrives;
using Apertur.Server.CloudDrives;
using Apertur.Tests.CloudDrives;
using Microsoft.Playwright;
using Shouldly;
using static Microsoft.Playwright.Assertions;

namespace Apertur.BrowserTests.Dashboard;

/// <summary>Connecting a drive from the dashboard in a real browser: its form, the provider's consent, the way back signed in.</summary>
[Collection(OneBrowser.Name)]
public sealed class DashboardOAuthTests(Chromium chromium)
{
    [Fact]
    public async Task Connect_DropboxDestination_ComesBackConnectedWithTheAccount()
    {
        await using var dropbox = await FakeDropbox.StartAsync(TimeProvider.System);
        var settings = CloudKit.Settings(dropbox: dropbox);
        // The browser must reach the callback: the server builds it from the address it is opened at.
        settings.Remove("Apertur:PublicBaseUrl");
        await using var site = await DashboardSite.StartAsync(chromium, settings);
        dropbox.OAuth.RedirectUris.Add(site.Origin + "/oauth/dropbox/callback");
        var destination = await CloudKit.DestinationAsync(site.App, "dropbox", new { folder = "Shop" }, name: "Shop box");
        var page = await site.SignedInPageAsync();
        await site.OpenAsync(page, "Destinations");
        var row = page.Locator("tr[data-destination='Shop box']");
        await Expect(row.Locator("[data-connection]")).ToContainTextAsync("not connected");

        await row.GetByRole(AriaRole.Button, new() { Name = "Connect Dropbox" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync(
            "Dropbox connected as Grace Hopper (grace@example.com): \"Shop box\" delivers there now.");
        page.Url.ShouldStartWith($"{site.Origin}/dashboard/projects/");
        await Expect(row.Locator("[data-connection]")).ToContainTextAsync("connected");
        await Expect(row.Locator("[data-connection]")).ToContainTextAsync("Grace Hopper (grace@example.com)");
        await Expect(row.GetByRole(AriaRole.Button, new() { Name = "Reconnect Dropbox" })).ToBeVisibleAsync();
        dropbox.OAuth.CodeExchanges.ShouldBe(1);
        (await CloudKit.StoredAsync(site.App, destination))!.Status.ShouldBe(OAuthConnectionStatus.Connected);
        await DashboardScreenshotTests.ShootAsync(page, "drive-connected");
    }
}
