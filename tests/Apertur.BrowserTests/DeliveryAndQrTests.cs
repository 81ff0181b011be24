using Apertur.BrowserTests.Infrastructure;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Tests;
using Shouldly;
using static Microsoft.Playwright.Assertions;

namespace Apertur.BrowserTests;

/// <summary>The two ends of the page: the QR code that leads to it, and the delivery that confirms a photo arrived.</summary>
[Collection(OneBrowser.Name)]
public sealed class DeliveryAndQrTests(Chromium chromium)
{
    [Fact]
    public async Task Upload_DeliveredToTheWebhook_TileShowsDeliveredLive()
    {
        await using var receiver = await TestReceiver.StartAsync();
        await using var app = await TestApp.StartAsync(Databases.Sqlite, kestrel: true, settings: new Dictionary<string, string?>
        {
            ["Apertur:Delivery:WorkerEnabled"] = "true",
        });
        var destination = await Seed.DestinationAsync(app, "webhook", "Shop", $$"""{"url":"{{receiver.Url()}}"}""");
        var (_, url) = await app.NewSessionAsync($$"""{"destination_ids":["{{destination}}"]}""");
        await using var phone = await chromium.NewPhoneAsync();
        await phone.OpenAsync(url);

        await phone.ChooseFromGalleryAsync("small.jpg");

        var tile = phone.Tile("small.jpg");
        await Expect(tile).ToHaveAttributeAsync("data-status", "delivered");
        await Expect(tile.Locator(".state")).ToHaveTextAsync("Delivered");
        receiver.Requests.Count.ShouldBe(1);
    }

    [Fact]
    public async Task Upload_NotYetDelivered_TileStaysSent()
    {
        await using var receiver = await TestReceiver.StartAsync();
        // The worker is off: the delivery stays pending, so the page must not claim it arrived.
        await using var app = await TestApp.StartAsync(Databases.Sqlite, kestrel: true);
        var destination = await Seed.DestinationAsync(app, "webhook", "Shop", $$"""{"url":"{{receiver.Url()}}"}""");
        var (_, url) = await app.NewSessionAsync($$"""{"destination_ids":["{{destination}}"]}""");
        await using var phone = await chromium.NewPhoneAsync();
        await phone.OpenAsync(url);

        await phone.ChooseFromGalleryAsync("small.jpg");

        await Expect(phone.Tile("small.jpg")).ToHaveAttributeAsync("data-status", "done");
        await phone.Page.WaitForTimeoutAsync(1000);
        await Expect(phone.Tile("small.jpg")).ToHaveAttributeAsync("data-status", "done");
        receiver.Requests.ShouldBeEmpty();
    }

    [Fact]
    public async Task Qr_DecodedByAScanner_OpensTheUploadPage()
    {
        await using var app = await TestApp.StartAsync(Databases.Sqlite, kestrel: true);
        var session = await app.Client.CreateSessionAsync("{}");
        using var anonymous = app.CreateClient();
        var png = await anonymous.GetByteArrayAsync(session.GetProperty("qr_url").GetString());

        var scanned = await Zbar.DecodeAsync(png);

        scanned.ShouldBe(session.GetProperty("upload_url").GetString());
        await using var phone = await chromium.NewPhoneAsync();
        (await phone.OpenAsync(scanned!)).Status.ShouldBe(200);
        await Expect(phone.Page.Locator("h1")).ToHaveTextAsync("Send photos");
        await Expect(phone.Page.Locator("#take")).ToBeVisibleAsync();
    }
}
