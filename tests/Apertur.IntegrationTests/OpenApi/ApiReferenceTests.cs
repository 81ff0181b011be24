using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Apertur.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;

namespace Apertur.IntegrationTests.OpenApi;

/// <summary>The API reference (docs/api.md "API reference"): the OpenAPI 3.1 document and the /docs page.</summary>
public sealed class ApiReferenceTests
{
    [Theory, ClassData(typeof(Databases))]
    public async Task OpenApiDocument_Get_IsOpenApi31WithBearerKeyAndOnlyTheApi(string database)
    {
        await using var app = await TestApp.StartAsync(database);
        using var anonymous = app.CreateClient();

        var contract = await ApiContract.LoadAsync(anonymous);

        var document = contract.Document;
        document["openapi"]!.GetValue<string>().ShouldStartWith("3.1");
        document["components"]!["securitySchemes"]!["bearer"]!["scheme"]!.GetValue<string>().ShouldBe("bearer");
        document["paths"]!.AsObject().Select(p => p.Key).ShouldAllBe(path => path.StartsWith("/api/v1/"));
        // A keyed route asks for the key; a public one says it needs none (an empty requirement list).
        document["paths"]!["/api/v1/upload-sessions"]!["post"]!["security"]!.AsArray().Count.ShouldBe(1);
        document["paths"]!["/api/v1/upload/{uuid}/images"]!["post"]!["security"]!.AsArray().Count.ShouldBe(0);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task OpenApiDocument_Examples_ValidateAgainstTheirOwnSchemas(string database)
    {
        await using var app = await TestApp.StartAsync(database);
        using var anonymous = app.CreateClient();

        var contract = await ApiContract.LoadAsync(anonymous);

        var checks = contract.CheckExamples();
        checks.Count.ShouldBeGreaterThanOrEqualTo(Apertur.Server.OpenApi.ApiExamples.Types.Count(), "every example is in the document");
        checks.ShouldContain(c => c.Schema.EndsWith("ErrorBody", StringComparison.Ordinal));
        checks.ShouldContain(c => c.Schema.Contains("upload-sessions", StringComparison.Ordinal), "the session request's example, inline in its body");
        checks.Select(c => c.Problem).Where(problem => problem is not null).ShouldBeEmpty();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task OpenApiDocument_Timestamps_AreDateTimesInAnswersOnly(string database)
    {
        await using var app = await TestApp.StartAsync(database);
        var document = (await ApiContract.LoadAsync(app.CreateClient())).Document;

        var schemas = document["components"]!["schemas"]!;
        schemas["SessionCreated"]!["properties"]!["expires_at"]!["format"]!.GetValue<string>().ShouldBe("date-time");
        schemas["SessionDetail"]!["properties"]!["createdAt"]!["format"]!.GetValue<string>().ShouldBe("date-time");
        schemas["StartView"]!["properties"]!["expiresAt"]!["format"]!.GetValue<string>().ShouldBe("date-time");
        // A request's expires_at also takes a date-time without a zone (read as UTC): no format there.
        document["paths"]!["/api/v1/upload-sessions"]!["post"]!["requestBody"]!["content"]!["application/json"]!["schema"]!
            ["properties"]!["expires_at"]!["format"].ShouldBeNull();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task OpenApiDocument_PublicBaseUrl_IsItsServer(string database)
    {
        await using var app = await TestApp.StartAsync(database, new Dictionary<string, string?>
        {
            ["Apertur:PublicBaseUrl"] = "https://photos.example.com/apertur/",
        });

        var document = (await ApiContract.LoadAsync(app.CreateClient())).Document;

        document["servers"]!.AsArray().Select(s => s!["url"]!.GetValue<string>()).ShouldBe(["https://photos.example.com/apertur"]);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task OpenApiDocument_EveryMappedApiRoute_IsDescribedWithAccessSuccessAndErrors(string database)
    {
        await using var app = await TestApp.StartAsync(database);
        var contract = await ApiContract.LoadAsync(app.CreateClient());

        var routes = app.Services.GetServices<EndpointDataSource>().SelectMany(s => s.Endpoints).OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/api/v1/", StringComparison.Ordinal) == true)
            .SelectMany(e => (e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? ["?"])
                .Select(m => (Method: m, Path: e.RoutePattern.RawText!.TrimEnd('/'))))
            .Distinct().ToList();
        routes.Count.ShouldBeGreaterThan(40);

        var problems = new List<string>();
        foreach (var (method, path) in routes)
        {
            var operation = contract.Document["paths"]?[path]?[method.ToLowerInvariant()];
            if (operation is null)
            {
                problems.Add($"{method} {path}: not in the document");
                continue;
            }
            var statuses = operation["responses"]!.AsObject().Select(r => r.Key).ToList();
            if (!statuses.Any(s => Regex.IsMatch(s, "^[23]\\d\\d$")))
            {
                problems.Add($"{method} {path}: no success status");
            }
            if (!statuses.Contains("429") || !statuses.Contains("500"))
            {
                problems.Add($"{method} {path}: errors not described ({string.Join(",", statuses)})");
            }
            if (operation["security"] is not JsonArray)
            {
                problems.Add($"{method} {path}: no security (keyed or public)");
            }
            if (operation["summary"] is null || operation["operationId"] is null || operation["tags"] is null)
            {
                problems.Add($"{method} {path}: no summary, operationId or tag");
            }
        }
        problems.ShouldBeEmpty();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Docs_Get_ScalarPageWithItsAssetsFromThisServer(string database)
    {
        await using var app = await TestApp.StartAsync(database);
        using var anonymous = app.CreateClient();

        // Without the slash: a relative redirect, so the page's relative URLs (its assets, openapi/v1.json) resolve under any
        // path prefix.
        using (var bare = await anonymous.GetAsync("/docs"))
        {
            ((int)bare.StatusCode).ShouldBe(302);
            bare.Headers.Location!.OriginalString.ShouldBe("docs/");
        }
        using var page = await anonymous.GetAsync("/docs/");
        page.StatusCode.ShouldBe(System.Net.HttpStatusCode.OK);
        page.Content.Headers.ContentType!.MediaType.ShouldBe("text/html");
        var html = await page.Content.ReadAsStringAsync();
        html.ShouldContain("openapi/v1.json");
        // Nothing is loaded from another origin: no CDN script, style or font.
        Regex.Matches(html, "(?:src|href)=\"(https?:)?//", RegexOptions.IgnoreCase).ShouldBeEmpty();
        html.ShouldNotContain("cdn.jsdelivr.net");
        var scripts = Regex.Matches(html, "<script[^>]*src=\"([^\"]+)\"").Select(m => m.Groups[1].Value).ToList();
        scripts.ShouldNotBeEmpty();
        var bytes = 0;
        foreach (var script in scripts)
        {
            using var asset = await anonymous.GetAsync(new Uri(new Uri(anonymous.BaseAddress!, "/docs/"), script));
            asset.StatusCode.ShouldBe(System.Net.HttpStatusCode.OK, script);
            bytes += (await asset.Content.ReadAsByteArrayAsync()).Length;
        }
        // The reference's whole script (megabytes), not a loader that fetches it from elsewhere.
        bytes.ShouldBeGreaterThan(1_000_000);
    }
}
