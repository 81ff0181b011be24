using System.Net;
using System.Text.Json;
using Apertur.IntegrationTests.Deliveries;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.IntegrationTests.Storage;
using Apertur.IntegrationTests.Uploads;
using Apertur.Server.Deliveries;
using Apertur.Tests;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;

namespace Apertur.IntegrationTests.Health;

/// <summary>
/// <c>/healthz/ready</c> tells a load balancer whether this replica can take traffic (docs/operations.md "Health"): 200
/// while the database, the image store and the delivery worker work, 503 naming the failing check while one does not, 200
/// again once it is back; "degraded" (still 200) while the free space is below the minimum. <c>/healthz/live</c> only says
/// the process answers; <c>/healthz</c> answers as it always has.
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
        CheckOf(ready, "delivery").ShouldBe("healthy");
        DescriptionOf(ready, "delivery").ShouldContain("Apertur:Workers:Enabled=false", customMessage: "the tests' servers run no worker: the check says so");
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
        await using var app = await TestApp.StartAsync(Databases.Postgres, DeliveryKit.Settings(), postgresAdmin: cluster.AdminConnectionString);
        using var client = app.CreateClient();
        (await ReadyAsync(client)).Status.ShouldBe(HttpStatusCode.OK);

        await cluster.StopServerAsync();
        var (status, ready) = await ReadyAsync(client);
        status.ShouldBe(HttpStatusCode.ServiceUnavailable, ready.GetRawText());
        ready.GetProperty("status").GetString().ShouldBe("not ready");
        CheckOf(ready, "database").ShouldBe("unhealthy");
        CheckOf(ready, "storage").ShouldBe("healthy");
        CheckOf(ready, "delivery").ShouldBe("healthy", "the worker's loop goes on through the outage, its claims failing");
        ready.GetRawText().ShouldNotContain(cluster.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), customMessage: "the public answer names no host or port");

        await cluster.StartServerAsync();
        await Wait.UntilAsync(async () => (await ReadyAsync(client)).Status == HttpStatusCode.OK, TimeSpan.FromSeconds(30), "ready again");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Ready_FreeSpaceBelowTheMinimum_DegradedStill200_UploadsRefused(string database)
    {
        // More than any disk has: the free space is below the minimum, as on a full disk.
        await using var app = await TestApp.StartAsync(database, new Dictionary<string, string?> { ["Apertur:Storage:MinFreeBytes"] = long.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        using var client = app.CreateClient();

        var (status, ready) = await ReadyAsync(client);
        status.ShouldBe(HttpStatusCode.OK, ready.GetRawText());
        ready.GetProperty("status").GetString().ShouldBe("degraded");
        CheckOf(ready, "storage").ShouldBe("degraded");
        DescriptionOf(ready, "storage").ShouldContain("Apertur:Storage:MinFreeBytes");
        CheckOf(ready, "database").ShouldBe("healthy");

        var sessionId = (await app.Client.CreateSessionAsync()).SessionId();
        using var upload = await client.UploadAsync(sessionId, Fixture.Bytes("small.jpg"), "small.jpg");
        ((int)upload.StatusCode).ShouldBe(507, "what the degraded check announces");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Ready_DeliveryWorkerStopped_503NamingTheDelivery(string database)
    {
        await using var app = await DeliveryKit.StartAsync(database);
        using var client = app.CreateClient();
        var (before, healthy) = await ReadyAsync(client);
        before.ShouldBe(HttpStatusCode.OK, healthy.GetRawText());
        CheckOf(healthy, "delivery").ShouldBe("healthy");

        await app.Services.GetRequiredService<DeliveryWorker>().StopAsync(CancellationToken.None);

        var (status, ready) = await ReadyAsync(client);
        status.ShouldBe(HttpStatusCode.ServiceUnavailable, ready.GetRawText());
        CheckOf(ready, "delivery").ShouldBe("unhealthy");
        DescriptionOf(ready, "delivery").ShouldBe("The delivery worker has stopped.");
        CheckOf(ready, "database").ShouldBe("healthy");
        app.Output.Text.ShouldContain("Readiness check failed: The delivery worker has stopped.");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Ready_DeliveryWorkerStuck_503WhileADeliveryWaits_ThenBackTo200(string database)
    {
        // One slot, taken by an attempt that does not return (the receiver holds it), so the loop stops looking for work.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var receiver = await TestReceiver.StartAsync();
        receiver.Respond = async (context, _) =>
        {
            await release.Task;
            await context.Response.WriteAsync("ok");
        };
        var clock = new ManualClock();
        await using var app = await DeliveryKit.StartAsync(database, clock, new Dictionary<string, string?>
        {
            ["Apertur:Delivery:Concurrency"] = "1",
            ["Apertur:Delivery:AttemptTimeout"] = "00:10:00",
            ["Apertur:Delivery:Lease"] = "00:20:00",
        });
        try
        {
            using var client = app.CreateClient();
            var sessionId = await DeliveryKit.SessionAsync(app, await DeliveryKit.WebhookAsync(app, receiver.Url()));
            await DeliveryKit.UploadAsync(app, sessionId);
            await receiver.WaitForAsync(1);
            var waiting = await DeliveryKit.UploadAsync(app, sessionId);
            (await ReadyAsync(client)).Status.ShouldBe(HttpStatusCode.OK, "quiet for less than a lease and a poll interval");

            clock.Advance(TimeSpan.FromMinutes(30));
            var (status, ready) = await ReadyAsync(client);
            status.ShouldBe(HttpStatusCode.ServiceUnavailable, ready.GetRawText());
            CheckOf(ready, "delivery").ShouldBe("unhealthy");
            DescriptionOf(ready, "delivery").ShouldBe(
                "The delivery worker is stuck: it has not looked for due deliveries for 30 min, and a delivery has been due for 30 min.");
            (await DeliveryKit.DeliveryOfAsync(app, waiting)).Status.ShouldBe(DeliveryStatus.Pending);

            release.SetResult();
            await DeliveryKit.WaitForStatusAsync(app, waiting, DeliveryStatus.Sent);
            var (after, again) = await ReadyAsync(client);
            after.ShouldBe(HttpStatusCode.OK, again.GetRawText());
            CheckOf(again, "delivery").ShouldBe("healthy");
        }
        finally
        {
            release.TrySetResult();
        }
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> ReadyAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/healthz/ready");
        response.Headers.CacheControl?.NoStore.ShouldBeTrue();
        return (response.StatusCode, await response.ReadJsonAsync());
    }

    private static string DescriptionOf(JsonElement ready, string name) =>
        ready.GetProperty("checks").GetProperty(name).GetProperty("description").GetString()!;

    private static string? CheckOf(JsonElement ready, string name) =>
        ready.GetProperty("checks").GetProperty(name).GetProperty("status").GetString();
}
