using Apertur.BrowserTests.Infrastructure;
using Apertur.IntegrationTests.Infrastructure;
using Microsoft.Playwright;
using Shouldly;
using static Microsoft.Playwright.Assertions;

namespace Apertur.BrowserTests.Dashboard;

/// <summary>Deleting a session from its page (docs/api.md "Upload sessions", "Delete"): asked first, then shown deleted, photos as placeholders.</summary>
[Collection(OneBrowser.Name)]
public sealed class DashboardEraseTests(Chromium chromium)
{
    [Fact]
    public async Task Session_DeleteAskedFirstThenConfirmed_ShowsTheSessionDeletedAndItsPhotoAsAPlaceholder()
    {
        await using var site = await DashboardSite.StartAsync(chromium);
        var page = await site.SignedInPageAsync();
        var (uuid, _) = await site.App.NewSessionAsync();
        (await site.App.UploadElsewhereAsync(uuid, "small.jpg")).ShouldBe(201);
        var projectId = await site.App.Client.ProjectIdAsync();
        await page.GotoAsync($"{site.Origin}/dashboard/projects/{projectId}/sessions/{uuid}");
        var photo = page.Locator("[data-image='small.jpg']");
        // The server's thumbnail of the 640×480 photo, 320 px wide.
        await Expect(photo.Locator("img")).ToHaveJSPropertyAsync("naturalWidth", 320);

        // The browser asks first (the site's pages accept every question, DashboardSite.NewPageAsync).
        var questions = new List<string>();
        page.Dialog += (_, dialog) => questions.Add(dialog.Message);
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete session" }).ClickAsync();
        questions.ShouldHaveSingleItem().ShouldStartWith("Delete this session?");

        // What stays, not the one-time notice: the page's live stream may reload it on the session's own update first.
        await Expect(page.GetByText("This session was deleted")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-session-status]")).ToHaveTextAsync("deleted");
        await Expect(photo.Locator("[data-bytes-deleted]")).ToHaveTextAsync("deleted");
        await Expect(photo.Locator("img")).ToHaveCountAsync(0);
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Delete session" })).ToHaveCountAsync(0);
        await Expect(page.Locator(".qr svg")).ToHaveCountAsync(0);
        await Expect(page.Locator("[data-live-status]")).ToHaveCountAsync(0);

        // The list says deleted too (the API reads a deleted session as expired).
        await page.GotoAsync($"{site.Origin}/dashboard/projects/{projectId}/sessions");
        await Expect(page.Locator($"tr:has(a[href$='{uuid}']) [data-label='Status']")).ToHaveTextAsync("deleted");
        await page.ScreenshotAsync(new() { Path = Path.Combine(Path.GetTempPath(), "apertur-dashboard-session-deleted.png"), FullPage = true });
    }
}
