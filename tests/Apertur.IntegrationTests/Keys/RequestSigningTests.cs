using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Server.Data;
using Apertur.Server.Keys;
using Apertur.Tests;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;

namespace Apertur.IntegrationTests.Keys;

public sealed class RequestSigningTests
{
    private const string Secret = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    private static async Task SetSigningAsync(TestApp app, bool required)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var data = scope.ServiceProvider.GetRequiredService<AperturDb>();
        await data.ApiKeys.Where(k => k.Env == "live").ExecuteUpdateAsync(s => s
            .SetProperty(k => k.SigningSecret, Secret)
            .SetProperty(k => k.SigningRequired, required));
    }

    private static HttpRequestMessage Signed(string method, string target, string? body, long timestamp, string? signatureOverride = null)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), target);
        var bytes = body is null ? [] : Encoding.UTF8.GetBytes(body);
        if (body is not null)
        {
            request.Content = Http.Json(body);
        }
        var ts = timestamp.ToString(CultureInfo.InvariantCulture);
        request.Headers.Add("X-Aptr-Timestamp", ts);
        request.Headers.Add("X-Aptr-Signature", signatureOverride ?? RequestSignature.Compute(Secret, ts, method, target, SHA256.HashData(bytes)));
        return request;
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task SignedRequests_AreVerifiedAgainstTheRawTarget(string db)
    {
        var clock = new ManualClock();
        await using var app = await TestApp.StartAsync(db, clock: clock);
        await SetSigningAsync(app, required: false);
        var now = clock.GetUtcNow().ToUnixTimeSeconds();

        using var ok = await app.Client.SendAsync(Signed("POST", "/api/v1/upload-sessions", """{"max_images":2}""", now));
        ok.StatusCode.ShouldBe(HttpStatusCode.Created);
        using var okGet = await app.Client.SendAsync(Signed("GET", "/api/v1/sessions?page=1&pageSize=10", null, now));
        okGet.StatusCode.ShouldBe(HttpStatusCode.OK);

        using var tampered = await app.Client.SendAsync(Signed("POST", "/api/v1/upload-sessions", """{"max_images":2}""", now, "sha256=" + new string('0', 64)));
        tampered.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await tampered.ReadErrorCodeAsync()).ShouldBe("SIGNATURE_INVALID");

        using var stale = await app.Client.SendAsync(Signed("GET", "/api/v1/sessions", null, now - 301));
        stale.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);

        // Unsigned requests stay accepted unless the key requires signing.
        using var unsigned = await app.Client.GetAsync("/api/v1/sessions");
        unsigned.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task KeyRequiringSignatures_RejectsUnsignedRequests(string db)
    {
        var clock = new ManualClock();
        await using var app = await TestApp.StartAsync(db, clock: clock);
        await SetSigningAsync(app, required: true);
        using var unsigned = await app.Client.GetAsync("/api/v1/sessions");
        unsigned.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await unsigned.ReadErrorCodeAsync()).ShouldBe("SIGNATURE_REQUIRED");
        using var signed = await app.Client.SendAsync(Signed("GET", "/api/v1/sessions", null, clock.GetUtcNow().ToUnixTimeSeconds()));
        signed.StatusCode.ShouldBe(HttpStatusCode.OK);
    }
}
