using System.Net;
using Apertur.IntegrationTests.Infrastructure;
using Shouldly;

namespace Apertur.IntegrationTests.Hosting;

public sealed class HomePageTests
{
    [Fact]
    public async Task Root_AnswersAPageThatPointsToTheDashboardHealthAndDocs()
    {
        await using var app = await TestApp.StartAsync(Databases.Sqlite);
        using var anonymous = app.CreateClient();

        using var response = await anonymous.GetAsync("/");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/html");
        var html = await response.Content.ReadAsStringAsync();
        html.ShouldContain("href=\"/dashboard\"");
        html.ShouldContain("href=\"/healthz\"");
        html.ShouldContain("href=\"/healthz/ready\"");
        html.ShouldContain("docs/api.md");
        html.ShouldContain("href=\"/docs\"");
        html.ShouldContain("href=\"/openapi/v1.json\"");
        response.Headers.GetValues("Content-Security-Policy").Single().ShouldStartWith("default-src 'none'");
    }
}
