using System.Net;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.IntegrationTests.Uploads;
using Shouldly;

namespace Apertur.IntegrationTests.Keys;

/// <summary>
/// A key's <c>allowedDomains</c>: the upload page of its sessions may be framed only by those sites, and browser requests
/// (with <c>Origin</c>) to the sessions' public endpoints come from this server or those sites. No domains: as before.
/// </summary>
public sealed class AllowedDomainsTests
{
    private const string PublicBaseUrl = "https://photos.example.net";

    /// <summary>A new key of the default project with these domains, and a session it created.</summary>
    private static async Task<string> SessionOfKeyWithDomainsAsync(TestApp app, string domainsJson)
    {
        var projectId = await app.Client.ProjectIdAsync();
        using var created = await app.Client.PostAsync($"/api/v1/projects/{projectId}/keys",
            Http.Json($$"""{"label":"Shop widget","allowedDomains":{{domainsJson}}}"""));
        created.StatusCode.ShouldBe(HttpStatusCode.Created);
        using var restricted = app.CreateClient((await created.ReadJsonAsync()).GetProperty("plainTextKey").GetString());
        return (await restricted.CreateSessionAsync()).SessionId();
    }

    private static async Task<HttpResponseMessage> SendAsync(TestApp app, HttpMethod method, string path, string? origin, HttpContent? content = null)
    {
        using var anonymous = app.CreateClient();
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }
        return await anonymous.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    private static Task<HttpResponseMessage> UploadFromAsync(TestApp app, string session, string? origin) =>
        SendAsync(app, HttpMethod.Post, $"/api/v1/upload/{session}/images", origin, UploadClient.Multipart(Fixture.Bytes("small.jpg")));

    [Theory, ClassData(typeof(Databases))]
    public async Task UploadPage_KeyWithDomains_MayBeFramedOnlyByThem(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var restricted = await SessionOfKeyWithDomainsAsync(app, """["shop.example.com","https://*.partner.test"]""");
        var open = (await app.Client.CreateSessionAsync()).SessionId();

        using var framed = await SendAsync(app, HttpMethod.Get, $"/u/{restricted}", origin: null);
        framed.StatusCode.ShouldBe(HttpStatusCode.OK);
        var csp = framed.Headers.GetValues("Content-Security-Policy").Single();
        csp.ShouldContain("script-src 'self'");
        csp.ShouldEndWith("; frame-ancestors 'self' https://shop.example.com:* http://shop.example.com:* https://*.partner.test:*");

        // A key without domains: any site may frame the page, as before.
        using var anywhere = await SendAsync(app, HttpMethod.Get, $"/u/{open}", origin: null);
        anywhere.StatusCode.ShouldBe(HttpStatusCode.OK);
        anywhere.Headers.GetValues("Content-Security-Policy").Single().ShouldNotContain("frame-ancestors");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task BrowserRequests_KeyWithDomains_OnlyFromThemOrThisServer(string db)
    {
        await using var app = await TestApp.StartAsync(db, new Dictionary<string, string?> { ["Apertur:PublicBaseUrl"] = PublicBaseUrl });
        var session = await SessionOfKeyWithDomainsAsync(app, """["shop.example.com","https://*.partner.test"]""");

        // SDKs and servers send no Origin; the upload page sends this server's; the key's sites are allowed.
        foreach (var origin in new[] { null, "http://localhost", PublicBaseUrl, "https://shop.example.com", "https://cdn.partner.test" })
        {
            using var accepted = await UploadFromAsync(app, session, origin);
            accepted.StatusCode.ShouldBe(HttpStatusCode.Created, origin ?? "no Origin");
        }

        foreach (var origin in new[] { "https://evil.test", "http://cdn.partner.test", "https://shop.example.com.evil.test", "null" })
        {
            using var refused = await UploadFromAsync(app, session, origin);
            refused.StatusCode.ShouldBe(HttpStatusCode.Forbidden, origin);
            (await refused.ReadErrorCodeAsync()).ShouldBe("ORIGIN_NOT_ALLOWED");
        }

        // The other endpoints the page calls from a browser follow the same rule.
        foreach (var (method, path) in new[]
        {
            (HttpMethod.Get, $"/api/v1/upload/{session}/session"),
            (HttpMethod.Post, $"/api/v1/upload/{session}/verify-password"),
            (HttpMethod.Get, $"/api/v1/upload/{session}/events"),
            (HttpMethod.Get, $"/api/v1/sessions/{session}/events"),
        })
        {
            using var refused = await SendAsync(app, method, path, "https://evil.test", method == HttpMethod.Post ? Http.Json("""{"password":"x"}""") : null);
            refused.StatusCode.ShouldBe(HttpStatusCode.Forbidden, path);
            (await refused.ReadErrorCodeAsync()).ShouldBe("ORIGIN_NOT_ALLOWED");
        }
        using var detail = await SendAsync(app, HttpMethod.Get, $"/api/v1/upload/{session}/session", "https://shop.example.com");
        detail.StatusCode.ShouldBe(HttpStatusCode.OK);
        using var password = await SendAsync(app, HttpMethod.Post, $"/api/v1/upload/{session}/verify-password", "http://localhost", Http.Json("""{"password":"x"}"""));
        password.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task BrowserRequests_KeyWithoutDomains_FromAnySite(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var session = (await app.Client.CreateSessionAsync()).SessionId();
        using var accepted = await UploadFromAsync(app, session, "https://evil.test");
        accepted.StatusCode.ShouldBe(HttpStatusCode.Created);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Keys_DomainThatCannotBeEnforced_IsRefused(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var projectId = await app.Client.ProjectIdAsync();
        foreach (var domains in new[] { """["shop.example.com/widget"]""", """["*"]""", """["shop.example.com; script-src *"]""" })
        {
            using var response = await app.Client.PostAsync($"/api/v1/projects/{projectId}/keys", Http.Json($$"""{"label":"x","allowedDomains":{{domains}}}"""));
            response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, domains);
            (await response.ReadErrorCodeAsync()).ShouldBe("VALIDATION_ERROR");
        }
    }
}
