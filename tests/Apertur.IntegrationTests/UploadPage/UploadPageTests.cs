using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Tests;
using Shouldly;

namespace Apertur.IntegrationTests.UploadPage;

/// <summary>The upload page over HTTP: the state it renders for a session, its headers, its assets. The browser tests drive it.</summary>
public sealed partial class UploadPageTests
{
    private static async Task<(HttpResponseMessage Response, string Html)> GetPageAsync(TestApp app, string path, string? acceptLanguage = null)
    {
        using var anonymous = app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (acceptLanguage is not null)
        {
            request.Headers.AcceptLanguage.ParseAdd(acceptLanguage);
        }
        var response = await anonymous.SendAsync(request);
        return (response, await response.Content.ReadAsStringAsync());
    }

    private static JsonElement Config(string html) =>
        JsonDocument.Parse(ConfigScript().Match(html).Groups[1].Value).RootElement.Clone();

    [Theory, ClassData(typeof(Databases))]
    public async Task Get_OpenSession_RendersTheLimitsAndSecureHeaders(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var session = await app.Client.CreateSessionAsync("""{"max_images":4,"allowed_mime_types":["image/jpeg","image/heic"],"max_image_dimension":2048,"max_image_size_mb":5}""");
        var uuid = session.GetProperty("uuid").GetString()!;

        var (response, html) = await GetPageAsync(app, new Uri(session.GetProperty("upload_url").GetString()!).PathAndQuery);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/html");
        response.Headers.CacheControl!.NoStore.ShouldBeTrue();
        var csp = response.Headers.GetValues("Content-Security-Policy").Single();
        csp.ShouldContain("default-src 'none'");
        csp.ShouldContain("script-src 'self'");
        csp.ShouldNotContain("unsafe-inline");
        response.Headers.GetValues("X-Content-Type-Options").Single().ShouldBe("nosniff");
        response.Headers.GetValues("Referrer-Policy").Single().ShouldBe("no-referrer");
        html.ShouldContain("<h1 id=\"title\">Send photos</h1>");
        html.ShouldContain("4 photos left");
        html.ShouldContain("JPEG, HEIC · up to 5&#xA0;MB each");
        html.ShouldContain("accept=\"image/jpeg,image/heic,.heic,.heif\"");
        html.ShouldContain("capture=\"environment\"");

        var config = Config(html);
        config.GetProperty("sessionId").GetString().ShouldBe(uuid);
        config.GetProperty("state").GetString().ShouldBe("open");
        config.GetProperty("maxImages").GetInt32().ShouldBe(4);
        config.GetProperty("imagesCount").GetInt32().ShouldBe(0);
        config.GetProperty("maxDimension").GetInt32().ShouldBe(2048);
        config.GetProperty("maxBytes").GetInt64().ShouldBe(5 * 1024 * 1024);
        config.GetProperty("allowedTypes").EnumerateArray().Select(t => t.GetString()).ShouldBe(["image/jpeg", "image/heic"]);
        config.GetProperty("passwordProtected").GetBoolean().ShouldBeFalse();
        config.GetProperty("apiBase").GetString().ShouldBe("/api/v1");
        config.GetProperty("expiresInMs").GetInt64().ShouldBeInRange(3_500_000, 3_600_000);
        config.GetProperty("text").GetProperty("takePhoto").GetString().ShouldBe("Take photo");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Get_PasswordSession_RendersThePromptAndNoSecret(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var uuid = (await app.Client.CreateSessionAsync("""{"password":"garden-42"}""")).GetProperty("uuid").GetString();

        var (response, html) = await GetPageAsync(app, $"/u/{uuid}");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        html.ShouldContain("data-state=\"password\"");
        html.ShouldContain("<form id=\"password\" class=\"card password\" novalidate>");
        html.ShouldContain("<div id=\"actions\" class=\"actions\" hidden=\"hidden\">");
        html.ShouldNotContain("garden-42");
        html.ShouldNotContain("pbkdf2");
        Config(html).GetProperty("passwordProtected").GetBoolean().ShouldBeTrue();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Get_UnknownOrMalformedSession_Is404Html(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        foreach (var path in new[] { $"/u/{Guid.NewGuid()}", "/u/not-a-uuid", "/u/%3Cscript%3E" })
        {
            var (response, html) = await GetPageAsync(app, path);
            response.StatusCode.ShouldBe(HttpStatusCode.NotFound, path);
            response.Content.Headers.ContentType!.MediaType.ShouldBe("text/html", path);
            html.ShouldContain("<h1 id=\"closed-title\">Session not found</h1>", Case.Sensitive, path);
            html.ShouldNotContain("<script>", Case.Sensitive, path);
            Config(html).GetProperty("state").GetString().ShouldBe("notFound");
        }
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Get_ExpiredSession_Is410AndFullSessionIs200(string db)
    {
        var clock = new ManualClock();
        await using var app = await TestApp.StartAsync(db, clock: clock);
        var expiring = (await app.Client.CreateSessionAsync("""{"expires_in_hours":1}""")).GetProperty("uuid").GetString();
        var full = (await app.Client.CreateSessionAsync("""{"max_images":1,"expires_in_hours":5}""")).GetProperty("uuid").GetString()!;
        await Seed.ImageAsync(app, full, Fixture.Bytes("small.jpg"));
        clock.Advance(TimeSpan.FromHours(1));

        var (expired, expiredHtml) = await GetPageAsync(app, $"/u/{expiring}", "es");
        expired.StatusCode.ShouldBe(HttpStatusCode.Gone);
        expiredHtml.ShouldContain("<h1 id=\"closed-title\">Sesión caducada</h1>");
        expiredHtml.ShouldContain("<html lang=\"es\"");

        var (complete, completeHtml) = await GetPageAsync(app, $"/u/{full}");
        complete.StatusCode.ShouldBe(HttpStatusCode.OK);
        completeHtml.ShouldContain("<h1 id=\"closed-title\">Session full</h1>");
        Config(completeHtml).GetProperty("state").GetString().ShouldBe("full");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Get_LangAndColorScheme_AreHonouredAndNeverEchoedRaw(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var uuid = (await app.Client.CreateSessionAsync()).GetProperty("uuid").GetString();

        var (_, french) = await GetPageAsync(app, $"/u/{uuid}?lang=fr&colorScheme=dark", "es");
        french.ShouldContain("<html lang=\"fr\" data-theme=\"dark\">");
        french.ShouldContain("<h1 id=\"title\">Envoyer des photos</h1>");
        french.ShouldContain("<meta name=\"color-scheme\" content=\"dark\">");

        var (_, browser) = await GetPageAsync(app, $"/u/{uuid}", "es-MX,es;q=0.9,en;q=0.5");
        browser.ShouldContain("<html lang=\"es\" data-theme=\"auto\">");

        var (_, hostile) = await GetPageAsync(app, $"/u/{uuid}?lang=%22%3E%3Cscript%3E&colorScheme=%22%3E%3Cscript%3E");
        hostile.ShouldContain("<html lang=\"en\" data-theme=\"auto\">");
        hostile.ShouldNotContain("\"><script>");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Assets_AreServedFromTheServerWithVersionedCaching(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var uuid = (await app.Client.CreateSessionAsync()).GetProperty("uuid").GetString();
        var (_, html) = await GetPageAsync(app, $"/u/{uuid}");
        using var anonymous = app.CreateClient();

        foreach (var (name, type) in new[] { ("upload.js", "text/javascript"), ("upload.css", "text/css"), ("icon.svg", "image/svg+xml") })
        {
            var path = Regex.Match(html, $"\"(/u/assets/{Regex.Escape(name)}\\?v=[0-9a-f]{{16}})\"").Groups[1].Value;
            path.ShouldNotBeEmpty(name);
            using var response = await anonymous.GetAsync(path);
            response.StatusCode.ShouldBe(HttpStatusCode.OK, name);
            response.Content.Headers.ContentType!.MediaType.ShouldBe(type);
            response.Headers.CacheControl!.MaxAge.ShouldBe(TimeSpan.FromDays(365), name);
            (await response.Content.ReadAsByteArrayAsync()).Length.ShouldBeGreaterThan(100);

            using var revalidate = new HttpRequestMessage(HttpMethod.Get, $"/u/assets/{name}");
            revalidate.Headers.IfNoneMatch.Add(response.Headers.ETag!);
            using var notModified = await anonymous.SendAsync(revalidate);
            notModified.StatusCode.ShouldBe(HttpStatusCode.NotModified, name);
            notModified.Headers.CacheControl!.NoCache.ShouldBeTrue();
        }
        // A fixed set of names: nothing else under the prefix, no way out of it.
        foreach (var path in new[] { "/u/assets/appsettings.json", "/u/assets/..%2FProgram.cs", "/u/assets/Upload.cshtml" })
        {
            using var response = await anonymous.GetAsync(path);
            response.StatusCode.ShouldBe(HttpStatusCode.NotFound, path);
        }
    }

    [GeneratedRegex("<script type=\"application/json\" id=\"apertur-page\">(.*?)</script>", RegexOptions.Singleline)]
    private static partial Regex ConfigScript();
}
