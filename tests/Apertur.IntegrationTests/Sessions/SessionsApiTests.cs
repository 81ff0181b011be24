using System.Net;
using System.Text.Json;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Tests;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;

namespace Apertur.IntegrationTests.Sessions;

public sealed class SessionsApiTests
{
    [Theory, ClassData(typeof(Databases))]
    public async Task Create_WithNoBodyEmptyObjectOrEmptyArray_AnswersEveryRequiredField(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        foreach (var body in new string?[] { null, "{}", "[]", "" })
        {
            var s = await app.Client.CreateSessionAsync(body);
            s.GetProperty("id").GetString().ShouldBe(s.GetProperty("uuid").GetString());
            Guid.Parse(s.GetProperty("uuid").GetString()!).Version.ShouldBe(7);
            s.GetProperty("upload_url").GetString().ShouldEndWith("/u/" + s.GetProperty("uuid").GetString());
            s.GetProperty("qr_url").GetString().ShouldEndWith($"/api/v1/upload-sessions/{s.GetProperty("uuid").GetString()}/qr");
            var specs = s.GetProperty("qr_specs");
            specs.GetProperty("endpoint").GetString().ShouldStartWith("/api/v1/upload-sessions/");
            specs.GetProperty("formats").EnumerateArray().Select(f => f.GetString()).ShouldContain("png");
            foreach (var p in specs.GetProperty("params").EnumerateObject())
            {
                p.Value.ValueKind.ShouldBe(JsonValueKind.String);
            }
            s.GetProperty("destinations").ValueKind.ShouldBe(JsonValueKind.Array);
            s.GetProperty("long_polling").ValueKind.ShouldBe(JsonValueKind.False);
            s.GetProperty("password_protected").ValueKind.ShouldBe(JsonValueKind.False);
            s.GetProperty("env").GetString().ShouldBe("live");
            s.GetProperty("expires_at").GetString()!.ShouldMatch(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$");
        }
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Create_ExpiryForms_SetExpiresAt(string db)
    {
        var clock = new ManualClock();
        await using var app = await TestApp.StartAsync(db, clock: clock);
        var now = clock.GetUtcNow();
        (await app.Client.CreateSessionAsync()).GetProperty("expires_at").GetString().ShouldBe("2026-11-02T13:00:00.000Z");
        (await app.Client.CreateSessionAsync("""{"expires_in_hours":5}""")).GetProperty("expires_at").GetString().ShouldBe("2026-11-02T17:00:00.000Z");
        (await app.Client.CreateSessionAsync("""{"expires_in":600}""")).GetProperty("expires_at").GetString().ShouldBe("2026-11-02T12:10:00.000Z");
        (await app.Client.CreateSessionAsync("""{"expires_at":"2026-11-03T08:30:00+02:00"}""")).GetProperty("expires_at").GetString().ShouldBe("2026-11-03T06:30:00.000Z");
        now.ShouldBe(clock.GetUtcNow());
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Create_ProjectDefaults_ApplyWhenTheRequestIsSilent(string db)
    {
        var clock = new ManualClock();
        await using var app = await TestApp.StartAsync(db, clock: clock);
        // The project's defaults for new sessions (the dashboard's settings).
        using (var scope = app.Services.CreateScope())
        {
            var data = scope.ServiceProvider.GetRequiredService<Apertur.Server.Data.AperturDb>();
            await data.Projects.ExecuteUpdateAsync(s => s
                .SetProperty(p => p.DefaultMaxImages, 25)
                .SetProperty(p => p.DefaultExpiryMinutes, 30)
                .SetProperty(p => p.DefaultMaxImageSizeMb, 5));
        }

        var silent = await app.Client.CreateSessionAsync();
        silent.GetProperty("max_images").GetInt32().ShouldBe(25);
        silent.GetProperty("expires_at").GetString().ShouldBe("2026-11-02T12:30:00.000Z");
        (await DetailAsync(app, silent)).GetProperty("effectiveMaxImageSizeBytes").GetInt64().ShouldBe(5L * 1024 * 1024);

        // What the request says wins.
        var given = await app.Client.CreateSessionAsync("""{"max_images":3,"expires_in_hours":2,"max_image_size_mb":8}""");
        given.GetProperty("max_images").GetInt32().ShouldBe(3);
        given.GetProperty("expires_at").GetString().ShouldBe("2026-11-02T14:00:00.000Z");
        (await DetailAsync(app, given)).GetProperty("effectiveMaxImageSizeBytes").GetInt64().ShouldBe(8L * 1024 * 1024);
    }

    private static async Task<JsonElement> DetailAsync(TestApp app, JsonElement created)
    {
        using var response = await app.Client.GetAsync($"/api/v1/upload/{created.GetProperty("uuid").GetString()}/session");
        return await response.ReadJsonAsync();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Create_InvalidFields_Answer400WithContractBody(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        foreach (var body in new[]
        {
            """{"expires_in_hours":0}""",
            """{"expires_in_hours":169}""",
            """{"expires_in_hours":2,"expires_at":"2030-01-01T00:00:00Z"}""",
            """{"expires_at":"yesterday"}""",
            """{"expires_at":"2020-01-01T00:00:00Z"}""",
            """{"max_images":0}""",
            """{"max_images":51}""",
            """{"allowed_mime_types":["image/gif"]}""",
            """{"allowed_mime_types":[]}""",
            """{"password":"abc"}""",
            """{"tags":"not-a-list"}""",
            """{"metadata":[1,2]}""",
            """{"destination_ids":["not-a-uuid"]}""",
            """{"destination_ids":["0193a1c2-0000-7000-8000-000000000000"]}""",
            """{"max_image_dimension":-5}""",
            "{not json",
            "42",
        })
        {
            using var response = await app.Client.PostAsync("/api/v1/upload-sessions", Http.Json(body));
            response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, body);
            (await response.ReadErrorCodeAsync()).ShouldNotBeNullOrEmpty();
        }
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Create_WithoutOrWithWrongKey_Answers401(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        using var anonymous = app.CreateClient();
        using var r1 = await anonymous.PostAsync("/api/v1/upload-sessions", null);
        r1.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await r1.ReadErrorCodeAsync()).ShouldBe("AUTHENTICATION_FAILED");
        using var wrong = app.CreateClient("aptr_live_" + new string('x', 32));
        using var r2 = await wrong.PostAsync("/api/v1/upload-sessions", null);
        r2.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await r2.ReadErrorCodeAsync()).ShouldBe("AUTHENTICATION_FAILED");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Create_WithTestKey_FlagsTestEnv(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        using var client = app.CreateClient(app.TestKey);
        (await client.CreateSessionAsync()).GetProperty("env").GetString().ShouldBe("test");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Detail_IsPublicAndShowsEffectiveLimits(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var s = await app.Client.CreateSessionAsync("""
            {"max_images":3,"allowed_mime_types":["image/png","image/jpeg"],"max_image_dimension":4000,"password":"secret1",
             "tags":["odoo:res.partner:42"],"metadata":{"odoo":{"model":"res.partner","res_id":42}},"label":"Front desk","unknown":1}
            """);
        s.GetProperty("password_protected").GetBoolean().ShouldBeTrue();
        using var anonymous = app.CreateClient();
        using var response = await anonymous.GetAsync($"/api/v1/upload/{s.GetProperty("uuid").GetString()}/session");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var d = await response.ReadJsonAsync();
        d.GetProperty("id").GetString().ShouldBe(s.GetProperty("uuid").GetString());
        d.GetProperty("status").GetString().ShouldBe("active");
        d.GetProperty("expiresAt").GetString().ShouldBe(s.GetProperty("expires_at").GetString());
        d.GetProperty("effectiveMaxImages").GetInt32().ShouldBe(3);
        d.GetProperty("effectiveAllowedMimeTypes").EnumerateArray().Select(e => e.GetString()).ShouldBe(["image/png", "image/jpeg"]);
        d.GetProperty("effectiveMaxImageDimension").GetInt32().ShouldBe(4000);
        d.GetProperty("password_protected").GetBoolean().ShouldBeTrue();
        d.GetProperty("tags")[0].GetString().ShouldBe("odoo:res.partner:42");
        d.GetProperty("serverPublicKey").GetString().ShouldStartWith("-----BEGIN PUBLIC KEY-----\n");
        d.GetProperty("e2eEnabled").GetBoolean().ShouldBeFalse();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Detail_UnknownOrMalformedSession_Answers404(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        foreach (var id in new[] { Guid.CreateVersion7().ToString(), "not-a-uuid" })
        {
            using var response = await app.Client.GetAsync($"/api/v1/upload/{id}/session");
            response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
            (await response.ReadErrorCodeAsync()).ShouldBe("SESSION_NOT_FOUND");
        }
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Detail_AfterExpiry_ReadsExpired(string db)
    {
        var clock = new ManualClock();
        await using var app = await TestApp.StartAsync(db, clock: clock);
        var s = await app.Client.CreateSessionAsync();
        clock.Advance(TimeSpan.FromHours(1));
        var d = await (await app.Client.GetAsync($"/api/v1/upload/{s.GetProperty("uuid").GetString()}/session")).ReadJsonAsync();
        d.GetProperty("status").GetString().ShouldBe("expired");
        // With no session limit the server-wide one applies.
        d.GetProperty("effectiveMaxImageDimension").GetInt32().ShouldBe(16384);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Patch_ChangesFieldsAndNullPasswordRemovesIt(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var uuid = (await app.Client.CreateSessionAsync("""{"password":"hunter22"}""")).GetProperty("uuid").GetString();
        using var r1 = await app.Client.PatchJsonAsync($"/api/v1/upload-sessions/{uuid}",
            """{"max_images":7,"allowed_mime_types":["image/webp"],"max_image_dimension":1200,"max_image_size_mb":5}""");
        r1.StatusCode.ShouldBe(HttpStatusCode.OK);
        var d = await r1.ReadJsonAsync();
        d.GetProperty("effectiveMaxImages").GetInt32().ShouldBe(7);
        d.GetProperty("effectiveAllowedMimeTypes")[0].GetString().ShouldBe("image/webp");
        d.GetProperty("effectiveMaxImageDimension").GetInt32().ShouldBe(1200);
        d.GetProperty("effectiveMaxImageSizeBytes").GetInt64().ShouldBe(5L * 1024 * 1024);
        d.GetProperty("password_protected").GetBoolean().ShouldBeTrue();

        using var r2 = await app.Client.PatchJsonAsync($"/api/v1/upload-sessions/{uuid}", """{"password":null}""");
        (await r2.ReadJsonAsync()).GetProperty("password_protected").GetBoolean().ShouldBeFalse();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Patch_AnotherProjectsSession_Answers404(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var uuid = (await app.Client.CreateSessionAsync()).GetProperty("uuid").GetString();
        var otherKey = await KeysForOtherProject.CreateAsync(app);
        using var other = app.CreateClient(otherKey);
        using var response = await other.PatchJsonAsync($"/api/v1/upload-sessions/{uuid}", """{"max_images":2}""");
        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task VerifyPassword_AnswersValidTrueOrFalse(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var uuid = (await app.Client.CreateSessionAsync("""{"password":"open sesame"}""")).GetProperty("uuid").GetString();
        using var anonymous = app.CreateClient();
        var ok = await (await anonymous.PostAsync($"/api/v1/upload/{uuid}/verify-password", Http.Json("""{"password":"open sesame"}"""))).ReadJsonAsync();
        ok.GetProperty("valid").GetBoolean().ShouldBeTrue();
        using var wrongResponse = await anonymous.PostAsync($"/api/v1/upload/{uuid}/verify-password", Http.Json("""{"password":"nope"}"""));
        wrongResponse.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await wrongResponse.ReadJsonAsync()).GetProperty("valid").GetBoolean().ShouldBeFalse();
        using var missing = await anonymous.PostAsync($"/api/v1/upload/{Guid.CreateVersion7()}/verify-password", Http.Json("""{"password":"x"}"""));
        missing.StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task ListAndRecent_PageNewestFirst_AndStayInTheProject(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((await app.Client.CreateSessionAsync($$"""{"label":"s{{i}}","tags":["n:{{i}}"]}""")).GetProperty("uuid").GetString()!);
        }
        var page = await (await app.Client.GetAsync("/api/v1/sessions?page=2&pageSize=2")).ReadJsonAsync();
        page.GetProperty("total").GetInt32().ShouldBe(5);
        page.GetProperty("page").GetInt32().ShouldBe(2);
        page.GetProperty("pageSize").GetInt32().ShouldBe(2);
        page.GetProperty("totalPages").GetInt32().ShouldBe(3);
        page.GetProperty("data").EnumerateArray().Select(r => r.GetProperty("id").GetString()).ShouldBe([ids[2], ids[1]]);
        var row = page.GetProperty("data")[0];
        foreach (var name in new[] { "createdAt", "expiresAt", "status", "projectId", "projectName", "env" })
        {
            row.GetProperty(name).ValueKind.ShouldBe(JsonValueKind.String);
        }
        foreach (var name in new[] { "imagesCount", "imagesDelivered", "imagesFailed", "destinationsCount" })
        {
            row.GetProperty(name).ValueKind.ShouldBe(JsonValueKind.Number);
        }
        row.GetProperty("longPollingEnabled").ValueKind.ShouldBe(JsonValueKind.False);
        row.GetProperty("label").GetString().ShouldBe("s2");

        var recent = await (await app.Client.GetAsync("/api/v1/sessions/recent?limit=3")).ReadJsonAsync();
        recent.ValueKind.ShouldBe(JsonValueKind.Array);
        recent.EnumerateArray().Select(r => r.GetProperty("id").GetString()).ShouldBe([ids[4], ids[3], ids[2]]);

        using var other = app.CreateClient(await KeysForOtherProject.CreateAsync(app));
        (await (await other.GetAsync("/api/v1/sessions")).ReadJsonAsync()).GetProperty("total").GetInt32().ShouldBe(0);
    }
}
