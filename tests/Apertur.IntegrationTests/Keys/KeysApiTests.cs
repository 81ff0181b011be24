using System.Net;
using System.Text.Json;
using Apertur.IntegrationTests.Infrastructure;
using Shouldly;

namespace Apertur.IntegrationTests.Keys;

public sealed class KeysApiTests
{
    private static readonly string[] ApiKeyFields =
    [
        "allowedDomains", "allowedIps", "allowedMimeTypes", "clientCertEnabled", "clientCertFingerprint", "createdAt", "defaultDestinations",
        "env", "id", "isActive", "label", "lastUsedAt", "longPollingEnabled", "maxImageDimension", "maxImages", "prefix", "totpEnabled",
    ];

    private static async Task<(string Url, string ProjectId)> KeysUrlAsync(HttpClient client)
    {
        var projectId = await client.ProjectIdAsync();
        return ($"/api/v1/projects/{projectId}/keys", projectId);
    }

    private static async Task<JsonElement> CreateKeyAsync(HttpClient client, string json)
    {
        var (url, _) = await KeysUrlAsync(client);
        using var response = await client.PostAsync(url, Http.Json(json));
        var body = await response.ReadJsonAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.Created, body.ToString());
        return body;
    }

    private static void ShouldBeAnApiKey(JsonElement key)
    {
        key.PropertyNames().ShouldBe(ApiKeyFields);
        foreach (var array in new[] { "allowedMimeTypes", "defaultDestinations", "allowedIps", "allowedDomains" })
        {
            key.GetProperty(array).ValueKind.ShouldBe(JsonValueKind.Array, array);
        }
        key.GetProperty("totpEnabled").GetBoolean().ShouldBeFalse();
        key.GetProperty("clientCertEnabled").GetBoolean().ShouldBeFalse();
        key.GetProperty("clientCertFingerprint").ValueKind.ShouldBe(JsonValueKind.Null);
        key.GetProperty("createdAt").GetString()!.ShouldMatch(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Create_AnswersKeyCreated_AndTheNewKeyAuthenticates(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var created = await CreateKeyAsync(app.Client, """{"label":"CI pipeline"}""");

        created.PropertyNames().ShouldBe(["id", "key", "plainTextKey", "plain_text_key"]);
        var plain = created.GetProperty("plainTextKey").GetString()!;
        created.GetProperty("plain_text_key").GetString().ShouldBe(plain);
        plain.ShouldStartWith("aptr_live_");
        var key = created.GetProperty("key");
        ShouldBeAnApiKey(key);
        created.GetProperty("id").GetString().ShouldBe(key.GetProperty("id").GetString());
        key.GetProperty("label").GetString().ShouldBe("CI pipeline");
        key.GetProperty("env").GetString().ShouldBe("live");
        key.GetProperty("prefix").GetString().ShouldBe(plain[..14]);
        key.GetProperty("isActive").GetBoolean().ShouldBeTrue();
        key.GetProperty("lastUsedAt").ValueKind.ShouldBe(JsonValueKind.Null);
        key.GetProperty("maxImages").ValueKind.ShouldBe(JsonValueKind.Null);
        key.GetProperty("longPollingEnabled").GetBoolean().ShouldBeFalse();

        using var fresh = app.CreateClient(plain);
        (await fresh.GetAsync("/api/v1/project")).StatusCode.ShouldBe(HttpStatusCode.OK);
        // The plain key is never shown again.
        var (url, _) = await KeysUrlAsync(app.Client);
        (await (await app.Client.GetAsync(url)).Content.ReadAsStringAsync()).ShouldNotContain(plain);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Create_TestEnvAndAliases_AreHonoured(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var created = await CreateKeyAsync(app.Client,
            """{"name":"Sandbox","env":"test","max_images":7,"allowed_mime_types":["image/jpg","image/png"],"max_image_dimension":2048,"longPollingEnabled":true}""");
        created.GetProperty("plainTextKey").GetString()!.ShouldStartWith("aptr_test_");
        var key = created.GetProperty("key");
        key.GetProperty("env").GetString().ShouldBe("test");
        key.GetProperty("label").GetString().ShouldBe("Sandbox");
        key.GetProperty("maxImages").GetInt32().ShouldBe(7);
        key.GetProperty("allowedMimeTypes").EnumerateArray().Select(e => e.GetString()).ShouldBe(["image/jpeg", "image/png"]);
        key.GetProperty("maxImageDimension").GetInt32().ShouldBe(2048);
        key.GetProperty("longPollingEnabled").GetBoolean().ShouldBeTrue();

        // Without env, a test key makes test keys.
        using var testClient = app.CreateClient(app.TestKey);
        (await CreateKeyAsync(testClient, """{"label":"t"}""")).GetProperty("plainTextKey").GetString()!.ShouldStartWith("aptr_test_");

        // Session limits of a key apply to the sessions it creates.
        using var limited = app.CreateClient(created.GetProperty("plainTextKey").GetString());
        (await limited.CreateSessionAsync("""{"max_images":20}""")).GetProperty("max_images").GetInt32().ShouldBe(7);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Create_InvalidInput_Answers400(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var (url, _) = await KeysUrlAsync(app.Client);
        foreach (var body in new[]
        {
            "{}",
            """{"label":""}""",
            """{"label":"x","env":"prod"}""",
            """{"label":"x","maxImages":0}""",
            """{"label":"x","allowedMimeTypes":["image/gif"]}""",
            """{"label":"x","maxImageDimension":-1}""",
            """{"label":"x","allowedIps":["not-an-ip"]}""",
        })
        {
            using var response = await app.Client.PostAsync(url, Http.Json(body));
            response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, body);
            (await response.ReadErrorCodeAsync()).ShouldBe("VALIDATION_ERROR");
        }
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task List_ShowsEveryKeyWithNonNullArrays(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var (url, _) = await KeysUrlAsync(app.Client);
        using var response = await app.Client.GetAsync(url);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var keys = await response.ReadJsonAsync();
        keys.GetArrayLength().ShouldBe(2);
        foreach (var key in keys.EnumerateArray())
        {
            ShouldBeAnApiKey(key);
        }
        keys.EnumerateArray().Select(k => k.GetProperty("env").GetString()).Order().ShouldBe(["live", "test"]);
        // The live key was just used to call.
        keys.EnumerateArray().Single(k => k.GetProperty("env").GetString() == "live").GetProperty("lastUsedAt").ValueKind.ShouldBe(JsonValueKind.String);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Patch_ChangesFields_AndDeactivatedKeyGets401(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var (url, _) = await KeysUrlAsync(app.Client);
        var created = await CreateKeyAsync(app.Client, """{"label":"Temp","maxImages":5}""");
        var id = created.GetProperty("id").GetString();
        using var temp = app.CreateClient(created.GetProperty("plainTextKey").GetString());
        (await temp.GetAsync("/api/v1/project")).StatusCode.ShouldBe(HttpStatusCode.OK);

        using (var response = await app.Client.PatchJsonAsync($"{url}/{id}",
            """{"label":"Renamed","max_images":null,"allowed_mime_types":["image/webp"],"maxImageDimension":1000,"allowed_ips":["127.0.0.1","10.0.0.0/8"],"allowedDomains":["Example.com"]}"""))
        {
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
            var key = await response.ReadJsonAsync();
            ShouldBeAnApiKey(key);
            key.GetProperty("label").GetString().ShouldBe("Renamed");
            key.GetProperty("maxImages").ValueKind.ShouldBe(JsonValueKind.Null);
            key.GetProperty("allowedMimeTypes").EnumerateArray().Select(e => e.GetString()).ShouldBe(["image/webp"]);
            key.GetProperty("maxImageDimension").GetInt32().ShouldBe(1000);
            key.GetProperty("allowedIps").EnumerateArray().Select(e => e.GetString()).ShouldBe(["127.0.0.1", "10.0.0.0/8"]);
            key.GetProperty("allowedDomains").EnumerateArray().Select(e => e.GetString()).ShouldBe(["example.com"]);
            key.GetProperty("isActive").GetBoolean().ShouldBeTrue();
        }
        (await app.Client.PatchJsonAsync($"{url}/{id}", """{"allowedIps":[]}""")).StatusCode.ShouldBe(HttpStatusCode.OK);

        var off = await (await app.Client.PatchJsonAsync($"{url}/{id}", """{"isActive":false}""")).ReadJsonAsync();
        off.GetProperty("isActive").GetBoolean().ShouldBeFalse();
        off.GetProperty("label").GetString().ShouldBe("Renamed");
        (await temp.GetAsync("/api/v1/project")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);

        (await app.Client.PatchJsonAsync($"{url}/{id}", """{"is_active":true}""")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await temp.GetAsync("/api/v1/project")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Delete_Answers204_AndTheKeyStopsWorking(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var (url, _) = await KeysUrlAsync(app.Client);
        var created = await CreateKeyAsync(app.Client, """{"label":"Temp"}""");
        var id = created.GetProperty("id").GetString();
        using var temp = app.CreateClient(created.GetProperty("plainTextKey").GetString());

        using var deleted = await app.Client.DeleteAsync($"{url}/{id}");
        deleted.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        (await deleted.Content.ReadAsByteArrayAsync()).ShouldBeEmpty();
        (await temp.GetAsync("/api/v1/project")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        using var again = await app.Client.DeleteAsync($"{url}/{id}");
        again.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await again.ReadErrorCodeAsync()).ShouldBe("KEY_NOT_FOUND");
        (await (await app.Client.GetAsync(url)).ReadJsonAsync()).GetArrayLength().ShouldBe(2);

        // A key may delete itself; it is refused from then on.
        using (var self = await temp.DeleteAsync($"{url}/{id}"))
        {
            self.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        }
        var selfKey = await CreateKeyAsync(app.Client, """{"label":"Self"}""");
        using var selfClient = app.CreateClient(selfKey.GetProperty("plainTextKey").GetString());
        (await selfClient.DeleteAsync($"{url}/{selfKey.GetProperty("id").GetString()}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        (await selfClient.GetAsync("/api/v1/project")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task AnotherProjectsKeysAndIds_Answer404(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        using var other = app.CreateClient(await KeysForOtherProject.CreateAsync(app));
        var (myUrl, _) = await KeysUrlAsync(app.Client);
        var liveKeyId = await Manage.KeyIdAsync(app, app.LiveKey);
        var (theirUrl, _) = await KeysUrlAsync(other);

        foreach (var (method, url) in new[]
        {
            (HttpMethod.Get, myUrl),
            (HttpMethod.Post, myUrl),
            (HttpMethod.Patch, $"{myUrl}/{liveKeyId}"),
            (HttpMethod.Delete, $"{myUrl}/{liveKeyId}"),
            (HttpMethod.Patch, $"{theirUrl}/{liveKeyId}"),
            (HttpMethod.Delete, $"{theirUrl}/{liveKeyId}"),
            (HttpMethod.Put, $"/api/v1/keys/{liveKeyId}/destinations"),
            (HttpMethod.Put, "/api/v1/keys/not-a-uuid/destinations"),
        })
        {
            using var request = new HttpRequestMessage(method, url) { Content = method == HttpMethod.Get ? null : Http.Json("""{"label":"x","isActive":false,"destination_ids":[]}""") };
            using var response = await other.SendAsync(request);
            response.StatusCode.ShouldBe(HttpStatusCode.NotFound, $"{method} {url}");
        }
        (await app.Client.GetAsync("/api/v1/project")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task SetDestinations_ReplacesDefaults_FlagOnlyWhenSent_AndSessionsUseThem(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var first = await app.Client.CreateDestinationAsync("""{"type":"s3","name":"First","config":{"bucket":"photos","region":"eu-west-1","access_key_id":"AKIAEXAMPLE","secret_access_key":"s"}}""");
        var second = await app.Client.CreateDestinationAsync("""{"type":"webhook","name":"Second","config":{"url":"https://example.com/h"}}""");
        var d1 = first.GetProperty("id").GetString()!;
        var d2 = second.GetProperty("id").GetString()!;
        var keyId = await Manage.KeyIdAsync(app, app.LiveKey);
        var url = $"/api/v1/keys/{keyId}/destinations";

        using (var response = await app.Client.PutAsync(url, Http.Json($$$"""{"destination_ids":["{{{d2}}}","{{{d1}}}","{{{d2}}}"]}""")))
        {
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
            var body = await response.ReadJsonAsync();
            body.PropertyNames().ShouldBe(["destinations", "longPollingEnabled"]);
            body.GetProperty("longPollingEnabled").GetBoolean().ShouldBeFalse();
            var listed = body.GetProperty("destinations");
            listed.EnumerateArray().Select(d => d.GetProperty("id").GetString()).ShouldBe([d2, d1]);
            listed[0].PropertyNames().ShouldBe(["id", "isActive", "name", "type"]);
            listed[0].GetProperty("type").GetString().ShouldBe("webhook");
            listed[0].GetProperty("name").GetString().ShouldBe("Second");
            listed[0].GetProperty("isActive").GetBoolean().ShouldBeTrue();
        }

        // Present flag changes it (both spellings); absent flag keeps it.
        (await (await app.Client.PutAsync(url, Http.Json($$$"""{"destination_ids":["{{{d2}}}","{{{d1}}}"],"long_polling_enabled":true}"""))).ReadJsonAsync())
            .GetProperty("longPollingEnabled").GetBoolean().ShouldBeTrue();
        (await (await app.Client.PutAsync(url, Http.Json($$$"""{"destination_ids":["{{{d2}}}","{{{d1}}}"]}"""))).ReadJsonAsync())
            .GetProperty("longPollingEnabled").GetBoolean().ShouldBeTrue();
        (await (await app.Client.PutAsync(url, Http.Json("""{"long_polling":false}"""))).ReadJsonAsync())
            .GetProperty("destinations").GetArrayLength().ShouldBe(2);

        var (keysUrl, _) = await KeysUrlAsync(app.Client);
        var liveKey = (await (await app.Client.GetAsync(keysUrl)).ReadJsonAsync()).EnumerateArray().Single(k => k.GetProperty("id").GetString() == keyId.ToString());
        liveKey.GetProperty("defaultDestinations").EnumerateArray().Select(e => e.GetString()).ShouldBe([d2, d1]);
        liveKey.GetProperty("longPollingEnabled").GetBoolean().ShouldBeFalse();

        // A session created with this key and no destination_ids gets the key's defaults, in order.
        var session = await app.Client.CreateSessionAsync();
        session.GetProperty("destinations").EnumerateArray().Select(d => d.GetProperty("id").GetString()).ShouldBe([d2, d1]);
        session.GetProperty("destinations")[1].GetProperty("type").GetString().ShouldBe("s3");

        // Unknown, malformed or foreign destinations are refused and change nothing.
        using var other = app.CreateClient(await KeysForOtherProject.CreateAsync(app));
        var foreign = (await other.CreateDestinationAsync("""{"type":"s3","name":"Theirs","config":{"bucket":"photos","region":"eu-west-1","access_key_id":"AKIAEXAMPLE","secret_access_key":"s"}}""")).GetProperty("id").GetString();
        foreach (var bad in new[] { foreign, Guid.CreateVersion7().ToString(), "nope" })
        {
            using var response = await app.Client.PutAsync(url, Http.Json($$$"""{"destination_ids":["{{{d1}}}","{{{bad}}}"]}"""));
            response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, bad);
            (await response.ReadErrorCodeAsync()).ShouldBe("DESTINATION_NOT_FOUND");
        }
        (await app.Client.PutAsync(url, Http.Json("""{"destination_ids":[]}"""))).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await app.Client.CreateSessionAsync()).GetProperty("destinations").GetArrayLength().ShouldBe(0);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task AllowedIps_RefuseOtherAddressesWith403(string db)
    {
        await using var app = await TestApp.StartAsync(db, kestrel: true);
        var created = await CreateKeyAsync(app.Client, """{"label":"Office only","allowedIps":["203.0.113.0/24"]}""");
        using var restricted = app.CreateClient(created.GetProperty("plainTextKey").GetString());

        using (var refused = await restricted.GetAsync("/api/v1/project"))
        {
            refused.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
            (await refused.ReadErrorCodeAsync()).ShouldBe("IP_NOT_ALLOWED");
        }

        var (url, _) = await KeysUrlAsync(app.Client);
        (await app.Client.PatchJsonAsync($"{url}/{created.GetProperty("id").GetString()}", """{"allowedIps":["203.0.113.0/24","127.0.0.0/8"]}"""))
            .StatusCode.ShouldBe(HttpStatusCode.OK);
        (await restricted.GetAsync("/api/v1/project")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }
}
