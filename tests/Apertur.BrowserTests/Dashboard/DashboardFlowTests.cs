using System.Net;
using System.Net.Http.Headers;
using Apertur.BrowserTests.Infrastructure;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Tests;
using Microsoft.AspNetCore.Http;
using Microsoft.Playwright;
using Shouldly;
using static Microsoft.Playwright.Assertions;

namespace Apertur.BrowserTests.Dashboard;

/// <summary>
/// The dashboard in real headless Chromium against the real server on Kestrel: sign-in, keys, destinations tested against
/// the real file servers services.sh starts on loopback, a session uploaded to from a phone's upload page and watched live,
/// and a failed delivery retried.
/// </summary>
[Collection(OneBrowser.Name)]
public sealed class DashboardFlowTests(Chromium chromium) : IAsyncLifetime
{
    private readonly (string Remote, string Local) _folder = LoopbackFiles.NewFolder();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        LoopbackFiles.DeleteLocal(_folder.Local);
        await LoopbackFiles.DeleteWebDavAsync(_folder.Remote);
    }

    [Fact]
    public async Task SignIn_WrongPasswordThenRight_SaysSoThenShowsTheProject()
    {
        await using var site = await DashboardSite.StartAsync(chromium);
        var page = await site.NewPageAsync();

        await site.SignInAsync(page, "admin", "not-the-password");
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("not right");
        page.Url.ShouldEndWith("/dashboard/login");

        await site.SignInAsync(page, "admin", DashboardSite.AdminPassword);
        // The only project opens at once.
        await page.WaitForURLAsync(url => url.Contains("/dashboard/projects/", StringComparison.Ordinal), DashboardSite.SignedInUrl);
        await Expect(page.Locator("h1")).ToHaveTextAsync("Default");
    }

    [Fact]
    public async Task Keys_Create_ShowsThePlainKeyOnceAndTheApiAcceptsIt()
    {
        await using var site = await DashboardSite.StartAsync(chromium);
        var page = await site.SignedInPageAsync();
        await site.OpenAsync(page, "API keys");

        var form = page.Locator("#new");
        await form.GetByLabel("Label").FillAsync("Front desk");
        await form.GetByLabel("Max images per session").FillAsync("7");
        await form.GetByRole(AriaRole.Button, new() { Name = "Create key" }).ClickAsync();

        var plain = (await page.Locator("#new-key").TextContentAsync())!.Trim();
        plain.ShouldStartWith("aptr_live_");
        using var api = new HttpClient();
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", plain);
        using var answer = await api.GetAsync($"{site.Origin}/api/v1/project");
        answer.StatusCode.ShouldBe(HttpStatusCode.OK);

        // Shown once: the list afterwards has only the prefix.
        await page.GotoAsync(page.Url);
        await Expect(page.Locator("#new-key")).ToHaveCountAsync(0);
        (await page.ContentAsync()).ShouldNotContain(plain);
        await Expect(page.Locator("tr", new() { HasText = "Front desk" })).ToContainTextAsync("7 images");
    }

    public static TheoryData<string> FileServerKinds => ["webdav", "sftp"];

    [Theory, MemberData(nameof(FileServerKinds))]
    public async Task Destinations_AddAndTestAgainstTheRealServer_AnswersInPlace(string kind)
    {
        await using var site = await DashboardSite.StartAsync(chromium);
        var page = await site.SignedInPageAsync();
        await site.OpenAsync(page, "Destinations");
        await Expect(page.Locator(".empty")).ToContainTextAsync("No destinations yet");

        await AddDestinationAsync(page, kind, "Archive", FormFields(kind, _folder.Remote));
        await Expect(page.GetByRole(AriaRole.Status).First).ToContainTextAsync("added");

        var url = page.Url;
        var row = page.Locator("tr[data-destination=Archive]");
        await row.GetByRole(AriaRole.Button, new() { Name = "Test connection" }).ClickAsync();
        var result = row.Locator("[data-test-result]");
        await Expect(result).ToHaveAttributeAsync("data-test-result", "success");
        // In place: the form was answered by fetch, the page did not change.
        page.Url.ShouldBe(url);
    }

    [Fact]
    public async Task Destinations_WrongWebDavPassword_TestSaysWhyInPlace()
    {
        await using var site = await DashboardSite.StartAsync(chromium);
        var page = await site.SignedInPageAsync();
        await site.OpenAsync(page, "Destinations");
        var fields = FormFields("webdav", _folder.Remote).Select(f => f.Label == "Password" ? (f.Label, "not-the-password") : f).ToList();
        await AddDestinationAsync(page, "webdav", "Archive", fields);

        var row = page.Locator("tr[data-destination=Archive]");
        await row.GetByRole(AriaRole.Button, new() { Name = "Test connection" }).ClickAsync();
        var result = row.Locator("[data-test-result]");
        await Expect(result).ToHaveAttributeAsync("data-test-result", "failure");
        await Expect(result).ToContainTextAsync("401");
    }

    [Fact]
    public async Task Session_CreatedAndUploadedToFromAPhone_DeliversToWebDavLive()
    {
        await using var site = await DashboardSite.StartAsync(chromium);
        var page = await site.SignedInPageAsync();
        await site.OpenAsync(page, "Destinations");
        await AddDestinationAsync(page, "webdav", "Archive", FormFields("webdav", _folder.Remote));

        var (sessionId, uploadUrl) = await CreateSessionAsync(site, page, "Claim 4512", "Archive");
        await Expect(page.Locator(".qr svg")).ToHaveCountAsync(1);
        await Expect(page.Locator("[data-live-status]")).ToHaveAttributeAsync("data-state", "on");

        // A second page, a phone on the upload page the QR code leads to.
        await using var phone = await chromium.NewPhoneAsync();
        await phone.OpenAsync(uploadUrl);
        await phone.ChooseFromGalleryAsync("small.jpg");
        await Expect(phone.Tile("small.jpg")).ToHaveAttributeAsync("data-status", "delivered");

        // The session page shows it arrive with its thumbnail and deliver, without a reload.
        var image = page.Locator("[data-image='small.jpg']");
        await Expect(image.Locator("[data-delivery-status]")).ToHaveTextAsync("Archive: sent");
        // The server's thumbnail of the 640×480 photo, 320 px wide.
        await Expect(image.Locator("img")).ToHaveJSPropertyAsync("naturalWidth", 320);

        // And it is on the WebDAV server, byte for byte.
        using var dav = LoopbackFiles.WebDavClient();
        var stored = await dav.GetByteArrayAsync($"{_folder.Remote}/{sessionId}/0.jpg");
        stored.ShouldBe(Fixture.Bytes("small.jpg"));
    }

    [Fact]
    public async Task Deliveries_FailedThenRetried_IsSentAndShowsEachAttempt()
    {
        await using var site = await DashboardSite.StartAsync(chromium);
        await using var receiver = await TestReceiver.StartAsync();
        // The receiver first says "gone for good" (410: failed at once, no retry), later it accepts.
        var accept = false;
        receiver.Respond = (http, _) =>
        {
            http.Response.StatusCode = accept ? StatusCodes.Status200OK : StatusCodes.Status410Gone;
            return http.Response.WriteAsync(accept ? "ok" : "gone");
        };
        var page = await site.SignedInPageAsync();
        await site.OpenAsync(page, "Destinations");
        await AddDestinationAsync(page, "webhook", "My app", [("Receiver URL", receiver.Url().ToString())]);
        var (sessionId, _) = await CreateSessionAsync(site, page, "Claim 77", "My app");

        (await site.App.UploadElsewhereAsync(sessionId, "small.jpg")).ShouldBe(201);
        await Expect(page.Locator("[data-image] [data-delivery-status]")).ToHaveTextAsync("My app: failed");

        // The log, filtered to failures, retried now that the receiver accepts.
        accept = true;
        await site.OpenAsync(page, "Deliveries");
        await page.GetByLabel("Status").SelectOptionAsync("failed");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        var failed = page.Locator("tr[data-delivery]");
        await Expect(failed).ToHaveCountAsync(1);
        await Expect(failed).ToContainTextAsync("410");
        await failed.GetByRole(AriaRole.Button, new() { Name = "Retry", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).First).ToContainTextAsync("re-queued");

        await page.GetByLabel("Status").SelectOptionAsync("");
        await Wait.UntilAsync(async () =>
        {
            await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
            return await page.Locator("tr[data-delivery] [data-status=sent]").CountAsync() == 1;
        }, TimeSpan.FromSeconds(20), "the retried delivery sent");
        receiver.Requests.Count.ShouldBe(2);

        // Its detail lists both attempts: the refusal, then the success.
        await page.Locator("tr[data-delivery] a").First.ClickAsync();
        var attempts = page.Locator("tr[data-attempt]");
        await Expect(attempts).ToHaveCountAsync(2);
        await Expect(attempts.Nth(0)).ToContainTextAsync("410");
        await Expect(attempts.Nth(1)).ToContainTextAsync("200");
    }

    /// <summary>Picks the kind in the "Add a destination" form, fills the fields by their labels and adds it.</summary>
    internal static async Task AddDestinationAsync(IPage page, string kind, string name, IEnumerable<(string Label, string Value)> fields)
    {
        await page.GotoAsync(page.Url.Split('?', '#')[0] + "?kind=" + kind);
        var form = page.Locator("#form");
        await form.GetByLabel("Name", new() { Exact = true }).FillAsync(name);
        foreach (var (label, value) in fields)
        {
            await form.GetByLabel(label, new() { Exact = true }).FillAsync(value);
        }
        await form.GetByRole(AriaRole.Button, new() { Name = "Add destination" }).ClickAsync();
        await Expect(page.Locator($"tr[data-destination='{name}']")).ToHaveCountAsync(1);
    }

    /// <summary>Creates a session on the Sessions page for one destination; answers its id and upload link from its page.</summary>
    internal static async Task<(string SessionId, string UploadUrl)> CreateSessionAsync(DashboardSite site, IPage page, string label, string destination)
    {
        await site.OpenAsync(page, "Sessions");
        var form = page.Locator("#new");
        await form.GetByLabel("Label").FillAsync(label);
        await form.GetByLabel(destination).CheckAsync();
        await form.GetByRole(AriaRole.Button, new() { Name = "Create session" }).ClickAsync();
        await page.WaitForURLAsync(url => url.Contains("/sessions/", StringComparison.Ordinal));
        var uploadUrl = await page.Locator("#upload-link").InputValueAsync();
        return (uploadUrl[(uploadUrl.LastIndexOf('/') + 1)..], uploadUrl);
    }

    /// <summary>The form's fields for a file server started by services.sh on loopback, writing under <paramref name="folder"/>.</summary>
    internal static IReadOnlyList<(string Label, string Value)> FormFields(string kind, string folder) => kind switch
    {
        "webdav" =>
        [
            ("Folder URL", LoopbackFiles.WebDavRoot.AbsoluteUri), ("User name", LoopbackFiles.User), ("Password", LoopbackFiles.Password),
            ("Remote folder", folder),
        ],
        "sftp" =>
        [
            ("Host", "127.0.0.1"), ("Port", LoopbackFiles.SftpPort.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("User name", LoopbackFiles.User), ("Private key", LoopbackFiles.Key(LoopbackFiles.Ed25519WithPassphrase)),
            ("Key passphrase", LoopbackFiles.KeyPassphrase), ("Host key fingerprint", LoopbackFiles.SftpHostKeyFingerprint), ("Remote folder", folder),
        ],
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "No loopback server for this kind in the browser tests."),
    };
}
