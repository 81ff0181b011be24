using System.Collections.Concurrent;
using Apertur.BrowserTests.Infrastructure;
using Apertur.IntegrationTests.Infrastructure;
using Microsoft.Playwright;
using Shouldly;
using static Microsoft.Playwright.Assertions;

namespace Apertur.BrowserTests;

/// <summary>The interactive API reference at /docs (docs/api.md "API reference"), rendered by a real browser.</summary>
[Collection(OneBrowser.Name)]
public sealed class ApiReferenceTests(Chromium chromium)
{
    [Fact]
    public async Task Docs_Open_RendersTheDocumentWithTheUploadRoute()
    {
        await using var app = await TestApp.StartAsync(Databases.Sqlite, kestrel: true);
        var origin = app.KestrelAddress!.GetLeftPart(UriPartial.Authority);
        await using var context = await chromium.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
        context.SetDefaultTimeout(20_000);
        var page = await context.NewPageAsync();
        // Every request the page makes, and every one that failed or was refused: the reference loads nothing from elsewhere
        // and none of its assets is missing.
        var requested = new ConcurrentQueue<string>();
        var broken = new ConcurrentQueue<string>();
        page.Request += (_, request) => requested.Enqueue(request.Url);
        page.RequestFailed += (_, request) => broken.Enqueue($"{request.Url}: {request.Failure}");
        page.Response += (_, response) =>
        {
            if (response.Status >= 400)
            {
                broken.Enqueue($"{response.Url}: {response.Status}");
            }
        };

        // Without the trailing slash, as a person types it: redirected to /docs/, which loads /openapi/v1.json.
        var document = await page.RunAndWaitForResponseAsync(() => page.GotoAsync($"{origin}/docs"), $"{origin}/openapi/v1.json");
        document.Status.ShouldBe(200);
        page.Url.ShouldBe($"{origin}/docs/");

        // The upload operation, found from the sidebar (its tag, then its summary), shown with its path and bodies.
        await page.GetByRole(AriaRole.Link, new() { Name = "Uploads", Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Upload one image to a session (public, by its UUID)" }).First.ClickAsync();
        var operation = page.Locator("section", new() { Has = page.GetByRole(AriaRole.Heading, new() { Name = "Upload one image to a session (public, by its UUID)" }) }).Last;
        await Expect(operation).ToContainTextAsync("/api/v1/upload/{uuid}/images");
        await Expect(operation).ToContainTextAsync("multipart/form-data");
        await page.ScreenshotAsync(new() { Path = Path.Combine(Path.GetTempPath(), "apertur-api-reference.png") });

        requested.Where(url => !url.StartsWith(origin, StringComparison.Ordinal) && !url.StartsWith("data:", StringComparison.Ordinal)).ShouldBeEmpty();
        broken.ShouldBeEmpty();
    }
}
