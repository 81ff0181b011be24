using System.Net;
using Apertur.IntegrationTests.Infrastructure;
using Shouldly;

namespace Apertur.IntegrationTests.Hosting;

public sealed class RateLimitTests
{
    [Theory, ClassData(typeof(Databases))]
    public async Task SessionCreate_OverTheLimit_Answers429WithRetryAfterEverywhere(string db)
    {
        await using var app = await TestApp.StartAsync(db, new Dictionary<string, string?> { ["Apertur:RateLimits:SessionCreate"] = "2" });
        using var first = await app.Client.PostAsync("/api/v1/upload-sessions", null);
        first.StatusCode.ShouldBe(HttpStatusCode.Created);
        first.Headers.GetValues("X-RateLimit-Limit").Single().ShouldBe("2");
        first.Headers.GetValues("X-RateLimit-Remaining").Single().ShouldBe("1");
        long.Parse(first.Headers.GetValues("X-RateLimit-Reset").Single(), System.Globalization.CultureInfo.InvariantCulture).ShouldBeGreaterThan(0);
        using var second = await app.Client.PostAsync("/api/v1/upload-sessions", null);
        second.StatusCode.ShouldBe(HttpStatusCode.Created);

        using var third = await app.Client.PostAsync("/api/v1/upload-sessions", null);
        third.StatusCode.ShouldBe((HttpStatusCode)429);
        var retryAfter = int.Parse(third.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture);
        retryAfter.ShouldBeInRange(1, 60);
        third.Headers.GetValues("X-RateLimit-Remaining").Single().ShouldBe("0");
        var body = await third.ReadJsonAsync();
        body.GetProperty("code").GetString().ShouldBe("RATE_LIMIT");
        body.GetProperty("message").GetString().ShouldNotBeNullOrEmpty();
        body.GetProperty("retryAfter").GetInt32().ShouldBe(retryAfter);

        // The limit is per key: the test key still has its own budget.
        using var other = app.CreateClient(app.TestKey);
        using var fourth = await other.PostAsync("/api/v1/upload-sessions", null);
        fourth.StatusCode.ShouldBe(HttpStatusCode.Created);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task VerifyPassword_IsLimitedPerSessionAndClient(string db)
    {
        await using var app = await TestApp.StartAsync(db, new Dictionary<string, string?> { ["Apertur:RateLimits:PasswordCheck"] = "3" });
        var uuid = (await app.Client.CreateSessionAsync("""{"password":"guess me"}""")).GetProperty("uuid").GetString();
        using var anonymous = app.CreateClient();
        for (var i = 0; i < 3; i++)
        {
            using var ok = await anonymous.PostAsync($"/api/v1/upload/{uuid}/verify-password", Http.Json("""{"password":"wrong"}"""));
            ok.StatusCode.ShouldBe(HttpStatusCode.OK);
        }
        using var limited = await anonymous.PostAsync($"/api/v1/upload/{uuid}/verify-password", Http.Json("""{"password":"guess me"}"""));
        limited.StatusCode.ShouldBe((HttpStatusCode)429);
        (await limited.ReadErrorCodeAsync()).ShouldBe("RATE_LIMIT");
    }
}
