using System.Net;
using System.Text.Json;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.IntegrationTests.Storage;
using Apertur.IntegrationTests.Uploads;
using Apertur.Tests;
using Shouldly;

namespace Apertur.IntegrationTests.Health;

/// <summary>
/// <c>/healthz/ready</c> tells a load balancer whether this replica can take traffic (docs/scale-out.md "Readiness"): 200
/// while the database and the image store work, 503 naming the failing check while one does not, 200 again once it is back.
/// <c>/healthz/live</c> only says the process answers; <c>/healthz</c> answers as it always has.
/// </summary>
public sealed class ReadinessTests
{
    [Theory, ClassData(typeof(Databases))]
    public async Task Ready_DatabaseAndLocalDisk_200WithEveryCheckHealthy_LiveAndHealthzAnswer(string database)
    {
        await using var app = await TestApp.StartAsync(database);
        using var client = app.CreateClient();

        var (status, ready) = await ReadyAsync(client);
        status.ShouldBe(HttpStatusCode.OK, ready.GetRawText());
        ready.GetProperty("status").GetString().ShouldBe("ready");
        CheckOf(ready, "database").ShouldBe("healthy");
        CheckOf(ready, "storage").ShouldBe("healthy");
        app.TempFiles().ShouldBeEmpty();
        Directory.EnumerateFiles(Path.Combine(app.DataDirectory, "images")).ShouldBeEmpty("the probe file is gone");

        using var live = await client.GetAsync("/healthz/live");
        live.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await live.ReadJsonAsync()).GetProperty("status").GetString().ShouldBe("live");
        using var healthz = await client.GetAsync("/healthz");
        (await healthz.Content.ReadAsStringAsync()).ShouldBe("""{"status":"ok"}""");
    }

    [Fact]
    public async Task Ready_BucketGone_503NamingTheStorage_ThenBackTo200()
    {
        using var s3 = new S3Server();
        var bucket = await s3.NewBucketAsync();
        await using var app = await TestApp.StartAsync(Databases.Sqlite, S3ImageStoreTests.S3Settings(bucket));
        using var client = app.CreateClient();
        (await ReadyAsync(client)).Status.ShouldBe(HttpStatusCode.OK);

        await s3.DeleteBucketAsync(bucket);
        var (status, ready) = await ReadyAsync(client);
        status.ShouldBe(HttpStatusCode.ServiceUnavailable, ready.GetRawText());
        ready.GetProperty("status").GetString().ShouldBe("not ready");
        CheckOf(ready, "storage").ShouldBe("unhealthy");
        CheckOf(ready, "database").ShouldBe("healthy");
        app.Output.Text.ShouldContain("Readiness check failed: The image store cannot take images.");

        await s3.CreateBucketAsync(bucket);
        (await ReadyAsync(client)).Status.ShouldBe(HttpStatusCode.OK);
        (await s3.ListAsync(bucket)).ShouldBeEmpty("the probe object is gone");
    }

    [Fact]
    public async Task Ready_PostgresStopped_503NamingTheDatabase_ThenBackTo200()
    {
        await using var cluster = await PrivatePostgres.StartAsync();
        await using var app = await TestApp.StartAsync(Databases.Postgres, postgresAdmin: cluster.AdminConnectionString);
        using var client = app.CreateClient();
        (await ReadyAsync(client)).Status.ShouldBe(HttpStatusCode.OK);

        await cluster.StopServerAsync();
        var (status, ready) = await ReadyAsync(client);
        status.ShouldBe(HttpStatusCode.ServiceUnavailable, ready.GetRawText());
        CheckOf(ready, "database").ShouldBe("unhealthy");
        CheckOf(ready, "storage").ShouldBe("healthy");
        ready.GetRawText().ShouldNotContain(cluster.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), customMessage: "the public answer names no host or port");

        await cluster.StartServerAsync();
        await Wait.UntilAsync(async () => (await ReadyAsync(client)).Status == HttpStatusCode.OK, TimeSpan.FromSeconds(30), "ready again");
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> ReadyAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/healthz/ready");
        response.Headers.CacheControl?.NoStore.ShouldBeTrue();
        return (response.StatusCode, await response.ReadJsonAsync());
    }

    private static string? CheckOf(JsonElement ready, string name) =>
        ready.GetProperty("checks").GetProperty(name).GetProperty("status").GetString();
}
