using System.Globalization;
using System.Net;
using Apertur.IntegrationTests.Infrastructure;
using Shouldly;

namespace Apertur.IntegrationTests.UploadPage;

/// <summary><c>/u/{uuid}</c> is limited per client address (<c>Apertur:RateLimits:UploadPage</c>), answered with a small page.</summary>
public sealed class UploadPageRateLimitTests
{
    [Theory, ClassData(typeof(Databases))]
    public async Task Get_OverTheLimit_Answers429WithRetryAfterAndAFriendlyPage(string db)
    {
        await using var app = await TestApp.StartAsync(db, new Dictionary<string, string?> { ["Apertur:RateLimits:UploadPage"] = "2" });
        var session = (await app.Client.CreateSessionAsync()).GetProperty("uuid").GetString();
        using var browser = app.CreateClient();
        for (var i = 0; i < 2; i++)
        {
            using var page = await browser.GetAsync($"/u/{session}");
            page.StatusCode.ShouldBe(HttpStatusCode.OK);
            page.Headers.GetValues("X-RateLimit-Limit").Single().ShouldBe("2");
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/u/{session}");
        request.Headers.AcceptLanguage.ParseAdd("fr-FR");
        using var limited = await browser.SendAsync(request);
        limited.StatusCode.ShouldBe((HttpStatusCode)429);
        int.Parse(limited.Headers.GetValues("Retry-After").Single(), CultureInfo.InvariantCulture).ShouldBeInRange(1, 60);
        limited.Headers.GetValues("X-RateLimit-Remaining").Single().ShouldBe("0");
        limited.Content.Headers.ContentType!.MediaType.ShouldBe("text/html");
        limited.Headers.CacheControl!.NoStore.ShouldBeTrue();
        var html = await limited.Content.ReadAsStringAsync();
        html.ShouldContain("Trop de demandes");
        html.ShouldNotContain("upload.js");

        // Other pages count too: the limit is the client's, not the session's.
        using var unknown = await browser.GetAsync($"/u/{Guid.NewGuid()}");
        unknown.StatusCode.ShouldBe((HttpStatusCode)429);
    }
}
