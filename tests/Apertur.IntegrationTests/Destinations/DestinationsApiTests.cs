using System.Net;
using System.Text.Json;
using Apertur.Destinations;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Server.Destinations;
using Apertur.Tests;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;

namespace Apertur.IntegrationTests.Destinations;

public sealed class DestinationsApiTests
{
    private static readonly string[] DestinationFields = ["config", "createdAt", "id", "isActive", "name", "type", "updatedAt"];

    private static async Task<string> StoredConfigAsync(TestApp app, string id) =>
        await Manage.DbAsync(app, d => d.Destinations.Where(x => x.Id == Guid.Parse(id)).Select(x => x.Config).SingleAsync());

    [Theory, ClassData(typeof(Databases))]
    public async Task Crud_RoundTrip_WithExactFieldNames(string db)
    {
        var clock = new ManualClock();
        await using var app = await TestApp.StartAsync(db, clock: clock);
        var projectId = await app.Client.ProjectIdAsync();
        var url = $"/api/v1/projects/{projectId}/destinations";

        using var created = await app.Client.PostAsync(url, Http.Json("""{"type":"webhook","name":"Receiver","config":{"url":"https://example.com/hook","format":"json_base64"}}"""));
        created.StatusCode.ShouldBe(HttpStatusCode.Created);
        var destination = await created.ReadJsonAsync();
        destination.PropertyNames().ShouldBe(DestinationFields);
        var id = destination.GetProperty("id").GetString()!;
        Guid.Parse(id).Version.ShouldBe(7);
        destination.GetProperty("type").GetString().ShouldBe("webhook");
        destination.GetProperty("name").GetString().ShouldBe("Receiver");
        destination.GetProperty("config").GetProperty("url").GetString().ShouldBe("https://example.com/hook");
        destination.GetProperty("config").GetProperty("format").GetString().ShouldBe("json_base64");
        destination.GetProperty("isActive").GetBoolean().ShouldBeTrue();
        destination.GetProperty("createdAt").GetString().ShouldBe("2026-11-02T12:00:00.000Z");
        destination.GetProperty("updatedAt").GetString().ShouldBe("2026-11-02T12:00:00.000Z");

        var list = await (await app.Client.GetAsync(url)).ReadJsonAsync();
        list.ValueKind.ShouldBe(JsonValueKind.Array);
        list.GetArrayLength().ShouldBe(1);
        list[0].PropertyNames().ShouldBe(DestinationFields);
        list[0].GetProperty("id").GetString().ShouldBe(id);

        clock.Advance(TimeSpan.FromMinutes(5));
        using var patched = await app.Client.PatchJsonAsync($"{url}/{id}", """{"name":"Renamed","is_active":false,"config":{"format":"binary"}}""");
        patched.StatusCode.ShouldBe(HttpStatusCode.OK);
        var after = await patched.ReadJsonAsync();
        after.PropertyNames().ShouldBe(DestinationFields);
        after.GetProperty("name").GetString().ShouldBe("Renamed");
        after.GetProperty("isActive").GetBoolean().ShouldBeFalse();
        after.GetProperty("config").GetProperty("url").GetString().ShouldBe("https://example.com/hook");
        after.GetProperty("config").GetProperty("format").GetString().ShouldBe("binary");
        after.GetProperty("createdAt").GetString().ShouldBe("2026-11-02T12:00:00.000Z");
        after.GetProperty("updatedAt").GetString().ShouldBe("2026-11-02T12:05:00.000Z");
        (await (await app.Client.PatchJsonAsync($"{url}/{id}", """{"isActive":true}""")).ReadJsonAsync()).GetProperty("isActive").GetBoolean().ShouldBeTrue();

        using var deleted = await app.Client.DeleteAsync($"{url}/{id}");
        deleted.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        (await deleted.Content.ReadAsByteArrayAsync()).ShouldBeEmpty();
        (await (await app.Client.GetAsync(url)).ReadJsonAsync()).GetArrayLength().ShouldBe(0);
        using var again = await app.Client.PatchJsonAsync($"{url}/{id}", """{"name":"x"}""");
        again.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await again.ReadErrorCodeAsync()).ShouldBe("DESTINATION_NOT_FOUND");
        (await app.Client.DeleteAsync($"{url}/{id}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Create_UnknownType_Answers400ListingTheValidTypes(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var projectId = await app.Client.ProjectIdAsync();
        foreach (var body in new[] { """{"type":"gcs","name":"x","config":{}}""", """{"name":"x","config":{}}""" })
        {
            using var response = await app.Client.PostAsync($"/api/v1/projects/{projectId}/destinations", Http.Json(body));
            response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            var error = await response.ReadJsonAsync();
            error.GetProperty("code").GetString().ShouldBe("INVALID_DESTINATION_TYPE");
            foreach (var kind in DestinationKinds.All)
            {
                error.GetProperty("message").GetString()!.ShouldContain(kind);
            }
        }
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Create_GdriveAlias_IsStoredAsGoogleDrive(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var destination = await app.Client.CreateDestinationAsync("""{"type":"GDrive","name":"Drive","config":{"folder":"Photos"}}""");
        destination.GetProperty("type").GetString().ShouldBe("google_drive");
        var id = Guid.Parse(destination.GetProperty("id").GetString()!);
        (await Manage.DbAsync(app, d => d.Destinations.Where(x => x.Id == id).Select(x => x.Type).SingleAsync())).ShouldBe("google_drive");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Create_InvalidInput_Answers400WithOneMessage(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var projectId = await app.Client.ProjectIdAsync();
        foreach (var (body, expected) in new[]
        {
            ("""{"type":"webhook","name":"x","config":{"url":"ftp://example.com/x","format":"xml"}}""", "config.url"),
            ("""{"type":"webhook","name":"x","config":{"url":"https://example.com","format":"xml"}}""", "config.format"),
            ("""{"type":"webhook","name":"x"}""", "config.url is required"),
            ("""{"type":"s3","name":"x","config":"bucket=b"}""", "'config' must be a JSON object"),
            ("""{"type":"s3","config":{}}""", "'name'"),
            ($$$"""{"type":"s3","name":"{{{new string('n', 101)}}}","config":{}}""", "'name'"),
            ("""{"type":"s3","name":"x","config":{"bucket":"photos","region":"eu-west-1","access_key_id":"a","secret_access_key":"s","note":{"$protected":"CfDJ8"}}}""", "$protected"),
            ("""{"type":"s3","name":"x","config":{"bucket":"photos"}}""", "config.region is required"),
            ("""{"type":"s3","name":"x","config":{"bucket":"photos","region":"eu-west-1","access_key_id":"a","secret_access_key":"s","key_template":"../{ext}"}}""", "must not contain '..'"),
            ("""{"type":"azure_blob","name":"x","config":{"account_name":"acct","container_name":"images"}}""", "config needs one credential"),
        })
        {
            using var response = await app.Client.PostAsync($"/api/v1/projects/{projectId}/destinations", Http.Json(body));
            response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, body);
            var error = await response.ReadJsonAsync();
            error.GetProperty("message").ValueKind.ShouldBe(JsonValueKind.String);
            error.GetProperty("message").GetString()!.ShouldContain(expected, Case.Sensitive, body);
        }
        // An invalid webhook config in a PATCH is refused too, and nothing changes.
        var hook = await app.Client.CreateDestinationAsync("""{"type":"webhook","name":"x","config":{"url":"https://example.com/a"}}""");
        var hookUrl = $"/api/v1/projects/{projectId}/destinations/{hook.GetProperty("id").GetString()}";
        (await app.Client.PatchJsonAsync(hookUrl, """{"config":{"url":null}}""")).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await (await app.Client.GetAsync($"/api/v1/projects/{projectId}/destinations")).ReadJsonAsync())[0]
            .GetProperty("config").GetProperty("url").GetString().ShouldBe("https://example.com/a");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Create_WithoutConfigOrWithFlatFields_IsAccepted(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        // Python omits config when None.
        var bare = await app.Client.CreateDestinationAsync("""{"type":"dropbox","name":"Box"}""");
        bare.GetProperty("config").ValueKind.ShouldBe(JsonValueKind.Object);
        bare.GetProperty("config").EnumerateObject().Count().ShouldBe(0);
        // Ruby README: flat fields without the config wrapper.
        var flat = await app.Client.CreateDestinationAsync("""{"type":"s3","name":"Bucket","bucket":"photos","region":"eu-west-1","access_key_id":"AKIAEXAMPLE","secret_access_key":"flat-secret"}""");
        var config = flat.GetProperty("config");
        config.PropertyNames().ShouldBe(["access_key_id", "bucket", "region", "secret_access_key"]);
        config.GetProperty("bucket").GetString().ShouldBe("photos");
        config.GetProperty("secret_access_key").GetString().ShouldBe("********");
        (await StoredConfigAsync(app, flat.GetProperty("id").GetString()!)).ShouldNotContain("flat-secret");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Secrets_EncryptedAtRest_MaskedOnRead_MaskKeepsThem_NewValueReplaces(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        const string secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        var created = await app.Client.CreateDestinationAsync(
            $$$"""{"type":"s3","name":"Photos","config":{"bucket":"photos","region":"eu-west-1","access_key_id":"AKIAEXAMPLE","secret_access_key":"{{{secret}}}"}}""");
        var id = created.GetProperty("id").GetString()!;
        created.GetProperty("config").GetProperty("secret_access_key").GetString().ShouldBe("********");
        created.GetProperty("config").GetProperty("access_key_id").GetString().ShouldBe("AKIAEXAMPLE");

        var stored = await StoredConfigAsync(app, id);
        stored.ShouldNotContain(secret);
        stored.ShouldNotContain("wJalrXUtnFEMI");
        stored.ShouldContain("AKIAEXAMPLE");
        stored.ShouldContain("$protected");
        var configs = app.Services.GetRequiredService<DestinationConfigs>();
        configs.Reveal(stored).GetProperty("secret_access_key").GetString().ShouldBe(secret);

        var projectId = await app.Client.ProjectIdAsync();
        var url = $"/api/v1/projects/{projectId}/destinations";
        var listed = (await (await app.Client.GetAsync(url)).ReadJsonAsync())[0].GetProperty("config");
        listed.GetProperty("secret_access_key").GetString().ShouldBe("********");

        // Sending back what GET showed (mask included) keeps the stored secret.
        var echoed = listed.GetRawText().Replace("\"photos\"", "\"photos-2\"", StringComparison.Ordinal);
        using (var response = await app.Client.PatchJsonAsync($"{url}/{id}", $$$"""{"config":{{{echoed}}}}"""))
        {
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
            (await response.ReadJsonAsync()).GetProperty("config").GetProperty("secret_access_key").GetString().ShouldBe("********");
        }
        var kept = configs.Reveal(await StoredConfigAsync(app, id));
        kept.GetProperty("secret_access_key").GetString().ShouldBe(secret);
        kept.GetProperty("bucket").GetString().ShouldBe("photos-2");

        (await app.Client.PatchJsonAsync($"{url}/{id}", """{"config":{"secret_access_key":"rotated-secret"}}""")).StatusCode.ShouldBe(HttpStatusCode.OK);
        var replacedStored = await StoredConfigAsync(app, id);
        replacedStored.ShouldNotContain("rotated-secret");
        var replaced = configs.Reveal(replacedStored);
        replaced.GetProperty("secret_access_key").GetString().ShouldBe("rotated-secret");
        replaced.GetProperty("bucket").GetString().ShouldBe("photos-2");
        replaced.GetProperty("access_key_id").GetString().ShouldBe("AKIAEXAMPLE");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task AnotherProjectsIds_Answer404(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        using var other = app.CreateClient(await KeysForOtherProject.CreateAsync(app));
        var mine = await app.Client.ProjectIdAsync();
        var theirs = await other.ProjectIdAsync();
        var myDestination = (await app.Client.CreateDestinationAsync("""{"type":"s3","name":"Mine","config":{"bucket":"photos","region":"eu-west-1","access_key_id":"AKIAEXAMPLE","secret_access_key":"s"}}""")).GetProperty("id").GetString();
        var theirDestination = (await other.CreateDestinationAsync("""{"type":"s3","name":"Theirs","config":{"bucket":"photos","region":"eu-west-1","access_key_id":"AKIAEXAMPLE","secret_access_key":"s"}}""")).GetProperty("id").GetString();

        var attempts = new List<(HttpClient Client, HttpMethod Method, string Url)>
        {
            (other, HttpMethod.Get, $"/api/v1/projects/{mine}/destinations"),
            (other, HttpMethod.Post, $"/api/v1/projects/{mine}/destinations"),
            (other, HttpMethod.Patch, $"/api/v1/projects/{mine}/destinations/{myDestination}"),
            (other, HttpMethod.Delete, $"/api/v1/projects/{mine}/destinations/{myDestination}"),
            (other, HttpMethod.Post, $"/api/v1/projects/{mine}/destinations/{myDestination}/test"),
            // Their own project id with my destination id: still not theirs.
            (other, HttpMethod.Patch, $"/api/v1/projects/{theirs}/destinations/{myDestination}"),
            (other, HttpMethod.Delete, $"/api/v1/projects/{theirs}/destinations/{myDestination}"),
            (app.Client, HttpMethod.Get, $"/api/v1/projects/{theirs}/destinations"),
            (app.Client, HttpMethod.Post, $"/api/v1/projects/{mine}/destinations/{theirDestination}/test"),
            (app.Client, HttpMethod.Get, "/api/v1/projects/not-a-uuid/destinations"),
            (app.Client, HttpMethod.Get, $"/api/v1/projects/{Guid.CreateVersion7()}/destinations"),
            (app.Client, HttpMethod.Delete, $"/api/v1/projects/{mine}/destinations/not-a-uuid"),
        };
        foreach (var (client, method, url) in attempts)
        {
            using var request = new HttpRequestMessage(method, url) { Content = method == HttpMethod.Get ? null : Http.Json("""{"type":"s3","name":"x"}""") };
            using var response = await client.SendAsync(request);
            response.StatusCode.ShouldBe(HttpStatusCode.NotFound, $"{method} {url}");
            (await response.ReadErrorCodeAsync()).ShouldEndWith("_NOT_FOUND");
        }
        (await (await app.Client.GetAsync($"/api/v1/projects/{mine}/destinations")).ReadJsonAsync()).GetArrayLength().ShouldBe(1);
        (await (await other.GetAsync($"/api/v1/projects/{theirs}/destinations")).ReadJsonAsync()).GetArrayLength().ShouldBe(1);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Delete_RemovesTheDestinationFromEveryKeysDefaults_AndLeavesQueuedDeliveries(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var projectId = await app.Client.ProjectIdAsync();
        var gone = (await app.Client.CreateDestinationAsync("""{"type":"s3","name":"Gone","config":{"bucket":"photos","region":"eu-west-1","access_key_id":"AKIAEXAMPLE","secret_access_key":"s"}}""")).GetProperty("id").GetString()!;
        var stays = (await app.Client.CreateDestinationAsync("""{"type":"s3","name":"Stays","config":{"bucket":"photos","region":"eu-west-1","access_key_id":"AKIAEXAMPLE","secret_access_key":"s"}}""")).GetProperty("id").GetString()!;
        await Manage.DbAsync(app, d => d.ApiKeys.ExecuteUpdateAsync(s => s.SetProperty(k => k.DefaultDestinations, new[] { gone, stays })));
        var session = await app.Client.CreateSessionAsync();
        await Seed.ImageAsync(app, session.GetProperty("uuid").GetString()!, [0xFF, 0xD8, 0xFF, 0xD9]);

        (await app.Client.DeleteAsync($"/api/v1/projects/{projectId}/destinations/{gone}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        var defaults = await Manage.DbAsync(app, d => d.ApiKeys.Select(k => k.DefaultDestinations).ToListAsync());
        defaults.Count.ShouldBe(2);
        defaults.ShouldAllBe(list => list.SequenceEqual(new[] { stays }));
        // The delivery already queued to it stays for the worker to fail as "destination deleted".
        (await Manage.DbAsync(app, d => d.Deliveries.CountAsync(x => x.DestinationId == Guid.Parse(gone)))).ShouldBe(1);
    }
}
