using System.Net;
using System.Text.Json;
using Apertur.IntegrationTests.Infrastructure;
using Shouldly;

namespace Apertur.IntegrationTests.Sessions;

/// <summary>
/// <c>POST /api/v1/sessions</c>, the name older docs give session creation, is the SDKs' <c>POST /api/v1/upload-sessions</c>:
/// same answers, same key check, same limit and budget. <c>GET /api/v1/sessions</c> is the SDKs' own listing.
/// </summary>
public sealed class SessionAliasTests
{
    private static readonly string[] Names = ["/api/v1/upload-sessions", "/api/v1/sessions"];

    [Theory, ClassData(typeof(Databases))]
    public async Task Create_BothNames_AnswerIdentically(string db)
    {
        await using var app = await TestApp.StartAsync(db, new Dictionary<string, string?> { ["Apertur:RateLimits:SessionCreate"] = "4" });
        const string body = """{"max_images":3,"tags":["user:42"],"label":"Front desk","password":"secret"}""";
        var answers = new List<JsonElement>();
        foreach (var name in Names)
        {
            using var created = await app.Client.PostAsync(name, Http.Json(body));
            created.StatusCode.ShouldBe(HttpStatusCode.Created, name);
            created.Headers.GetValues("X-RateLimit-Limit").Single().ShouldBe("4");
            created.Headers.Location!.OriginalString.ShouldStartWith("/api/v1/upload/");
            answers.Add(await created.ReadJsonAsync());
        }
        WithoutIds(answers[0]).ShouldBe(WithoutIds(answers[1]));

        foreach (var name in Names)
        {
            using var invalid = await app.Client.PostAsync(name, Http.Json("""{"max_images":"many"}"""));
            invalid.StatusCode.ShouldBe(HttpStatusCode.BadRequest, name);
            using var anonymous = await app.CreateClient().PostAsync(name, null);
            anonymous.StatusCode.ShouldBe(HttpStatusCode.Unauthorized, name);
            (await anonymous.ReadErrorCodeAsync()).ShouldNotBeNullOrEmpty();
        }

        // One budget for both names: the two creations and the two refused bodies spent it.
        foreach (var name in Names)
        {
            using var limited = await app.Client.PostAsync(name, null);
            limited.StatusCode.ShouldBe((HttpStatusCode)429, name);
            (await limited.ReadErrorCodeAsync()).ShouldBe("RATE_LIMIT");
        }
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task List_DocumentedName_IsTheSdkListing(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        await app.Client.PostAsync("/api/v1/sessions", null);
        using var list = await app.Client.GetAsync("/api/v1/sessions");
        list.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await list.ReadJsonAsync()).GetProperty("total").GetInt32().ShouldBe(1);
    }

    /// <summary>The answer with its session id, UUID and the URLs built from it blanked.</summary>
    private static string WithoutIds(JsonElement created)
    {
        var id = created.GetProperty("uuid").GetString()!;
        return created.GetRawText().Replace(id, "ID", StringComparison.Ordinal)
            .Replace(created.GetProperty("expires_at").GetString()!, "EXPIRES", StringComparison.Ordinal);
    }
}
