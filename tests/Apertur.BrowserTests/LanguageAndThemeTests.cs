using Apertur.BrowserTests.Infrastructure;
using Apertur.IntegrationTests.Infrastructure;
using Microsoft.Playwright;
using Shouldly;
using static Microsoft.Playwright.Assertions;

namespace Apertur.BrowserTests;

/// <summary><c>?lang=</c> and the browser's language; <c>?colorScheme=</c> and the device's scheme (README, "The upload page").</summary>
[Collection(OneBrowser.Name)]
public sealed class LanguageAndThemeTests(Chromium chromium)
{
    [Fact]
    public async Task Page_LangFr_RendersFrenchIncludingLiveStates()
    {
        await using var app = await TestApp.StartAsync(Databases.Sqlite, kestrel: true);
        var (_, url) = await app.NewSessionAsync("""{"max_images":3}""");
        await using var phone = await chromium.NewPhoneAsync(locale: "en-US");
        await phone.OpenAsync(url + "?lang=fr");

        await Expect(phone.Page.Locator("html")).ToHaveAttributeAsync("lang", "fr");
        await Expect(phone.Page.Locator("h1")).ToHaveTextAsync("Envoyer des photos");
        await Expect(phone.Page.Locator("#take")).ToHaveTextAsync("Prendre une photo");
        await Expect(phone.Page.Locator("#pick")).ToHaveTextAsync("Choisir dans la galerie");
        await Expect(phone.Page.Locator("#counter")).ToHaveTextAsync("Encore 3 photos possibles");
        await Expect(phone.Page.Locator(".hint")).ToHaveTextAsync("JPEG, PNG, WebP, HEIC · jusqu’à 20\u00a0Mo chacune");

        await phone.ChooseFromGalleryAsync("small.jpg", "pdf-named.jpg");
        await Expect(phone.Tile("small.jpg").Locator(".state")).ToHaveTextAsync("Envoyée");
        await Expect(phone.Tile("pdf-named.jpg").Locator(".state")).ToHaveTextAsync("Ce fichier n’est pas une photo (PDF)");
        await Expect(phone.Page.Locator("#counter")).ToHaveTextAsync("Encore 2 photos possibles");
    }

    [Fact]
    public async Task Page_BrowserLanguage_ChoosesSpanishOrFrenchWithoutAParameter()
    {
        await using var app = await TestApp.StartAsync(Databases.Sqlite, kestrel: true);
        var (_, url) = await app.NewSessionAsync();

        await using (var spanish = await chromium.NewPhoneAsync(locale: "es-MX"))
        {
            await spanish.OpenAsync(url);
            await Expect(spanish.Page.Locator("h1")).ToHaveTextAsync("Enviar fotos");
        }
        await using (var french = await chromium.NewPhoneAsync(locale: "fr-CA"))
        {
            await french.OpenAsync($"{app.KestrelAddress}u/{Guid.NewGuid()}");
            await Expect(french.Page.Locator("h1")).ToHaveTextAsync("Session introuvable");
        }
        await using (var german = await chromium.NewPhoneAsync(locale: "de-DE"))
        {
            await german.OpenAsync(url);
            await Expect(german.Page.Locator("h1")).ToHaveTextAsync("Send photos");
        }
    }

    [Fact]
    public async Task Page_ColorSchemeDark_RendersDarkWhateverTheDevice()
    {
        await using var app = await TestApp.StartAsync(Databases.Sqlite, kestrel: true);
        var (_, url) = await app.NewSessionAsync();
        await using var phone = await chromium.NewPhoneAsync(scheme: ColorScheme.Light);

        await phone.OpenAsync(url + "?colorScheme=dark");

        (await BackgroundAsync(phone)).ShouldBe("rgb(14, 17, 22)");
        (await TextColourAsync(phone)).ShouldBe("rgb(238, 241, 245)");
    }

    [Fact]
    public async Task Page_NoColorScheme_FollowsTheDeviceAndLightOverridesIt()
    {
        await using var app = await TestApp.StartAsync(Databases.Sqlite, kestrel: true);
        var (_, url) = await app.NewSessionAsync();
        await using var phone = await chromium.NewPhoneAsync(scheme: ColorScheme.Dark);

        await phone.OpenAsync(url);
        (await BackgroundAsync(phone)).ShouldBe("rgb(14, 17, 22)");

        await phone.OpenAsync(url + "?colorScheme=light");
        (await BackgroundAsync(phone)).ShouldBe("rgb(244, 246, 249)");
    }

    private static Task<string> BackgroundAsync(Phone phone) =>
        phone.Page.EvaluateAsync<string>("getComputedStyle(document.body).backgroundColor");

    private static Task<string> TextColourAsync(Phone phone) =>
        phone.Page.EvaluateAsync<string>("getComputedStyle(document.querySelector('h1')).color");
}
