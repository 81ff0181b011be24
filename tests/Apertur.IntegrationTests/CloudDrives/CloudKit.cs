using System.Globalization;
using System.Net;
using System.Text.Json;
using Apertur.IntegrationTests.Deliveries;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Server.CloudDrives;
using Apertur.Server.Data;
using Apertur.Tests;
using Apertur.Tests.CloudDrives;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;

namespace Apertur.IntegrationTests.CloudDrives;

/// <summary>
/// A server whose OAuth settings point at the provider fakes, with the delivery worker on; the connect flow driven hop by
/// hop through its HTTP redirects, as a browser would follow them.
/// </summary>
public static class CloudKit
{
    /// <summary>The public origin the server builds its redirect URIs from (never dialled: the test follows the redirect itself).</summary>
    public const string PublicBase = "http://apertur.test";

    /// <summary>Uploads above this take the chunked path in every provider.</summary>
    public const int Threshold = 300_000;

    /// <summary>The sample photos.</summary>
    public static readonly string[] Samples = ["small.jpg", "phone-photo.jpg", "photo.heic", "photo.webp", "screenshot.png"];

    public static Dictionary<string, string?> Settings(FakeGoogleDrive? google = null, FakeDropbox? dropbox = null, FakeOneDrive? onedrive = null,
        IDictionary<string, string?>? extra = null)
    {
        var settings = DeliveryKit.Settings(new Dictionary<string, string?>
        {
            ["Apertur:PublicBaseUrl"] = PublicBase,
            // Inline throttle waits stay short in tests; anything longer goes back to the queue.
            ["Apertur:OAuth:MaxInlineWait"] = "00:00:02",
            ["Apertur:OAuth:Backoff"] = "00:00:00.100",
        });
        if (google is not null)
        {
            google.OAuth.RedirectUris.Add(PublicBase + "/oauth/google/callback");
            Add(settings, "Google", new()
            {
                ["AuthorizeUrl"] = google.AuthorizeUrl.AbsoluteUri,
                ["TokenUrl"] = google.TokenUrl.AbsoluteUri,
                ["ApiBaseUrl"] = google.ApiBaseUrl.AbsoluteUri,
                ["UploadBaseUrl"] = google.UploadBaseUrl.AbsoluteUri,
                ["ChunkSizeBytes"] = (256 * 1024).ToString(CultureInfo.InvariantCulture),
            });
        }
        if (dropbox is not null)
        {
            dropbox.OAuth.RedirectUris.Add(PublicBase + "/oauth/dropbox/callback");
            Add(settings, "Dropbox", new()
            {
                ["AuthorizeUrl"] = dropbox.AuthorizeUrl.AbsoluteUri,
                ["TokenUrl"] = dropbox.TokenUrl.AbsoluteUri,
                ["ApiBaseUrl"] = dropbox.ApiBaseUrl.AbsoluteUri,
                ["ContentBaseUrl"] = dropbox.ContentBaseUrl.AbsoluteUri,
                ["ChunkSizeBytes"] = (256 * 1024).ToString(CultureInfo.InvariantCulture),
            });
        }
        if (onedrive is not null)
        {
            onedrive.OAuth.RedirectUris.Add(PublicBase + "/oauth/microsoft/callback");
            Add(settings, "Microsoft", new()
            {
                ["AuthorizeUrl"] = onedrive.AuthorizeUrl.AbsoluteUri,
                ["TokenUrl"] = onedrive.TokenUrl.AbsoluteUri,
                ["ApiBaseUrl"] = onedrive.ApiBaseUrl.AbsoluteUri,
                ["ChunkSizeBytes"] = (320 * 1024).ToString(CultureInfo.InvariantCulture),
            });
        }
        foreach (var (k, v) in extra ?? new Dictionary<string, string?>())
        {
            settings[k] = v;
        }
        return settings;
    }

    private static void Add(Dictionary<string, string?> settings, string provider, Dictionary<string, string> values)
    {
        settings[$"Apertur:OAuth:{provider}:ClientId"] = FakeOAuthServer.ClientId;
        settings[$"Apertur:OAuth:{provider}:ClientSecret"] = FakeOAuthServer.ClientSecret;
        settings[$"Apertur:OAuth:{provider}:ChunkThresholdBytes"] = Threshold.ToString(CultureInfo.InvariantCulture);
        foreach (var (k, v) in values)
        {
            settings[$"Apertur:OAuth:{provider}:{k}"] = v;
        }
    }

    public static async Task<string> ProjectIdAsync(TestApp app)
    {
        using var response = await app.Client.GetAsync("/api/v1/project");
        return (await response.ReadJsonAsync()).GetProperty("id").GetString()!;
    }

    /// <summary>Creates a destination through the API, as an SDK would.</summary>
    public static async Task<Guid> DestinationAsync(TestApp app, string type, object config, string name = "Team drive")
    {
        var project = await ProjectIdAsync(app);
        using var response = await app.Client.PostAsync($"/api/v1/projects/{project}/destinations",
            Http.Json(JsonSerializer.Serialize(new { type, name, config })));
        var body = await response.ReadJsonAsync();
        ((int)response.StatusCode).ShouldBe(201, body.ToString());
        return Guid.Parse(body.GetProperty("id").GetString()!);
    }

    public static async Task<string> OAuthPathAsync(TestApp app, Guid destination) =>
        $"/api/v1/projects/{await ProjectIdAsync(app)}/destinations/{destination}/oauth";

    /// <summary>
    /// The full connect flow through HTTP redirects: the server's start URL answers 302 to the provider's consent page, which
    /// (the user consenting) answers 302 back to the server's callback, which exchanges the code. Returns the callback's answer.
    /// </summary>
    public static async Task<HttpResponseMessage> ConnectAsync(TestApp app, FakeCloud provider, Guid destination, string? returnUrl = null)
    {
        var callback = await ConsentAsync(app, provider, destination, returnUrl);
        return await CallbackAsync(app, callback);
    }

    /// <summary>The first two hops: start (302 to the consent page) and consent (302 back to the callback URL, returned).</summary>
    public static async Task<Uri> ConsentAsync(TestApp app, FakeCloud provider, Guid destination, string? returnUrl = null)
    {
        var start = await OAuthPathAsync(app, destination) + "/start" + (returnUrl is null ? "" : "?return_url=" + Uri.EscapeDataString(returnUrl));
        using var started = await app.Client.GetAsync(start);
        started.StatusCode.ShouldBe(HttpStatusCode.Redirect, await started.Content.ReadAsStringAsync());
        var consent = started.Headers.Location!;
        consent.GetLeftPart(UriPartial.Authority).ShouldBe(provider.BaseUrl.GetLeftPart(UriPartial.Authority));

        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using var consented = await browser.GetAsync(consent);
        consented.StatusCode.ShouldBe(HttpStatusCode.Redirect, await consented.Content.ReadAsStringAsync());
        var callback = consented.Headers.Location!;
        callback.GetLeftPart(UriPartial.Authority).ShouldBe(PublicBase);
        return callback;
    }

    /// <summary>The browser arriving at the server's callback (no API key: it is public).</summary>
    public static async Task<HttpResponseMessage> CallbackAsync(TestApp app, Uri callback)
    {
        using var anonymous = app.CreateClient();
        return await anonymous.GetAsync(callback.PathAndQuery);
    }

    public static async Task<JsonElement> ConnectionAsync(TestApp app, Guid destination)
    {
        using var response = await app.Client.GetAsync(await OAuthPathAsync(app, destination));
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return await response.ReadJsonAsync();
    }

    public static async Task<OAuthConnection?> StoredAsync(TestApp app, Guid destination)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<AperturDb>().OAuthConnections.AsNoTracking()
            .FirstOrDefaultAsync(c => c.DestinationId == destination);
    }

    /// <summary>A large valid JPEG: the small sample with random bytes after its end marker (decoders stop at EOI).</summary>
    public static byte[] LargeJpeg(int size, int seed = 42)
    {
        var head = Fixture.Bytes("small.jpg");
        var bytes = new byte[size];
        head.CopyTo(bytes, 0);
        new Random(seed).NextBytes(bytes.AsSpan(head.Length));
        return bytes;
    }

    /// <summary>Uploads raw bytes as a JPEG and returns the image id.</summary>
    public static async Task<Guid> UploadAsync(TestApp app, string sessionId, byte[] bytes, string filename)
    {
        using var client = app.CreateClient();
        using var response = await Uploads.UploadClient.UploadAsync(client, sessionId, bytes, filename);
        var body = await response.ReadJsonAsync();
        ((int)response.StatusCode).ShouldBe(201, body.ToString());
        return Guid.Parse(body.GetProperty("id").GetString()!);
    }

    /// <summary>Sets the manual clock to the delivery's next attempt and wakes the worker; returns the delivery after that attempt.</summary>
    public static async Task<Server.Deliveries.Delivery> NextAttemptAsync(TestApp app, ManualClock clock, Guid imageId)
    {
        var delivery = await DeliveryKit.DeliveryOfAsync(app, imageId);
        clock.Set(delivery.NextAttemptAt);
        DeliveryKit.Nudge(app);
        return await DeliveryKit.WaitForAttemptsAsync(app, imageId, delivery.Attempts + 1);
    }
}
