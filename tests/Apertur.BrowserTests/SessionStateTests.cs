using Apertur.BrowserTests.Infrastructure;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Tests;
using Shouldly;
using static Microsoft.Playwright.Assertions;

namespace Apertur.BrowserTests;

/// <summary>The session's states as a person sees them: friendly pages, a password prompt, a session that fills up.</summary>
[Collection(OneBrowser.Name)]
public sealed class SessionStateTests(Chromium chromium)
{
    [Fact]
    public async Task Page_UnknownSession_ShowsNotFoundWith404()
    {
        await using var app = await TestApp.StartAsync(Databases.Sqlite, kestrel: true);
        await using var phone = await chromium.NewPhoneAsync();

        var response = await phone.OpenAsync(new Uri(app.KestrelAddress!, $"/u/{Guid.NewGuid()}").ToString());

        response.Status.ShouldBe(404);
        (await response.HeaderValueAsync("content-type"))!.ShouldStartWith("text/html");
        await Expect(phone.Page.Locator("h1")).ToHaveTextAsync("Session not found");
        await Expect(phone.Page.Locator("#closed-text")).ToHaveTextAsync("Check the link, or scan the QR code again.");
        await Expect(phone.Page.Locator("#take")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task Page_ExpiredSession_ShowsExpiredWith410()
    {
        var clock = new ManualClock();
        await using var app = await TestApp.StartAsync(Databases.Sqlite, clock: clock, kestrel: true);
        var (_, url) = await app.NewSessionAsync("""{"expires_in_hours":1}""");
        clock.Advance(TimeSpan.FromHours(1));
        await using var phone = await chromium.NewPhoneAsync();

        var response = await phone.OpenAsync(url);

        response.Status.ShouldBe(410);
        await Expect(phone.Page.Locator("h1")).ToHaveTextAsync("Session expired");
        await Expect(phone.Page.Locator("main")).ToHaveAttributeAsync("data-state", "expired");
    }

    [Fact]
    public async Task Page_SessionExpiresWhileOpen_TheNextPhotoSaysExpired()
    {
        var clock = new ManualClock();
        await using var app = await TestApp.StartAsync(Databases.Sqlite, clock: clock, kestrel: true);
        var (_, url) = await app.NewSessionAsync("""{"expires_in_hours":1}""");
        await using var phone = await chromium.NewPhoneAsync();
        await phone.OpenAsync(url);
        await Expect(phone.Page.Locator("#actions")).ToBeVisibleAsync();

        clock.Advance(TimeSpan.FromHours(1));
        await phone.ChooseFromGalleryAsync("small.jpg");

        await Expect(phone.Tile("small.jpg").Locator(".state")).ToHaveTextAsync("The session has expired");
        await Expect(phone.Page.Locator("main")).ToHaveAttributeAsync("data-state", "expired");
        await Expect(phone.Page.Locator("#closed-title")).ToHaveTextAsync("Session expired");
        await Expect(phone.Page.Locator("#closed-text")).ToHaveTextAsync("This link is no longer valid. Ask for a new QR code to send photos.");
    }

    [Fact]
    public async Task Page_FullSession_ShowsFull()
    {
        await using var app = await TestApp.StartAsync(Databases.Sqlite, kestrel: true);
        var (uuid, url) = await app.NewSessionAsync("""{"max_images":1}""");
        (await app.UploadElsewhereAsync(uuid, "small.jpg")).ShouldBe(201);
        await using var phone = await chromium.NewPhoneAsync();

        var response = await phone.OpenAsync(url);

        response.Status.ShouldBe(200);
        await Expect(phone.Page.Locator("h1")).ToHaveTextAsync("Session full");
        await Expect(phone.Page.Locator("#closed-text")).ToHaveTextAsync("This session has all the photos it needs. Thank you!");
    }

    [Fact]
    public async Task Page_SessionFilledFromElsewhereWhileOpen_SaysFull()
    {
        await using var app = await TestApp.StartAsync(Databases.Sqlite, kestrel: true);
        var (uuid, url) = await app.NewSessionAsync("""{"max_images":2}""");
        await using var phone = await chromium.NewPhoneAsync();
        await phone.OpenAsync(url);
        await Expect(phone.Page.Locator("#counter")).ToHaveTextAsync("2 photos left");

        (await app.UploadElsewhereAsync(uuid, "small.jpg")).ShouldBe(201);
        // Live: the SSE stream tells the page, no reload.
        await Expect(phone.Page.Locator("#counter")).ToHaveTextAsync("1 photo left");
        (await app.UploadElsewhereAsync(uuid, "small.jpg")).ShouldBe(201);

        await Expect(phone.Page.Locator("main")).ToHaveAttributeAsync("data-state", "full");
        await Expect(phone.Page.Locator("#closed-title")).ToHaveTextAsync("Session full");
        await Expect(phone.Page.Locator("#actions")).ToBeHiddenAsync();
    }

    [Fact]
    public async Task Page_MorePhotosThanTheSessionTakes_SendsWhatFitsThenSaysFull()
    {
        await using var app = await TestApp.StartAsync(Databases.Sqlite, kestrel: true);
        var (_, url) = await app.NewSessionAsync("""{"max_images":2}""");
        await using var phone = await chromium.NewPhoneAsync();
        await phone.OpenAsync(url);

        await phone.ChooseFromGalleryAsync("small.jpg", "photo.webp", "screenshot.png");

        await Expect(phone.TilesWithStatus("done")).ToHaveCountAsync(2);
        await Expect(phone.Tile("screenshot.png").Locator(".state")).ToHaveTextAsync("This session takes no more photos");
        await Expect(phone.Page.Locator("#closed-title")).ToHaveTextAsync("Session full");
        // The list of what was sent stays in view under the notice.
        await Expect(phone.Page.Locator("#photos-section")).ToBeVisibleAsync();
        await phone.ShouldHaveSentUploadsAsync(2);
        (await app.UploadsAsync()).Count.ShouldBe(2);
    }

    [Fact]
    public async Task Password_WrongThenRight_UnlocksAndUploadsWithTheHeader()
    {
        await using var app = await TestApp.StartAsync(Databases.Sqlite, kestrel: true);
        var (_, url) = await app.NewSessionAsync("""{"password":"garden-42"}""");
        await using var phone = await chromium.NewPhoneAsync();
        await phone.OpenAsync(url);

        await Expect(phone.Page.Locator("main")).ToHaveAttributeAsync("data-state", "password");
        await Expect(phone.Page.Locator("#actions")).ToBeHiddenAsync();
        await Expect(phone.Page.Locator("#password-input")).ToBeFocusedAsync();
        await phone.Page.GetByLabel("Password", new() { Exact = true }).FillAsync("wrong-guess");
        await phone.Page.GetByRole(Microsoft.Playwright.AriaRole.Button, new() { Name = "Continue" }).TapAsync();
        await Expect(phone.Page.Locator("#password-error")).ToHaveTextAsync("Wrong password. Try again.");

        await phone.Page.GetByLabel("Password", new() { Exact = true }).FillAsync("garden-42");
        await phone.Page.GetByRole(Microsoft.Playwright.AriaRole.Button, new() { Name = "Continue" }).TapAsync();
        await Expect(phone.Page.Locator("#actions")).ToBeVisibleAsync();
        await Expect(phone.Page.Locator("#take")).ToBeFocusedAsync();
        await phone.ChooseFromGalleryAsync("small.jpg");

        // The server takes the upload only with the right x-session-password.
        await Expect(phone.TilesWithStatus("done")).ToHaveCountAsync(1);
        (await app.UploadsAsync()).Count.ShouldBe(1);

        // A reload in the same tab does not ask again.
        await phone.Page.ReloadAsync();
        await Expect(phone.Page.Locator("#actions")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task Password_ChangedWhileOpen_AsksAgainAndSendsThePendingPhoto()
    {
        await using var app = await TestApp.StartAsync(Databases.Sqlite, kestrel: true);
        var (uuid, url) = await app.NewSessionAsync();
        await using var phone = await chromium.NewPhoneAsync();
        await phone.OpenAsync(url);
        await Expect(phone.Page.Locator("#actions")).ToBeVisibleAsync();

        using var patch = await app.Client.PatchAsync($"/api/v1/upload-sessions/{uuid}", Http.Json("""{"password":"new-secret"}"""));
        patch.EnsureSuccessStatusCode();

        await Expect(phone.Page.Locator("#password")).ToBeVisibleAsync();
        await phone.Page.Locator("#password-input").FillAsync("new-secret");
        await phone.Page.Locator("#password button[type=submit]").TapAsync();
        await phone.ChooseFromGalleryAsync("small.jpg");
        await Expect(phone.TilesWithStatus("done")).ToHaveCountAsync(1);
    }
}
