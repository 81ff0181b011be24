using System.Text.Json;
using Apertur.BrowserTests.Infrastructure;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Tests;
using Microsoft.AspNetCore.Http;
using Shouldly;

namespace Apertur.BrowserTests;

/// <summary>The page inside an iframe tells its parent what happened (README, "The upload page"), as the Odoo widget expects.</summary>
[Collection(OneBrowser.Name)]
public sealed class EmbeddingTests(Chromium chromium)
{
    [Fact]
    public async Task Page_InAnIframe_PostsReceivedCompleteAndErrorToTheParent()
    {
        await using var app = await TestApp.StartAsync(Databases.Sqlite, kestrel: true);
        var (uuid, url) = await app.NewSessionAsync("""{"max_images":1}""");
        await using var parent = await ParentSiteAsync($"{url}?colorScheme=light");
        await using var phone = await chromium.NewPhoneAsync();
        await phone.Page.GotoAsync(parent.Url().ToString());
        var frame = phone.Page.FrameLocator("iframe");

        await frame.Locator("#gallery-input").SetInputFilesAsync([Fixture.Path("pdf-named.jpg"), Fixture.Path("small.jpg")]);

        await Microsoft.Playwright.Assertions.Expect(frame.Locator(".tile[data-status=\"done\"]")).ToHaveCountAsync(1);
        await Microsoft.Playwright.Assertions.Expect(frame.Locator("#closed-title")).ToHaveTextAsync("Session full");
        var messages = await WaitForMessagesAsync(phone, 3);
        var origin = app.KestrelAddress!.GetLeftPart(UriPartial.Authority);
        messages.ShouldAllBe(m => m.GetProperty("origin").GetString() == origin);
        var types = messages.Select(m => m.GetProperty("message").GetProperty("type").GetString()).ToList();
        types.ShouldBe(["apertur:error", "apertur:image:received", "apertur:session:complete"]);

        var error = messages[0].GetProperty("message").GetProperty("data");
        error.GetProperty("message").GetString().ShouldBe("This file is not a photo (PDF)");
        var received = messages[1].GetProperty("message").GetProperty("data");
        received.GetProperty("filename").GetString().ShouldBe("small.jpg");
        received.GetProperty("size_bytes").GetInt64().ShouldBe(Fixture.Bytes("small.jpg").Length);
        received.GetProperty("id").GetString().ShouldBe((await app.UploadsAsync()).Single().GetProperty("id").GetString());
        var complete = messages[2].GetProperty("message").GetProperty("data");
        complete.GetProperty("sessionId").GetString().ShouldBe(uuid);
    }

    [Fact]
    public async Task Page_UnknownSessionInAnIframe_PostsAnError()
    {
        await using var app = await TestApp.StartAsync(Databases.Sqlite, kestrel: true);
        await using var parent = await ParentSiteAsync($"{app.KestrelAddress}u/{Guid.NewGuid()}");
        await using var phone = await chromium.NewPhoneAsync();
        await phone.Page.GotoAsync(parent.Url().ToString());

        var message = (await WaitForMessagesAsync(phone, 1)).Single().GetProperty("message");
        message.GetProperty("type").GetString().ShouldBe("apertur:error");
        message.GetProperty("data").GetProperty("code").GetString().ShouldBe("SESSION_NOT_FOUND");
    }

    [Fact]
    public async Task Page_KeyWithAllowedDomains_IsShownOnlyInTheirFrames()
    {
        await using var app = await TestApp.StartAsync(Databases.Sqlite, kestrel: true);
        await using var allowedSite = await ParentSiteAsync("about:blank");
        var projectId = await app.Client.ProjectIdAsync();
        using var created = await app.Client.PostAsync($"/api/v1/projects/{projectId}/keys", Http.Json(
            $$"""{"label":"Widget","allowedDomains":["{{allowedSite.Url().Authority}}"]}"""));
        using var widgetKey = app.CreateClient((await created.ReadJsonAsync()).GetProperty("plainTextKey").GetString());
        var url = (await widgetKey.CreateSessionAsync("""{"max_images":1}""")).GetProperty("upload_url").GetString()!;

        // The listed site frames the page, and uploads from it (this server's origin) are accepted.
        allowedSite.Respond = ParentPage(url);
        await using (var phone = await chromium.NewPhoneAsync())
        {
            await phone.Page.GotoAsync(allowedSite.Url().ToString());
            var frame = phone.Page.FrameLocator("iframe");
            await frame.Locator("#gallery-input").SetInputFilesAsync([Fixture.Path("small.jpg")]);
            await Microsoft.Playwright.Assertions.Expect(frame.Locator(".tile[data-status=\"done\"]")).ToHaveCountAsync(1);
        }

        // Any other site gets no page in its frame.
        await using var otherSite = await ParentSiteAsync(url);
        await using (var phone = await chromium.NewPhoneAsync())
        {
            await phone.Page.GotoAsync(otherSite.Url().ToString());
            await phone.Page.WaitForLoadStateAsync(Microsoft.Playwright.LoadState.Load);
            var child = phone.Page.Frames.Single(f => f != phone.Page.MainFrame);
            child.Url.ShouldNotStartWith(url);
            (await child.Locator("#gallery-input").CountAsync()).ShouldBe(0);
        }
    }

    /// <summary>Another site (another origin, on loopback) whose page frames the upload page and records the messages it gets.</summary>
    private static async Task<TestReceiver> ParentSiteAsync(string frameUrl)
    {
        var site = await TestReceiver.StartAsync();
        site.Respond = ParentPage(frameUrl);
        return site;
    }

    private static Func<HttpContext, ReceivedRequest, Task> ParentPage(string frameUrl) => (context, _) =>
    {
        context.Response.ContentType = "text/html; charset=utf-8";
        return context.Response.WriteAsync($$"""
            <!doctype html><title>Parent</title>
            <script>window.received = []; addEventListener('message', e => received.push({ origin: e.origin, message: e.data }));</script>
            <iframe src="{{frameUrl}}" style="width:360px;height:700px"></iframe>
            """);
    };

    private static async Task<List<JsonElement>> WaitForMessagesAsync(Phone phone, int count)
    {
        var messages = new List<JsonElement>();
        await Wait.UntilAsync(async () =>
        {
            var json = await phone.Page.EvaluateAsync<string>("JSON.stringify(window.received)");
            messages = JsonDocument.Parse(json).RootElement.EnumerateArray().Select(e => e.Clone()).ToList();
            return messages.Count >= count;
        }, TimeSpan.FromSeconds(20), $"{count} messages from the frame");
        return messages;
    }
}
