using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Apertur.IntegrationTests.Deliveries;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.IntegrationTests.Uploads;
using Apertur.Server.Delivery;
using Apertur.Tests;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;

namespace Apertur.IntegrationTests.Destinations;

/// <summary>
/// S3 and Azure Blob destinations end to end: a destination created through the API, a session, the sample photos uploaded
/// through the public endpoint, delivered by the worker to the real server on loopback (fauxqs, Azurite), and every file
/// read back with plain HTTP (not the adapter's client) at the templated path, byte for byte.
/// </summary>
public sealed class StorageDestinationTests
{
    private static async Task<List<(Guid ImageId, int Index, string Fixture, string Ext)>> UploadSamplesAsync(TestApp app, string sessionId)
    {
        using var anonymous = app.CreateClient();
        var uploaded = new List<(Guid, int, string, string)>();
        foreach (var (fixture, ext) in SamplePhotos.All)
        {
            var answer = await anonymous.UploadOkAsync(sessionId, fixture);
            uploaded.Add((Guid.Parse(answer.GetProperty("id").GetString()!), answer.GetProperty("image_index").GetInt32(), fixture, ext));
        }
        return uploaded;
    }

    /// <summary>What a lost lease or a crash after the upload but before the record leads to: the worker delivers it again.</summary>
    private static async Task RedeliverAsync(TestApp app, Guid imageId)
    {
        var now = app.Services.GetRequiredService<TimeProvider>().GetUtcNow();
        await Manage.DbAsync(app, db => db.Deliveries.Where(d => d.ImageId == imageId)
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.Status, DeliveryStatus.Pending).SetProperty(d => d.NextAttemptAt, now)));
        DeliveryKit.Nudge(app);
        await DeliveryKit.WaitForAttemptsAsync(app, imageId, 2);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task S3_SamplePhotos_DeliveredAndReadBackByteForByteAtTheDefaultKeys(string database)
    {
        using var s3 = new S3Server();
        var bucket = await s3.NewBucketAsync();
        await using var app = await DeliveryKit.StartAsync(database);
        var destination = await app.Client.CreateDestinationAsync($$$"""{"type":"s3","name":"Archive","config":{{{S3Server.Config(bucket)}}}}""");
        var sessionId = await DeliveryKit.SessionAsync(app, Guid.Parse(destination.GetProperty("id").GetString()!));

        var uploads = await UploadSamplesAsync(app, sessionId);

        var keys = new List<string>();
        foreach (var (imageId, index, fixture, ext) in uploads)
        {
            var delivery = await DeliveryKit.WaitForStatusAsync(app, imageId, DeliveryStatus.Sent);
            var key = $"uploads/{sessionId}/{index}.{ext}";
            delivery.RemoteRef.ShouldBe($"s3://{bucket}/{key}");
            delivery.Attempts.ShouldBe(1);
            (await s3.GetAsync(bucket, key)).ShouldBe(Fixture.Bytes(fixture), key);
            keys.Add(key);
        }
        (await s3.ListAsync(bucket)).ShouldBe(keys.Order(StringComparer.Ordinal).ToList());

        await RedeliverAsync(app, uploads[0].ImageId);
        (await DeliveryKit.DeliveryOfAsync(app, uploads[0].ImageId)).Status.ShouldBe(DeliveryStatus.Sent);
        (await s3.ListAsync(bucket)).ShouldBe(keys.Order(StringComparer.Ordinal).ToList());
        (await s3.GetAsync(bucket, keys[0])).ShouldBe(Fixture.Bytes(uploads[0].Fixture));
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task AzureBlob_SamplePhotos_DeliveredAndReadBackByteForByteAtTheTemplatedNames(string database)
    {
        using var azurite = new AzuriteServer();
        var container = await azurite.NewContainerAsync();
        await using var app = await DeliveryKit.StartAsync(database);
        var config = AzuriteServer.Config(container, blobTemplate: "{tag:user}/{session_id}/{image_index}-{name}.{ext}");
        var destination = await app.Client.CreateDestinationAsync($$$"""{"type":"azure_blob","name":"Blobs","config":{{{config}}}}""");
        destination.GetProperty("config").GetProperty("account_key").GetString().ShouldBe("********");
        var sessionId = await DeliveryKit.SessionAsync(app, Guid.Parse(destination.GetProperty("id").GetString()!));

        var uploads = await UploadSamplesAsync(app, sessionId);

        var names = new List<string>();
        foreach (var (imageId, index, fixture, ext) in uploads)
        {
            var delivery = await DeliveryKit.WaitForStatusAsync(app, imageId, DeliveryStatus.Sent);
            // Session tags are user:42 and vip; {name} is the upload's file name without its extension.
            var name = $"42/{sessionId}/{index}-{Path.GetFileNameWithoutExtension(fixture)}.{ext}";
            delivery.RemoteRef.ShouldBe($"{AzuriteServer.Endpoint.AbsoluteUri.TrimEnd('/')}/{container}/{name}");
            (await azurite.GetAsync(container, name)).ShouldBe(Fixture.Bytes(fixture), name);
            names.Add(name);
        }
        (await azurite.ListAsync(container)).ShouldBe(names.Order(StringComparer.Ordinal).ToList());

        await RedeliverAsync(app, uploads[1].ImageId);
        (await DeliveryKit.DeliveryOfAsync(app, uploads[1].ImageId)).Status.ShouldBe(DeliveryStatus.Sent);
        (await azurite.ListAsync(container)).ShouldBe(names.Order(StringComparer.Ordinal).ToList());
        (await azurite.GetAsync(container, names[1])).ShouldBe(Fixture.Bytes(uploads[1].Fixture));
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task AzureBlob_WrongKey_FailsForGoodWithTheReasonInTheDeliveryLog(string database)
    {
        using var azurite = new AzuriteServer();
        var container = await azurite.NewContainerAsync();
        await using var app = await DeliveryKit.StartAsync(database);
        var wrongKey = Convert.ToBase64String(new byte[64]);
        var destination = await app.Client.CreateDestinationAsync(
            $$$"""{"type":"azure_blob","name":"Blobs","config":{{{AzuriteServer.Config(container, key: wrongKey)}}}}""");
        var sessionId = await DeliveryKit.SessionAsync(app, Guid.Parse(destination.GetProperty("id").GetString()!));

        var imageId = await DeliveryKit.UploadAsync(app, sessionId);

        var delivery = await DeliveryKit.WaitForStatusAsync(app, imageId, DeliveryStatus.Failed);
        delivery.Attempts.ShouldBe(1);
        delivery.LastStatusCode.ShouldBe(403);
        delivery.LastError!.ShouldContain("refused the credentials");
        delivery.LastError!.ShouldContain("check account_key and account_name");
        (await azurite.ListAsync(container)).ShouldBeEmpty();
    }

    [Fact]
    public async Task LargePhoto_AboveTheSinglePutLimit_GoesInPartsToS3AndInBlocksToAzure()
    {
        // The database plays no part here: SQLite only. A 12 MB JPEG (a real photo padded after its end marker) is over the
        // 8 MiB single-request limit: S3 gets a multipart upload of 8 + 4 MiB, Azure two blocks and a block list.
        using var s3 = new S3Server();
        using var azurite = new AzuriteServer();
        var bucket = await s3.NewBucketAsync();
        var container = await azurite.NewContainerAsync();
        await using var app = await DeliveryKit.StartAsync(Databases.Sqlite);
        var bucketDestination = await app.Client.CreateDestinationAsync($$$"""{"type":"s3","name":"Archive","config":{{{S3Server.Config(bucket)}}}}""");
        var blobDestination = await app.Client.CreateDestinationAsync($$$"""{"type":"azure_blob","name":"Blobs","config":{{{AzuriteServer.Config(container)}}}}""");
        var sessionId = await DeliveryKit.SessionAsync(app,
            Guid.Parse(bucketDestination.GetProperty("id").GetString()!), Guid.Parse(blobDestination.GetProperty("id").GetString()!));
        var photo = Fixture.Bytes("phone-photo.jpg");
        var padding = new byte[12 * 1024 * 1024 - photo.Length];
        new Random(12).NextBytes(padding);
        byte[] large = [.. photo, .. padding];

        using var anonymous = app.CreateClient();
        using var response = await anonymous.UploadAsync(sessionId, large, "large.jpg");
        response.StatusCode.ShouldBe(HttpStatusCode.Created);
        var answer = await response.ReadJsonAsync();
        var imageId = Guid.Parse(answer.GetProperty("id").GetString()!);
        var index = answer.GetProperty("image_index").GetInt32();

        await Wait.UntilAsync(async () => (await Manage.DbAsync(app, db => db.Deliveries.Where(d => d.ImageId == imageId).Select(d => d.Status).ToListAsync()))
            .All(s => s == DeliveryStatus.Sent), what: "both deliveries sent");
        var name = $"uploads/{sessionId}/{index}.jpg";
        (await s3.GetAsync(bucket, name))!.AsSpan().SequenceEqual(large).ShouldBeTrue();
        (await azurite.GetAsync(container, name))!.AsSpan().SequenceEqual(large).ShouldBeTrue();
    }

    private static async Task<JsonElement> ConnectionTestAsync(TestApp app, string type, string config)
    {
        var destination = await app.Client.CreateDestinationAsync($$$"""{"type":"{{{type}}}","name":"Under test","config":{{{config}}}}""");
        var projectId = await app.Client.ProjectIdAsync();
        using var response = await app.Client.PostAsync($"/api/v1/projects/{projectId}/destinations/{destination.GetProperty("id").GetString()}/test", null);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return await response.ReadJsonAsync();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task S3_ConnectionTest_GoodMissingBucketAndUnreachable(string database)
    {
        using var s3 = new S3Server();
        var bucket = await s3.NewBucketAsync();
        await using var app = await TestApp.StartAsync(database);

        var good = await ConnectionTestAsync(app, "s3", S3Server.Config(bucket));
        good.GetProperty("success").GetBoolean().ShouldBeTrue(good.GetRawText());
        good.GetProperty("status").GetInt32().ShouldBe(200);
        good.GetProperty("message").GetString().ShouldBe(
            $"Wrote and deleted a test object at s3://{bucket}/uploads/.apertur-connection-test ({S3Server.Endpoint.GetLeftPart(UriPartial.Authority)})");
        (await s3.ListAsync(bucket)).ShouldBeEmpty();

        var missing = await ConnectionTestAsync(app, "s3", S3Server.Config("apertur-e2e-missing"));
        missing.GetProperty("success").GetBoolean().ShouldBeFalse();
        missing.GetProperty("status").GetInt32().ShouldBe(404);
        missing.GetProperty("message").GetString()!.ShouldStartWith("Bucket 'apertur-e2e-missing' does not exist at");
        missing.GetProperty("error").GetString().ShouldBe(missing.GetProperty("message").GetString());

        var port = ClosedPort();
        var unreachable = await ConnectionTestAsync(app, "s3", S3Server.Config(bucket).Replace(S3Server.Endpoint.AbsoluteUri, $"http://127.0.0.1:{port}/", StringComparison.Ordinal));
        unreachable.GetProperty("success").GetBoolean().ShouldBeFalse();
        unreachable.GetProperty("message").GetString().ShouldBe($"Could not connect to 127.0.0.1:{port} (connection refused)");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task AzureBlob_ConnectionTest_GoodWrongKeyMissingContainerAndUnreachable(string database)
    {
        using var azurite = new AzuriteServer();
        var container = await azurite.NewContainerAsync();
        await using var app = await TestApp.StartAsync(database);
        var endpoint = AzuriteServer.Endpoint.AbsoluteUri.TrimEnd('/');

        var good = await ConnectionTestAsync(app, "azure_blob", AzuriteServer.Config(container));
        good.GetProperty("success").GetBoolean().ShouldBeTrue(good.GetRawText());
        good.GetProperty("status").GetInt32().ShouldBe(201);
        good.GetProperty("message").GetString().ShouldBe($"Wrote and deleted a test blob at {endpoint}/{container}/uploads/.apertur-connection-test");
        (await azurite.ListAsync(container)).ShouldBeEmpty();

        var wrongKey = await ConnectionTestAsync(app, "azure_blob", AzuriteServer.Config(container, key: Convert.ToBase64String(new byte[64])));
        wrongKey.GetProperty("success").GetBoolean().ShouldBeFalse();
        wrongKey.GetProperty("status").GetInt32().ShouldBe(403);
        wrongKey.GetProperty("message").GetString()!.ShouldStartWith($"{endpoint} refused the credentials (403");

        var missing = await ConnectionTestAsync(app, "azure_blob", AzuriteServer.Config("apertur-e2e-missing"));
        missing.GetProperty("success").GetBoolean().ShouldBeFalse();
        missing.GetProperty("status").GetInt32().ShouldBe(404);
        missing.GetProperty("message").GetString()!.ShouldStartWith($"Container 'apertur-e2e-missing' does not exist in account 'devstoreaccount1' at {endpoint}");

        var port = ClosedPort();
        var unreachable = await ConnectionTestAsync(app, "azure_blob", AzuriteServer.Config(container, endpoint: $"http://127.0.0.1:{port}/devstoreaccount1"));
        unreachable.GetProperty("success").GetBoolean().ShouldBeFalse();
        unreachable.GetProperty("message").GetString().ShouldBe($"Could not connect to 127.0.0.1:{port} (connection refused)");
    }

    private static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
