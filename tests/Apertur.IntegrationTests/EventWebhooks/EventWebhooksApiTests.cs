using System.Net;
using System.Text.Json;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Server.Data;
using Apertur.Tests;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;

namespace Apertur.IntegrationTests.EventWebhooks;

public sealed class EventWebhooksApiTests
{
    private static readonly string[] WebhookFields =
    [
        "id", "projectId", "url", "secret", "signatureMethod", "topics", "isActive", "maxRetries", "retryIntervals",
        "disableAfterFailures", "consecutiveFailures", "customHeaders", "disabledAt", "createdAt", "updatedAt",
    ];

    private static void ShouldBeWebhookShape(JsonElement w)
    {
        w.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ShouldBe(WebhookFields.Order(StringComparer.Ordinal));
        Guid.Parse(w.GetProperty("id").GetString()!).Version.ShouldBe(7);
        Guid.Parse(w.GetProperty("projectId").GetString()!);
        w.GetProperty("url").ValueKind.ShouldBe(JsonValueKind.String);
        w.GetProperty("secret").GetString()!.ShouldMatch("^[0-9a-f]{64}$");
        w.GetProperty("signatureMethod").ValueKind.ShouldBe(JsonValueKind.String);
        w.GetProperty("topics").EnumerateArray().ShouldAllBe(t => t.ValueKind == JsonValueKind.String);
        w.GetProperty("isActive").ValueKind.ShouldBeOneOf(JsonValueKind.True, JsonValueKind.False);
        w.GetProperty("maxRetries").ValueKind.ShouldBe(JsonValueKind.Number);
        w.GetProperty("retryIntervals").EnumerateArray().ShouldAllBe(i => i.ValueKind == JsonValueKind.Number);
        w.GetProperty("disableAfterFailures").ValueKind.ShouldBe(JsonValueKind.Number);
        w.GetProperty("consecutiveFailures").ValueKind.ShouldBe(JsonValueKind.Number);
        w.GetProperty("customHeaders").ValueKind.ShouldBe(JsonValueKind.Object);
        w.GetProperty("disabledAt").ValueKind.ShouldBeOneOf(JsonValueKind.Null, JsonValueKind.String);
        w.GetProperty("createdAt").GetString()!.ShouldMatch(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$");
        w.GetProperty("updatedAt").GetString()!.ShouldMatch(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Create_UrlAndTopicsOnly_AnswersEveryFieldWithTheDefaults(string db)
    {
        var clock = new ManualClock();
        await using var app = await TestApp.StartAsync(db, clock: clock);
        var projectId = await EventHooks.ProjectIdAsync(app);

        var w = await EventHooks.CreateWebhookAsync(app, """{"url":"https://example.com/hooks","topics":["project.upload.*","image.uploaded"],"name":"ignored"}""");

        ShouldBeWebhookShape(w);
        w.GetProperty("projectId").GetString().ShouldBe(projectId);
        w.GetProperty("url").GetString().ShouldBe("https://example.com/hooks");
        w.GetProperty("signatureMethod").GetString().ShouldBe("hmac_sha256");
        w.GetProperty("topics").EnumerateArray().Select(t => t.GetString()).ShouldBe(["project.upload.*", "image.uploaded"]);
        w.GetProperty("isActive").GetBoolean().ShouldBeTrue();
        w.GetProperty("maxRetries").GetInt32().ShouldBe(5);
        w.GetProperty("retryIntervals").EnumerateArray().Select(i => i.GetInt32()).ShouldBe([30, 300, 1800, 7200, 21600]);
        w.GetProperty("disableAfterFailures").GetInt32().ShouldBe(20);
        w.GetProperty("consecutiveFailures").GetInt32().ShouldBe(0);
        w.GetProperty("customHeaders").EnumerateObject().ShouldBeEmpty();
        w.GetProperty("disabledAt").ValueKind.ShouldBe(JsonValueKind.Null);
        w.GetProperty("createdAt").GetString().ShouldBe("2026-11-02T12:00:00.000Z");

        using var list = await app.Client.GetAsync(EventHooks.WebhooksPath(projectId));
        list.StatusCode.ShouldBe(HttpStatusCode.OK);
        var rows = await list.ReadJsonAsync();
        rows.ValueKind.ShouldBe(JsonValueKind.Array);
        var row = rows.EnumerateArray().Single();
        ShouldBeWebhookShape(row);
        row.GetProperty("secret").GetString().ShouldBe(w.GetProperty("secret").GetString());

        // Each webhook gets its own random secret.
        var other = await EventHooks.CreateWebhookAsync(app, """{"url":"https://example.com/2","topics":["*"]}""");
        other.GetProperty("secret").GetString().ShouldNotBe(w.GetProperty("secret").GetString());
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Create_SnakeCaseAliasesAndEvents_AreAccepted(string db)
    {
        await using var app = await TestApp.StartAsync(db);

        var w = await EventHooks.CreateWebhookAsync(app, """
            {"url":"http://hooks.example.com/in","events":["project.session.created","session.completed"],"signature_method":"svix",
             "max_retries":3,"retry_intervals":[5,10],"disable_after_failures":7,"custom_headers":{"X-Tenant":"acme","Authorization":"Bearer t"}}
            """);

        ShouldBeWebhookShape(w);
        w.GetProperty("topics").EnumerateArray().Select(t => t.GetString()).ShouldBe(["project.session.created", "session.completed"]);
        w.GetProperty("signatureMethod").GetString().ShouldBe("svix");
        w.GetProperty("maxRetries").GetInt32().ShouldBe(3);
        w.GetProperty("retryIntervals").EnumerateArray().Select(i => i.GetInt32()).ShouldBe([5, 10]);
        w.GetProperty("disableAfterFailures").GetInt32().ShouldBe(7);
        w.GetProperty("customHeaders").GetProperty("X-Tenant").GetString().ShouldBe("acme");
        w.GetProperty("customHeaders").GetProperty("Authorization").GetString().ShouldBe("Bearer t");

        // The camelCase forms, with every option.
        var camel = await EventHooks.CreateWebhookAsync(app, """
            {"url":"https://a.example/x","topics":["*"],"signatureMethod":"hmac_sha256","maxRetries":0,"retryIntervals":[604800],
             "disableAfterFailures":1,"customHeaders":{}}
            """);
        camel.GetProperty("maxRetries").GetInt32().ShouldBe(0);
        camel.GetProperty("retryIntervals").EnumerateArray().Select(i => i.GetInt32()).ShouldBe([604800]);
        camel.GetProperty("disableAfterFailures").GetInt32().ShouldBe(1);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Create_InvalidFields_Answer400WithTheContractBody(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var path = EventHooks.WebhooksPath(await EventHooks.ProjectIdAsync(app));
        static string With(string field) => "{\"url\":\"https://example.com/h\",\"topics\":[\"*\"]," + field.Replace('\'', '"') + "}";
        foreach (var body in new[]
        {
            "",
            "{}",
            "[]",
            """{"topics":["*"]}""",
            """{"url":"https://example.com/h"}""",
            """{"url":"ftp://example.com/h","topics":["*"]}""",
            """{"url":"/relative","topics":["*"]}""",
            """{"url":"not a url","topics":["*"]}""",
            """{"url":"https://example.com/h","topics":[]}""",
            """{"url":"https://example.com/h","topics":"project.session.created"}""",
            """{"url":"https://example.com/h","topics":["project.session.created","foo.bar"]}""",
            """{"url":"https://example.com/h","topics":["image.*"]}""",
            """{"url":"https://example.com/h","topics":["PROJECT.SESSION.CREATED"]}""",
            With("'signatureMethod':'md5'"),
            With("'maxRetries':21"),
            With("'maxRetries':-1"),
            With("'maxRetries':1.5"),
            With("'retryIntervals':[]"),
            With("'retryIntervals':[0]"),
            With("'retryIntervals':[604801]"),
            With("'retryIntervals':['30']"),
            With("'retryIntervals':30"),
            With("'disableAfterFailures':0"),
            With("'customHeaders':{'Host':'evil'}"),
            With("'customHeaders':{'content-type':'text/plain'}"),
            With("'customHeaders':{'Transfer-Encoding':'chunked'}"),
            With("'customHeaders':{'X-Apertur-Signature':'x'}"),
            With("'customHeaders':{'svix-id':'x'}"),
            With("'customHeaders':{'Bad Name':'x'}"),
            With("'customHeaders':{'X-Number':1}"),
            With("'customHeaders':{'X-Split':'a\\r\\nInjected: 1'}"),
            With("'customHeaders':['X-A']"),
        })
        {
            using var response = await app.Client.PostAsync(path, Http.Json(body));
            response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, body);
            (await response.ReadErrorCodeAsync()).ShouldNotBeNullOrEmpty();
        }

        using var unknown = await app.Client.PostAsync(path, Http.Json("""{"url":"https://example.com/h","topics":["foo.bar"]}"""));
        var message = (await unknown.ReadJsonAsync()).GetProperty("message").GetString()!;
        message.ShouldContain("foo.bar");
        message.ShouldContain("project.upload.completed");
        message.ShouldContain("image.uploaded");

        using var none = await app.Client.GetAsync(path);
        (await none.ReadJsonAsync()).GetArrayLength().ShouldBe(0);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Patch_ChangesGivenFieldsOnly_AndReactivationClearsTheFailures(string db)
    {
        var clock = new ManualClock();
        await using var app = await TestApp.StartAsync(db, clock: clock);
        var path = EventHooks.WebhooksPath(await EventHooks.ProjectIdAsync(app));
        var created = await EventHooks.CreateWebhookAsync(app, """{"url":"https://example.com/h","topics":["*"],"customHeaders":{"X-A":"1"}}""");
        var id = created.Id();
        clock.Advance(TimeSpan.FromMinutes(1));

        foreach (var empty in new[] { "", "{}", "[]" })
        {
            using var same = await app.Client.PatchAsync($"{path}/{id}", empty.Length == 0 ? null : Http.Json(empty));
            same.StatusCode.ShouldBe(HttpStatusCode.OK);
            var unchanged = await same.ReadJsonAsync();
            ShouldBeWebhookShape(unchanged);
            unchanged.GetProperty("topics").EnumerateArray().Select(t => t.GetString()).ShouldBe(["*"]);
        }

        using var patched = await app.Client.PatchJsonAsync($"{path}/{id}", """
            {"url":"https://example.org/new","events":["project.session.*"],"max_retries":2,"retry_intervals":[1,2,3],
             "disable_after_failures":4,"custom_headers":{"X-B":"2"},"isActive":false,"unknown":true}
            """);
        patched.StatusCode.ShouldBe(HttpStatusCode.OK);
        var w = await patched.ReadJsonAsync();
        ShouldBeWebhookShape(w);
        w.GetProperty("url").GetString().ShouldBe("https://example.org/new");
        w.GetProperty("topics").EnumerateArray().Select(t => t.GetString()).ShouldBe(["project.session.*"]);
        w.GetProperty("maxRetries").GetInt32().ShouldBe(2);
        w.GetProperty("retryIntervals").EnumerateArray().Select(i => i.GetInt32()).ShouldBe([1, 2, 3]);
        w.GetProperty("disableAfterFailures").GetInt32().ShouldBe(4);
        w.GetProperty("customHeaders").EnumerateObject().Select(p => p.Name).ShouldBe(["X-B"]);
        w.GetProperty("isActive").GetBoolean().ShouldBeFalse();
        w.GetProperty("secret").GetString().ShouldBe(created.GetProperty("secret").GetString());
        w.GetProperty("createdAt").GetString().ShouldBe("2026-11-02T12:00:00.000Z");
        w.GetProperty("updatedAt").GetString().ShouldBe("2026-11-02T12:01:00.000Z");

        using var bad = await app.Client.PatchJsonAsync($"{path}/{id}", """{"topics":["nope"]}""");
        bad.StatusCode.ShouldBe(HttpStatusCode.BadRequest);

        // As the worker leaves a webhook it disabled.
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var data = scope.ServiceProvider.GetRequiredService<AperturDb>();
            var disabledAt = clock.GetUtcNow();
            await data.EventWebhooks.Where(x => x.Id == Guid.Parse(id))
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.ConsecutiveFailures, 4).SetProperty(x => x.DisabledAt, disabledAt));
        }
        using var reactivated = await app.Client.PatchJsonAsync($"{path}/{id}", """{"is_active":true}""");
        var r = await reactivated.ReadJsonAsync();
        r.GetProperty("isActive").GetBoolean().ShouldBeTrue();
        r.GetProperty("consecutiveFailures").GetInt32().ShouldBe(0);
        r.GetProperty("disabledAt").ValueKind.ShouldBe(JsonValueKind.Null);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Delete_Answers204_ThenTheWebhookAndItsDeliveriesAreGone(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var path = EventHooks.WebhooksPath(await EventHooks.ProjectIdAsync(app));
        // A port nobody listens on: the delivery stays queued for retries.
        var id = (await EventHooks.CreateWebhookAsync(app, """{"url":"http://127.0.0.1:9/h","topics":["*"]}""")).Id();
        await app.Client.CreateSessionAsync();
        (await EventHooks.DeliveriesAsync(app, id)).Count.ShouldBe(1);

        using var deleted = await app.Client.DeleteAsync($"{path}/{id}");
        deleted.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        (await deleted.Content.ReadAsByteArrayAsync()).ShouldBeEmpty();

        using var again = await app.Client.DeleteAsync($"{path}/{id}");
        again.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        using var patch = await app.Client.PatchJsonAsync($"{path}/{id}", "{}");
        patch.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        using var list = await app.Client.GetAsync(path);
        (await list.ReadJsonAsync()).GetArrayLength().ShouldBe(0);
        (await EventHooks.DeliveriesAsync(app, id)).ShouldBeEmpty();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task AnotherProjectsIds_AndIdsThatAreNotUuids_Answer404(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var ours = await EventHooks.ProjectIdAsync(app);
        var webhook = (await EventHooks.CreateWebhookAsync(app, """{"url":"https://example.com/h","topics":["*"]}""")).Id();
        using var other = app.CreateClient(await KeysForOtherProject.CreateAsync(app));

        // The other project's key, on our project's routes.
        var ourPath = EventHooks.WebhooksPath(ours);
        foreach (var (method, url) in new[]
        {
            ("GET", ourPath), ("POST", ourPath), ("PATCH", $"{ourPath}/{webhook}"), ("DELETE", $"{ourPath}/{webhook}"),
            ("POST", $"{ourPath}/{webhook}/test"), ("GET", $"{ourPath}/{webhook}/deliveries"),
            ("POST", $"{ourPath}/{webhook}/deliveries/{Guid.CreateVersion7()}/retry"),
            ("GET", "/api/v1/projects/not-a-uuid/webhooks"),
        })
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), url)
            {
                Content = method is "POST" or "PATCH" ? Http.Json("""{"url":"https://example.com/h","topics":["*"]}""") : null,
            };
            using var response = await other.SendAsync(request);
            response.StatusCode.ShouldBe(HttpStatusCode.NotFound, $"{method} {url}");
            (await response.ReadErrorCodeAsync()).ShouldNotBeNullOrEmpty();
        }

        // The other project's own routes, with our webhook id.
        var otherProject = await OtherProjectIdAsync(app);
        using var cross = await other.PatchJsonAsync($"{EventHooks.WebhooksPath(otherProject)}/{webhook}", """{"isActive":false}""");
        cross.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        using var crossDeliveries = await other.GetAsync($"{EventHooks.WebhooksPath(otherProject)}/{webhook}/deliveries");
        crossDeliveries.StatusCode.ShouldBe(HttpStatusCode.NotFound);

        // Ids that are not UUIDs, with our own key.
        using var notUuid = await app.Client.PatchJsonAsync($"{ourPath}/123", "{}");
        notUuid.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        using var notUuidGet = await app.Client.GetAsync($"{ourPath}/123/deliveries");
        notUuidGet.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        using var notUuidDelivery = await app.Client.PostAsync($"{ourPath}/{webhook}/deliveries/abc/retry", null);
        notUuidDelivery.StatusCode.ShouldBe(HttpStatusCode.NotFound);

        // Our webhook is untouched.
        (await EventHooks.WebhookAsync(app, webhook)).IsActive.ShouldBeTrue();

        using var anonymous = app.CreateClient();
        using var noKey = await anonymous.GetAsync(ourPath);
        noKey.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Deliveries_EmptyWebhook_AnswersThePageShape_AndRejectsBadPaging(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var path = EventHooks.WebhooksPath(await EventHooks.ProjectIdAsync(app));
        var id = (await EventHooks.CreateWebhookAsync(app, """{"url":"https://example.com/h","topics":["*"]}""")).Id();

        var page = await EventHooks.DeliveriesPageAsync(app, id);
        page.GetProperty("deliveries").GetArrayLength().ShouldBe(0);
        page.GetProperty("total").GetInt32().ShouldBe(0);
        page.GetProperty("page").GetInt32().ShouldBe(1);
        page.GetProperty("limit").GetInt32().ShouldBe(20);

        foreach (var query in new[] { "?page=0", "?limit=0", "?limit=101", "?page=x" })
        {
            using var response = await app.Client.GetAsync($"{path}/{id}/deliveries{query}");
            response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, query);
        }

        using var unknownDelivery = await app.Client.PostAsync($"{path}/{id}/deliveries/{Guid.CreateVersion7()}/retry", null);
        unknownDelivery.StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    private static async Task<string> OtherProjectIdAsync(TestApp app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
        return (await db.Projects.Where(p => p.Name == "Other").Select(p => p.Id).FirstAsync()).ToString();
    }
}
