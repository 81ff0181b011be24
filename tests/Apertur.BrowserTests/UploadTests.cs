using Apertur.BrowserTests.Infrastructure;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Server.Data;
using Apertur.Tests;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using static Microsoft.Playwright.Assertions;

namespace Apertur.BrowserTests;

/// <summary>Choosing photos on a phone and seeing them stored: the page's checks before sending, and the upload itself.</summary>
[Collection(OneBrowser.Name)]
public sealed class UploadTests(Chromium chromium)
{
    private static readonly string[] SamplePhotos = ["small.jpg", "phone-photo.jpg", "screenshot.png", "photo.webp", "photo.heic"];

    [Fact]
    public async Task Upload_SamplePhotosFromGallery_AreStoredByteForByte()
    {
        await using var app = await TestApp.StartAsync(Databases.Sqlite, kestrel: true);
        var (_, url) = await app.NewSessionAsync();
        await using var phone = await chromium.NewPhoneAsync();
        await phone.OpenAsync(url);

        await phone.ChooseFromGalleryAsync(SamplePhotos);

        await Expect(phone.TilesWithStatus("done")).ToHaveCountAsync(SamplePhotos.Length);
        await Expect(phone.Page.Locator("#counter")).ToHaveTextAsync("5 photos left");
        var stored = await app.UploadsAsync();
        stored.Count.ShouldBe(SamplePhotos.Length);
        foreach (var name in SamplePhotos)
        {
            var row = stored.Single(r => r.GetProperty("filename").GetString() == name);
            row.GetProperty("source").GetString().ShouldBe("gallery");
            (await app.DownloadAsync(row.GetProperty("id").GetString()!)).ShouldBe(Fixture.Bytes(name), name);
        }
        stored.Select(r => r.GetProperty("mimeType").GetString()).Order()
            .ShouldBe(["image/heic", "image/jpeg", "image/jpeg", "image/png", "image/webp"]);
        await phone.ShouldHaveSentUploadsAsync(SamplePhotos.Length);
    }

    [Fact]
    public async Task Upload_TakePhoto_SendsWithSourceCamera()
    {
        await using var app = await TestApp.StartAsync(Databases.Sqlite, kestrel: true);
        var (_, url) = await app.NewSessionAsync();
        await using var phone = await chromium.NewPhoneAsync();
        await phone.OpenAsync(url);

        (await phone.Page.Locator("#camera-input").GetAttributeAsync("capture")).ShouldBe("environment");
        await phone.TakePhotoAsync("small.jpg");

        await Expect(phone.TilesWithStatus("done")).ToHaveCountAsync(1);
        (await app.UploadsAsync()).Single().GetProperty("source").GetString().ShouldBe("camera");
    }

    [Fact]
    public async Task Upload_HostileFiles_AreRefusedOnThePhoneAndNeverSent()
    {
        await using var app = await TestApp.StartAsync(Databases.Sqlite, kestrel: true);
        var (_, url) = await app.NewSessionAsync();
        await using var phone = await chromium.NewPhoneAsync();
        await phone.OpenAsync(url);

        await phone.ChooseFromGalleryAsync("pdf-named.jpg", "html-named.png", "script.svg", "animation.gif", "empty.jpg", "bomb-30000px.png");

        await Expect(phone.TilesWithStatus("refused")).ToHaveCountAsync(6);
        await Expect(phone.Tile("pdf-named.jpg").Locator(".state")).ToHaveTextAsync("This file is not a photo (PDF)");
        await Expect(phone.Tile("html-named.png").Locator(".state")).ToHaveTextAsync("This file is not a photo (HTML)");
        await Expect(phone.Tile("script.svg").Locator(".state")).ToHaveTextAsync("This file is not a photo (SVG)");
        await Expect(phone.Tile("animation.gif").Locator(".state")).ToHaveTextAsync("This file is not a photo (GIF)");
        await Expect(phone.Tile("empty.jpg").Locator(".state")).ToHaveTextAsync("The file is empty");
        // Measured from its header, never decoded: 900 megapixels is more than a phone should try to resize.
        await Expect(phone.Tile("bomb-30000px.png").Locator(".state")).ToHaveTextAsync("Too large to resize on this device (30000×30000 pixels)");
        await Expect(phone.Tile("pdf-named.jpg").Locator("button.remove")).ToBeVisibleAsync();
        phone.UploadRequests.ShouldBe(0);
        (await app.UploadsAsync()).ShouldBeEmpty();

        await phone.Tile("pdf-named.jpg").Locator("button.remove").TapAsync();
        await Expect(phone.Tiles).ToHaveCountAsync(5);
    }

    [Fact]
    public async Task Upload_TypeTheSessionDoesNotAccept_IsRefusedBeforeSending()
    {
        await using var app = await TestApp.StartAsync(Databases.Sqlite, kestrel: true);
        var (_, url) = await app.NewSessionAsync("""{"allowed_mime_types":["image/jpeg"]}""");
        await using var phone = await chromium.NewPhoneAsync();
        await phone.OpenAsync(url);

        await Expect(phone.Page.Locator(".hint")).ToHaveTextAsync("JPEG · up to 20 MB each");
        (await phone.Page.Locator("#gallery-input").GetAttributeAsync("accept")).ShouldBe("image/jpeg");
        await phone.ChooseFromGalleryAsync("screenshot.png", "small.jpg");

        await Expect(phone.Tile("screenshot.png").Locator(".state")).ToHaveTextAsync("PNG photos are not accepted here");
        await Expect(phone.Tile("small.jpg")).ToHaveAttributeAsync("data-status", "done");
        await phone.ShouldHaveSentUploadsAsync(1);
    }

    [Fact]
    public async Task Upload_ServerRefusesWhatThePhoneCouldNotCheck_ShowsTheReason()
    {
        await using var app = await TestApp.StartAsync(Databases.Sqlite, kestrel: true);
        // The page cannot measure a HEIC photo, so the server's dimension check is the one that speaks.
        var (_, url) = await app.NewSessionAsync("""{"max_image_dimension":800}""");
        await using var phone = await chromium.NewPhoneAsync();
        await phone.OpenAsync(url);

        await phone.ChooseFromGalleryAsync("photo.heic");

        var tile = phone.Tile("photo.heic");
        await Expect(tile).ToHaveAttributeAsync("data-status", "failed");
        await Expect(tile).ToHaveAttributeAsync("data-retrying", "false");
        await Expect(tile.Locator(".state")).ToContainTextAsync("Refused by the server: The image is 1280×960 pixels");
        await phone.ShouldHaveSentUploadsAsync(1);
    }

    [Fact]
    public async Task Upload_Heic_ShowsTheServersThumbnailOnceSent_OtherTypesKeepTheirLocalPreview()
    {
        await using var app = await TestApp.StartAsync(Databases.Sqlite, kestrel: true);
        var (_, url) = await app.NewSessionAsync("""{"password":"open sesame"}""");
        await using var phone = await chromium.NewPhoneAsync();
        await phone.OpenAsync(url);
        await phone.Page.Locator("#password-input").FillAsync("open sesame");
        await phone.Page.Locator("#password button[type=submit]").ClickAsync();

        await phone.ChooseFromGalleryAsync("photo.heic", "small.jpg");

        await Expect(phone.TilesWithStatus("done")).ToHaveCountAsync(2);
        // Chromium cannot draw HEIC: the tile shows the server's 320×240 JPEG, drawn for real.
        var heic = phone.Tile("photo.heic").Locator(".thumb img");
        await Expect(heic).ToHaveAttributeAsync("src", new System.Text.RegularExpressions.Regex("^/u/[0-9a-f-]{36}/thumbnails/[0-9a-f-]{36}\\?sig=[0-9a-f]{64}$"));
        await Expect(heic).ToHaveJSPropertyAsync("naturalWidth", 320);
        await Expect(heic).ToHaveJSPropertyAsync("naturalHeight", 240);
        var jpeg = phone.Tile("small.jpg").Locator(".thumb img");
        await Expect(jpeg).ToHaveAttributeAsync("src", new System.Text.RegularExpressions.Regex("^blob:"));
    }

    [Fact]
    public async Task Upload_PhotoLargerThanMaxDimension_IsResizedInTheBrowser()
    {
        await using var app = await TestApp.StartAsync(Databases.Sqlite, kestrel: true);
        var (_, url) = await app.NewSessionAsync("""{"max_image_dimension":1000}""");
        await using var phone = await chromium.NewPhoneAsync();
        await phone.OpenAsync(url);

        // 2016×1512 stored with EXIF orientation 6: drawn upright, so the result is portrait.
        await phone.ChooseFromGalleryAsync("phone-photo.jpg", "photo.webp");

        await Expect(phone.TilesWithStatus("done")).ToHaveCountAsync(2);
        await Expect(phone.Tile("phone-photo.jpg").Locator(".detail")).ToHaveTextAsync("Resized to 750×1000");
        await Expect(phone.Tile("photo.webp").Locator(".detail")).ToHaveTextAsync("Resized to 1000×750");
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
        var images = await db.Images.AsNoTracking().OrderBy(i => i.Filename).ToListAsync();
        images.Select(i => (i.Filename, i.MimeType, i.Width, i.Height))
            .ShouldBe([("phone-photo.jpg", "image/jpeg", 750, 1000), ("photo.webp", "image/webp", 1000, 750)]);
    }

    [Fact]
    public async Task Upload_PhotoHeavierThanTheSessionAllows_IsRecompressedToFit()
    {
        await using var app = await TestApp.StartAsync(Databases.Sqlite, kestrel: true, settings: new Dictionary<string, string?>
        {
            // 300 KB: phone-photo.jpg (339 KB) is over it, small.jpg (43 KB) is not.
            ["Apertur:Uploads:MaxImageBytes"] = "307200",
        });
        var (_, url) = await app.NewSessionAsync();
        await using var phone = await chromium.NewPhoneAsync();
        await phone.OpenAsync(url);

        await phone.ChooseFromGalleryAsync("phone-photo.jpg", "small.jpg");

        await Expect(phone.TilesWithStatus("done")).ToHaveCountAsync(2);
        var stored = await app.UploadsAsync();
        stored.Single(r => r.GetProperty("filename").GetString() == "phone-photo.jpg").GetProperty("sizeBytes").GetInt64().ShouldBeLessThanOrEqualTo(307200);
        stored.Single(r => r.GetProperty("filename").GetString() == "small.jpg").GetProperty("sizeBytes").GetInt64().ShouldBe(Fixture.Bytes("small.jpg").Length);
    }

    [Fact]
    public async Task Upload_ManyPhotos_GoTwoAtATimeWithRealProgress()
    {
        await using var app = await TestApp.StartAsync(Databases.Sqlite, kestrel: true);
        var (_, url) = await app.NewSessionAsync();
        await using var phone = await chromium.NewPhoneAsync();
        await phone.OpenAsync(url);
        await phone.Page.EvaluateAsync("""
            () => {
              window.__peak = 0;
              new MutationObserver(() => {
                window.__peak = Math.max(window.__peak, document.querySelectorAll('.tile[data-status="uploading"]').length);
              }).observe(document.getElementById('photos'), { subtree: true, attributes: true, attributeFilter: ['data-status'] });
            }
            """);
        await phone.ThrottleUploadAsync(400_000);

        await phone.ChooseFromGalleryAsync("phone-photo.jpg", "screenshot.png", "photo.webp", "photo.heic", "small.jpg");

        // Half-way through a big photo the bar shows bytes actually sent, while the others wait their turn.
        await Expect(phone.Tile("screenshot.png")).ToHaveAttributeAsync("data-status", "uploading");
        await Wait.UntilAsync(async () => await phone.ProgressAsync("screenshot.png") is > 0 and < 100, TimeSpan.FromSeconds(20), "partial progress");
        await Expect(phone.TilesWithStatus("waiting")).Not.ToHaveCountAsync(0);
        await Expect(phone.TilesWithStatus("done")).ToHaveCountAsync(5, new() { Timeout = 60_000 });
        (await phone.Page.EvaluateAsync<int>("window.__peak")).ShouldBe(2);
    }
}
