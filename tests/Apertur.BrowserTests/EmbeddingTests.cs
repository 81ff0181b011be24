using System.Text.Json;
using Apertur.BrowserTests.Infrastructure;
using Apertur.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Shouldly;

namespace Apertur.BrowserTests;

/// <summary>The page inside an iframe tells its parent what happened (contract §2.12 c), as the Odoo widget expects.</summary>
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
        await phone.Page.GotoAsync(parent.Url.ToString());
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
        await phone.Page.GotoAsync(parent.Url.ToString());

        var message = (await WaitForMessagesAsync(phone, 1)).Single().GetProperty("message");
        message.GetProperty("type").GetString().ShouldBe("apertur:error");
        message.GetProperty("data").GetProperty("code").GetString().ShouldBe("SESSION_NOT_FOUND");
    }

    /// <summary>Another site (another origin, on loopback) whose page frames the upload page and records the messages it gets.</summary>
    private static async Task<WebhookReceiver> ParentSiteAsync(string frameUrl)
    {
        var site = await WebhookReceiver.StartAsync();
        site.Respond = (context, _) =>
        {
            context.Response.ContentType = "text/html; charset=utf-8";
            return context.Response.WriteAsync($$"""
                <!doctype html><title>Parent</title>
                <script>window.received = []; addEventListener('message', e => received.push({ origin: e.origin, message: e.data }));</script>
                <iframe src="{{frameUrl}}" style="width:360px;height:700px"></iframe>
                """);
        };
        return site;
    }

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
