using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using Apertur.IntegrationTests.Dashboard;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.IntegrationTests.Uploads;
using Shouldly;

namespace Apertur.IntegrationTests.Hosting;

/// <summary>
/// The server behind a real nginx terminating TLS, configured with deploy/nginx/apertur.conf as docs/deploy.md ships it,
/// and the same server reached directly by clients that send forwarded headers of their own. Each 127.x.y.z address is
/// a different client: nginx and the server see them apart. SQLite only: the database plays no part.
/// </summary>
public sealed class ReverseProxyTests
{
    private static readonly IPAddress Alice = IPAddress.Parse("127.0.0.2");
    private static readonly IPAddress Bob = IPAddress.Parse("127.0.0.3");

    private static Dictionary<string, string?> BehindNginx(Dictionary<string, string?>? more = null)
    {
        var settings = new Dictionary<string, string?>(more ?? []) { ["Apertur:ReverseProxy:TrustedProxies:0"] = "127.0.0.1" };
        return settings;
    }

    [Fact]
    public async Task ThroughNginx_LinksCarryTheProxysSchemeAndHost_AndPublicBaseUrlStillWins()
    {
        await using var app = await TestApp.StartAsync(Databases.Sqlite, BehindNginx(), kestrel: true);
        await using var nginx = await Nginx.StartAsync(app.KestrelAddress!);
        using var client = Keyed(nginx.Client(Alice), app.LiveKey);

        var session = await client.CreateSessionAsync();

        session.GetProperty("upload_url").GetString().ShouldBe($"https://localhost:{nginx.Port}/u/{session.SessionId()}");

        await using var pinned = await app.StartAnotherAsync(new Dictionary<string, string?> { ["Apertur:PublicBaseUrl"] = "https://photos.example.com" });
        await using var nginx2 = await Nginx.StartAsync(pinned.KestrelAddress!);
        using var client2 = Keyed(nginx2.Client(Alice), app.LiveKey);
        (await client2.CreateSessionAsync()).GetProperty("upload_url").GetString().ShouldStartWith("https://photos.example.com/u/");
    }

    [Fact]
    public async Task ThroughNginx_A20MbUploadIsStoredWhole_AndItsEventArrivesAtOnceOverSse()
    {
        await using var app = await TestApp.StartAsync(Databases.Sqlite, BehindNginx(), kestrel: true);
        await using var nginx = await Nginx.StartAsync(app.KestrelAddress!);
        using var client = Keyed(nginx.Client(Alice), app.LiveKey);
        var uuid = (await client.CreateSessionAsync("""{"max_image_size_mb":20}""")).SessionId();

        using var watcher = nginx.Client(Bob);
        await using var stream = await SseReader.OpenAsync(watcher, $"/api/v1/upload/{uuid}/events");
        stream.Response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await stream.NextFrameAsync()).ShouldStartWith("event: connected");

        var photo = Fixture.Bytes("phone-photo.jpg");
        var padding = new byte[20 * 1024 * 1024 - 4096 - photo.Length];
        new Random(20).NextBytes(padding);
        byte[] large = [.. photo, .. padding];
        using var phone = nginx.Client(Alice);
        using var uploaded = await phone.UploadAsync(uuid, large, "large.jpg");
        var answer = await uploaded.ReadJsonAsync();
        uploaded.StatusCode.ShouldBe(HttpStatusCode.Created, answer.ToString());

        // With nginx buffering the stream, the frame would wait for a full buffer or the end of the connection.
        (await stream.NextFrameAsync(TimeSpan.FromSeconds(10))).ShouldStartWith("event: image:ready");
        using var download = await client.GetAsync($"/api/v1/upload-sessions/{uuid}/images/{answer.GetProperty("id").GetString()}");
        download.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await download.Content.ReadAsByteArrayAsync()).AsSpan().SequenceEqual(large).ShouldBeTrue();
    }

    [Fact]
    public async Task ThroughNginx_ALongPollHeldPastNginxsDefaultTimeout_IsAnswered()
    {
        // 65 s is past nginx's default proxy_read_timeout (60 s): only the shipped configuration's longer one lets it through.
        await using var app = await TestApp.StartAsync(Databases.Sqlite,
            BehindNginx(new() { ["Apertur:Polling:DeliveryStatusHold"] = "00:01:05" }), kestrel: true);
        await using var nginx = await Nginx.StartAsync(app.KestrelAddress!);
        using var client = Keyed(nginx.Client(Alice), app.LiveKey);
        var uuid = (await client.CreateSessionAsync()).SessionId();
        var lastChanged = (await (await client.GetAsync($"/api/v1/upload-sessions/{uuid}/delivery-status")).ReadJsonAsync())
            .GetProperty("lastChanged").GetString()!;

        var watch = Stopwatch.StartNew();
        using var held = await client.GetAsync($"/api/v1/upload-sessions/{uuid}/delivery-status?pollFrom={Uri.EscapeDataString(lastChanged)}");

        held.StatusCode.ShouldBe(HttpStatusCode.OK, await held.Content.ReadAsStringAsync());
        watch.Elapsed.ShouldBeGreaterThan(TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task ThroughNginx_TheRateLimiterAndAKeysAllowedIpsSeeTheClient_NotTheProxy()
    {
        await using var app = await TestApp.StartAsync(Databases.Sqlite, BehindNginx(new() { ["Apertur:RateLimits:UploadPage"] = "2" }), kestrel: true);
        await using var nginx = await Nginx.StartAsync(app.KestrelAddress!);
        var uuid = (await app.Client.CreateSessionAsync()).SessionId();
        using var alice = nginx.Client(Alice);
        using var bob = nginx.Client(Bob);

        // Alice spends her budget; what she puts in X-Forwarded-For does not move her to another bucket (nginx replaces it).
        for (var i = 0; i < 2; i++)
        {
            using var page = await GetAsync(alice, $"/u/{uuid}", spoof: $"127.0.0.{10 + i}");
            page.StatusCode.ShouldBe(HttpStatusCode.OK);
        }
        using (var limited = await GetAsync(alice, $"/u/{uuid}", spoof: "127.0.0.12"))
        {
            limited.StatusCode.ShouldBe((HttpStatusCode)429);
        }
        // Bob has his own: behind a proxy whose address the server believed, both would share one.
        using (var page = await bob.GetAsync($"/u/{uuid}"))
        {
            page.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        var onlyAlice = await CreateKeyAsync(app, """{"label":"Alice's office","allowedIps":["127.0.0.2"]}""");
        using var asAlice = Keyed(nginx.Client(Alice), onlyAlice);
        (await asAlice.GetAsync("/api/v1/project")).StatusCode.ShouldBe(HttpStatusCode.OK);
        using var asBob = Keyed(nginx.Client(Bob), onlyAlice);
        using var refused = await GetAsync(asBob, "/api/v1/project", spoof: "127.0.0.2");
        refused.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task ThroughNginxOverTls_TheDashboardCookieIsSecure()
    {
        await using var app = await DashboardBrowser.StartAppAsync(Databases.Sqlite, BehindNginx(), kestrel: true);
        await using var nginx = await Nginx.StartAsync(app.KestrelAddress!);
        var cookies = new CookieContainer();
        using var browser = new DashboardBrowser(nginx.Client(Alice, cookies));

        using var response = await browser.SignInAttemptAsync("admin", DashboardBrowser.AdminPassword);

        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var all = cookies.GetAllCookies();
        all.Count.ShouldBeGreaterThan(0);
        all.ShouldAllBe(c => c.Secure);
        (await browser.Http.GetAsync("/dashboard?all=true")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Directly_ForwardedHeadersFromAClientThatIsNotATrustedProxy_AreIgnored()
    {
        // 127.0.0.1 is trusted (nginx's address), but these clients connect from 127.0.0.2 and 127.0.0.3 themselves.
        await using var app = await TestApp.StartAsync(Databases.Sqlite, BehindNginx(new() { ["Apertur:RateLimits:UploadPage"] = "1" }), kestrel: true);
        var uuid = (await app.Client.CreateSessionAsync()).SessionId();
        using var bob = Loopback.ClientFrom(Bob, app.KestrelAddress!);

        using (var first = await GetAsync(bob, $"/u/{uuid}", spoof: "127.0.0.20"))
        {
            first.StatusCode.ShouldBe(HttpStatusCode.OK);
        }
        using (var second = await GetAsync(bob, $"/u/{uuid}", spoof: "127.0.0.21"))
        {
            second.StatusCode.ShouldBe((HttpStatusCode)429);
        }

        var onlyAlice = await CreateKeyAsync(app, """{"label":"Alice's office","allowedIps":["127.0.0.2"]}""");
        using var asBob = Keyed(Loopback.ClientFrom(Bob, app.KestrelAddress!), onlyAlice);
        using (var refused = await GetAsync(asBob, "/api/v1/project", spoof: "127.0.0.2"))
        {
            refused.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        }

        using var keyed = Keyed(Loopback.ClientFrom(Bob, app.KestrelAddress!), app.LiveKey);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/upload-sessions");
        request.Headers.Add("X-Forwarded-Proto", "https");
        request.Headers.Add("X-Forwarded-Host", "evil.example");
        using var created = await keyed.SendAsync(request);
        var body = await created.ReadJsonAsync();
        body.GetProperty("upload_url").GetString().ShouldStartWith($"http://{app.KestrelAddress!.Authority}/u/");
    }

    [Fact]
    public async Task ByDefault_NoProxyIsTrusted_NotEvenLoopback()
    {
        await using var app = await TestApp.StartAsync(Databases.Sqlite, new Dictionary<string, string?> { ["Apertur:RateLimits:UploadPage"] = "1" }, kestrel: true);
        var uuid = (await app.Client.CreateSessionAsync()).SessionId();
        using var fromLoopback = Loopback.ClientFrom(IPAddress.Loopback, app.KestrelAddress!);

        (await GetAsync(fromLoopback, $"/u/{uuid}", spoof: "127.0.0.30")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await GetAsync(fromLoopback, $"/u/{uuid}", spoof: "127.0.0.31")).StatusCode.ShouldBe((HttpStatusCode)429);
    }

    [Fact]
    public async Task ATrustedProxyThatIsNotAnAddress_StopsTheStartWithTheSetting()
    {
        var failure = await Should.ThrowAsync<Exception>(() => TestApp.StartAsync(Databases.Sqlite,
            new Dictionary<string, string?> { ["Apertur:ReverseProxy:TrustedProxies:0"] = "nginx.local" }));
        failure.ToString().ShouldContain("Apertur:ReverseProxy:TrustedProxies");
        failure.ToString().ShouldContain("nginx.local");
    }

    [Fact]
    public async Task ThroughNginx_MetricsAreNotServed_ButTheServerServesThemDirectly()
    {
        await using var app = await TestApp.StartAsync(Databases.Sqlite, BehindNginx(new() { ["Apertur:Metrics:Enabled"] = "true" }), kestrel: true);
        await using var nginx = await Nginx.StartAsync(app.KestrelAddress!);
        using var client = nginx.Client(Alice);
        using var direct = Loopback.ClientFrom(IPAddress.Loopback, app.KestrelAddress!);

        (await client.GetAsync("/metrics")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await direct.GetAsync("/metrics")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public void TheDeploymentGuide_CarriesTheTestedConfiguration()
    {
        var guide = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "deploy", "docs-deploy.md"));
        guide.ReplaceLineEndings().ShouldContain(Nginx.ShippedConfig.ReplaceLineEndings().Trim());
    }

    private static HttpClient Keyed(HttpClient client, string key)
    {
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    private static async Task<HttpResponseMessage> GetAsync(HttpClient client, string url, string spoof)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Add("X-Forwarded-For", spoof);
        return await client.SendAsync(request);
    }

    private static async Task<string> CreateKeyAsync(TestApp app, string json)
    {
        var projectId = await app.Client.ProjectIdAsync();
        using var response = await app.Client.PostAsync($"/api/v1/projects/{projectId}/keys", Http.Json(json));
        var body = await response.ReadJsonAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.Created, body.ToString());
        return body.GetProperty("plainTextKey").GetString()!;
    }
}
