using Apertur.BrowserTests.Infrastructure;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Tests;
using Microsoft.Playwright;
using Shouldly;
using static Microsoft.Playwright.Assertions;

namespace Apertur.BrowserTests;

/// <summary>
/// The main states at phone size (390×844, 2× pixels), as shown in the README. An ordinary run writes them under the test
/// output; <c>scripts/screenshots.sh</c> writes them into docs/screenshots.
/// </summary>
[Collection(OneBrowser.Name)]
public sealed class ScreenshotTests(Chromium chromium)
{
    [Fact]
    public async Task Screenshots_MainStates_AreTakenAtPhoneSize()
    {
        await using var receiver = await TestReceiver.StartAsync();
        await using var app = await TestApp.StartAsync(Databases.Sqlite, kestrel: true, settings: new Dictionary<string, string?>
        {
            ["Apertur:Delivery:WorkerEnabled"] = "true",
        });
        var destination = await Seed.DestinationAsync(app, "webhook", "Shop", $$"""{"url":"{{receiver.Url()}}"}""");

        // The photo list: delivered, sent, uploading, refused; then a photo waiting for the connection to come back.
        var (_, listUrl) = await app.NewSessionAsync($$"""{"destination_ids":["{{destination}}"],"max_images":8}""");
        await using (var phone = await PhoneAsync())
        {
            await phone.OpenAsync(listUrl);
            await phone.ChooseFromGalleryAsync("small.jpg");
            await Expect(phone.Tile("small.jpg")).ToHaveAttributeAsync("data-status", "delivered");
            receiver.Respond = async (context, _) => await Task.Delay(TimeSpan.FromMinutes(5), context.RequestAborted);
            await phone.ChooseFromGalleryAsync("photo.webp");
            await Expect(phone.Tile("photo.webp")).ToHaveAttributeAsync("data-status", "done");
            await phone.ChooseFromGalleryAsync("pdf-named.jpg");
            await phone.ThrottleUploadAsync(150_000);
            await phone.ChooseFromGalleryAsync("screenshot.png");
            await Wait.UntilAsync(async () => await phone.ProgressAsync("screenshot.png") is >= 35 and < 80, TimeSpan.FromSeconds(20), "upload half-way");
            await phone.ScreenshotAsync("upload-list");

            // Then the connection drops: the next photo waits and retries on its own, or at a tap.
            await phone.UnthrottleAsync();
            await Expect(phone.Tile("screenshot.png")).ToHaveAttributeAsync("data-status", "done");
            await phone.Page.RouteAsync("**/images", route => route.AbortAsync("connectionreset"));
            await phone.ChooseFromGalleryAsync("photo.heic");
            await Expect(phone.Tile("photo.heic")).ToHaveAttributeAsync("data-retrying", "true");
            await Expect(phone.Tile("photo.heic").Locator(".detail")).ToContainTextAsync("Retrying in");
            await phone.ScreenshotAsync("upload-retrying");
        }

        var (_, passwordUrl) = await app.NewSessionAsync("""{"password":"garden-42"}""");
        await using (var phone = await PhoneAsync())
        {
            await phone.OpenAsync(passwordUrl);
            await phone.Page.Locator("#password-input").FillAsync("tulips");
            await phone.Page.Locator("#password button[type=submit]").TapAsync();
            await Expect(phone.Page.Locator("#password-error")).ToBeVisibleAsync();
            await phone.ScreenshotAsync("password");
        }

        var (fullId, fullUrl) = await app.NewSessionAsync("""{"max_images":1}""");
        (await app.UploadElsewhereAsync(fullId, "small.jpg")).ShouldBe(201);
        await ShootAsync(fullUrl, "full");
        await ShootAsync($"{app.KestrelAddress}u/{Guid.NewGuid()}", "not-found");

        var (_, frenchUrl) = await app.NewSessionAsync($$"""{"destination_ids":["{{destination}}"]}""");
        await using (var phone = await PhoneAsync(locale: "fr-FR"))
        {
            await phone.OpenAsync(frenchUrl + "?lang=fr");
            await phone.ChooseFromGalleryAsync("photo.webp", "animation.gif");
            await Expect(phone.TilesWithStatus("done")).ToHaveCountAsync(1);
            await phone.ScreenshotAsync("french");
        }

        var (_, darkUrl) = await app.NewSessionAsync();
        await using (var phone = await PhoneAsync(scheme: ColorScheme.Dark))
        {
            await phone.OpenAsync(darkUrl + "?colorScheme=dark");
            await phone.ChooseFromGalleryAsync("small.jpg", "screenshot.png", "script.svg");
            await Expect(phone.TilesWithStatus("done")).ToHaveCountAsync(2);
            await phone.ScreenshotAsync("dark");
        }

        // Expiry is the server's clock: a second server on a clock the test moves.
        var clock = new ManualClock();
        await using (var later = await TestApp.StartAsync(Databases.Sqlite, clock: clock, kestrel: true))
        {
            var (_, expiredUrl) = await later.NewSessionAsync("""{"expires_in_hours":1}""");
            clock.Advance(TimeSpan.FromHours(2));
            await ShootAsync(expiredUrl, "expired");
        }

        foreach (var name in new[] { "upload-list", "upload-retrying", "password", "full", "not-found", "french", "dark", "expired" })
        {
            var png = await File.ReadAllBytesAsync(Path.Combine(Screenshots.Directory, name + ".png"));
            PngImage.ReadSize(png).ShouldBe((780, 1688), name);
        }
    }

    private Task<Phone> PhoneAsync(string locale = "en-US", ColorScheme scheme = ColorScheme.Light) =>
        chromium.NewPhoneAsync(locale: locale, scheme: scheme, scale: 2);

    private async Task ShootAsync(string url, string name)
    {
        await using var phone = await PhoneAsync();
        await phone.OpenAsync(url);
        await Expect(phone.Page.Locator("#closed")).ToBeVisibleAsync();
        await phone.ScreenshotAsync(name);
    }
}
