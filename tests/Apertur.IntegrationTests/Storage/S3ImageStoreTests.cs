using System.Net;
using Apertur.IntegrationTests.Deliveries;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.IntegrationTests.Uploads;
using Apertur.Server.Deliveries;
using Apertur.Server.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Apertur.Tests;
using Shouldly;

namespace Apertur.IntegrationTests.Storage;

/// <summary>
/// The image store on S3 (docs/deploy.md "Image store on S3") against fauxqs: uploads land in the bucket byte for byte
/// (one PUT, or parts for a large image), downloads and deliveries read them back, and a bucket that cannot be used stops
/// the real process with one line.
/// </summary>
public sealed class S3ImageStoreTests
{
    public static Dictionary<string, string?> S3Settings(string bucket, string? prefix = null, IDictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Apertur:Storage:Kind"] = "s3",
            ["Apertur:Storage:S3:ServiceUrl"] = S3Server.Endpoint.AbsoluteUri,
            ["Apertur:Storage:S3:Bucket"] = bucket,
            ["Apertur:Storage:S3:Region"] = "eu-west-1",
            ["Apertur:Storage:S3:AccessKeyId"] = "AKIAAPERTURSTORE",
            ["Apertur:Storage:S3:SecretAccessKey"] = "store-secret-access-key",
            ["Apertur:Storage:S3:ForcePathStyle"] = "true",
            ["Apertur:Storage:S3:Prefix"] = prefix,
        };
        foreach (var (k, v) in extra ?? new Dictionary<string, string?>())
        {
            settings[k] = v;
        }
        return settings;
    }

    /// <summary>A JPEG fixture followed by filler: a valid image of about <paramref name="size"/> bytes.</summary>
    public static byte[] LargeJpeg(int size)
    {
        var head = Fixture.Bytes("phone-photo.jpg");
        var bytes = new byte[size];
        head.CopyTo(bytes, 0);
        new Random(16).NextBytes(bytes.AsSpan(head.Length));
        return bytes;
    }

    [Fact]
    public async Task ListAsync_S3Store_PagesInKeyOrderWithTimes_ExistingByRange()
    {
        using var s3 = new S3Server();
        var bucket = await s3.NewBucketAsync();
        var dataDirectory = Path.Combine(Path.GetTempPath(), "apertur-s3-list-" + Guid.NewGuid().ToString("N"));
        var settings = S3Settings(bucket, prefix: "site-a/");
        using var store = new S3ImageStore(new S3StorageOptions
        {
            ServiceUrl = settings["Apertur:Storage:S3:ServiceUrl"],
            Bucket = bucket,
            Region = settings["Apertur:Storage:S3:Region"],
            AccessKeyId = settings["Apertur:Storage:S3:AccessKeyId"],
            SecretAccessKey = settings["Apertur:Storage:S3:SecretAccessKey"],
            ForcePathStyle = true,
            Prefix = "site-a/",
        }, dataDirectory, TimeProvider.System, NullLogger.Instance);
        try
        {
            var before = TimeProvider.System.GetUtcNow().AddMinutes(-5);
            var ids = new List<Guid>();
            for (var i = 0; i < 5; i++)
            {
                ids.Add(await LocalDiskImageStoreTests.PutAsync(store, [(byte)i]));
            }

            var listed = await LocalDiskImageStoreTests.ListInPagesOfTwoAsync(store);

            listed.Select(i => i.Key).ShouldBe(ids.Select(id => $"site-a/images/{id:N}").Order(StringComparer.Ordinal));
            listed.ShouldAllBe(i => i.WrittenAt > before && i.WrittenAt < before.AddHours(1));
            var sorted = ids.Order().ToList();
            var unknown = Guid.NewGuid();
            (await store.ExistingAsync([sorted[1], sorted[3], unknown], CancellationToken.None)).ShouldBe([sorted[1], sorted[3]], ignoreOrder: true);
            (await store.ExistingAsync([sorted[0]], CancellationToken.None)).ShouldBe([sorted[0]], ignoreOrder: false, "a range of one key");
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Upload_S3Store_ObjectInTheBucketByteForByteAndDownloadedEqual(string database)
    {
        using var s3 = new S3Server();
        var bucket = await s3.NewBucketAsync();
        await using var app = await TestApp.StartAsync(database, S3Settings(bucket, prefix: "site-a/"));
        var session = (await app.Client.CreateSessionAsync("""{"max_image_size_mb":20}""")).SessionId();
        using var anonymous = app.CreateClient();

        var large = LargeJpeg(12 * 1024 * 1024 + 1234);
        foreach (var (name, bytes) in new[] { ("small.jpg", Fixture.Bytes("small.jpg")), ("large.jpg", large) })
        {
            using var response = await anonymous.UploadAsync(session, bytes, name);
            response.StatusCode.ShouldBe(HttpStatusCode.Created, name);
            var id = Guid.Parse((await response.ReadJsonAsync()).GetProperty("id").GetString()!);

            (await s3.GetAsync(bucket, $"site-a/images/{id:N}")).ShouldBe(bytes, name);
            using var download = await app.Client.GetAsync($"/api/v1/uploads/{id}/download");
            download.StatusCode.ShouldBe(HttpStatusCode.OK, name);
            (await download.Content.ReadAsByteArrayAsync()).ShouldBe(bytes, name);
        }
        (await s3.ListAsync(bucket)).Count.ShouldBe(2);
        app.TempFiles().ShouldBeEmpty();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Upload_S3StoreBucketGone_Answers503WithRetryAfterAndNoImage(string database)
    {
        using var s3 = new S3Server();
        var bucket = await s3.NewBucketAsync();
        await using var app = await TestApp.StartAsync(database, S3Settings(bucket));
        var session = (await app.Client.CreateSessionAsync("{}")).SessionId();
        using var anonymous = app.CreateClient();
        await s3.DeleteBucketAsync(bucket);

        using var response = await anonymous.UploadAsync(session, Fixture.Bytes("small.jpg"));

        response.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
        response.Headers.RetryAfter.ShouldNotBeNull();
        (await response.ReadErrorCodeAsync()).ShouldBe("STORAGE_UNAVAILABLE");
        (await Manage.DbAsync(app, db => Task.FromResult(db.Images.Count()))).ShouldBe(0);
        app.TempFiles().ShouldBeEmpty();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Delivery_FromTheS3Store_ReceiverGetsTheSameBytes(string database)
    {
        using var s3 = new S3Server();
        var bucket = await s3.NewBucketAsync();
        await using var receiver = await TestReceiver.StartAsync();
        await using var app = await TestApp.StartAsync(database, DeliveryKit.Settings(S3Settings(bucket)));
        var destination = await DeliveryKit.WebhookAsync(app, receiver.Url(), format: "binary");
        var sessionId = await DeliveryKit.SessionAsync(app, destination);

        var imageId = await DeliveryKit.UploadAsync(app, sessionId, "phone-photo.jpg");

        await DeliveryKit.WaitForStatusAsync(app, imageId, DeliveryStatus.Sent);
        (await receiver.WaitForAsync(1)).Single().Body.ShouldBe(Fixture.Bytes("phone-photo.jpg"));
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Start_LocalStore_WarnsOnPostgreSqlOnlyThatReplicasNeedS3(string database)
    {
        await using var app = await TestApp.StartAsync(database);

        var warned = app.Output.Text.Contains("Apertur:Storage:Kind=s3", StringComparison.Ordinal);

        warned.ShouldBe(database == Databases.Postgres, app.Output.Text);
    }

    [Fact]
    public async Task Start_MissingBucket_ExitsOneWithOneLineNamingTheBucket()
    {
        var bucket = "apertur-missing-" + Guid.NewGuid().ToString("N")[..12];

        var (exit, stdout, stderr) = await ServerProcess.RunToExitAsync(["--urls", "http://127.0.0.1:0"], ServerProcess.AsEnvironment(S3Settings(bucket)));

        exit.ShouldBe(1);
        var line = ServerProcess.RefusalLine(stdout, stderr);
        line.ShouldContain($"\"{bucket}\"");
        line.ShouldContain(S3Server.Endpoint.AbsoluteUri.TrimEnd('/'));
        line.ShouldContain("Apertur:Storage:S3:Bucket");
    }

    [Fact]
    public async Task Start_UnreachableEndpoint_ExitsOneWithOneLineNamingTheBucketAndEndpoint()
    {
        var port = Loopback.FreePort();
        var settings = S3Settings("apertur-photos");
        settings["Apertur:Storage:S3:ServiceUrl"] = $"http://127.0.0.1:{port}";

        var (exit, stdout, stderr) = await ServerProcess.RunToExitAsync(["--urls", "http://127.0.0.1:0"], ServerProcess.AsEnvironment(settings));

        exit.ShouldBe(1);
        var line = ServerProcess.RefusalLine(stdout, stderr);
        line.ShouldContain("\"apertur-photos\"");
        line.ShouldContain($"127.0.0.1:{port}");
    }
}
