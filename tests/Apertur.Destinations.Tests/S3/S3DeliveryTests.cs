using System.Net;
using System.Net.Sockets;
using Apertur.Destinations.Outbound;
using Apertur.Destinations.S3;
using Apertur.Destinations.Storage;

namespace Apertur.Destinations.Tests.S3;

/// <summary>Images delivered to a real S3-compatible server on loopback (fauxqs) and read back over plain HTTP.</summary>
public sealed class S3DeliveryTests : IDisposable
{
    private static readonly StorageTuning SmallParts = new(6 * StorageTuning.MiB, 5 * StorageTuning.MiB);

    private readonly S3Store _store = new();
    private readonly S3Destination _destination = S3Kit.Destination();

    public void Dispose()
    {
        _store.Dispose();
        _destination.Dispose();
    }

    [Fact]
    public async Task DeliverAsync_SmallImage_StoredByteForByteAtTheDefaultKey()
    {
        var bucket = await _store.NewBucketAsync();
        var bytes = S3Kit.Bytes(70_000);

        var result = await _destination.DeliverAsync(S3Kit.Request(S3Kit.Config(bucket), S3Kit.Image(bytes)), CancellationToken.None);

        var key = $"uploads/{S3Kit.SessionId}/3.jpg";
        result.ShouldBeOfType<DeliveryResult.Delivered>().RemoteRef.ShouldBe($"s3://{bucket}/{key}");
        var stored = (await _store.GetAsync(bucket, key)).ShouldNotBeNull();
        stored.Bytes.ShouldBe(bytes);
        stored.Header("Content-Type").ShouldBe("image/jpeg");
        stored.Header("x-amz-meta-apertur-image-id").ShouldBe(S3Kit.ImageId.ToString());
        (await _store.ListAsync(bucket)).ShouldBe([(key, 70_000L)]);
    }

    [Fact]
    public async Task DeliverAsync_KeyTemplate_RendersDateTagAndIndex()
    {
        var bucket = await _store.NewBucketAsync();
        var config = S3Kit.Config(bucket, extra: new Dictionary<string, object?> { ["key_template"] = "photos/{date:yyyy/MM}/{tag:user}/{image_index}-{name}.{ext}" });

        var result = await _destination.DeliverAsync(S3Kit.Request(config, S3Kit.Image(S3Kit.Bytes(1000), mimeType: "image/webp", filename: "cat.webp")),
            CancellationToken.None);

        result.ShouldBeOfType<DeliveryResult.Delivered>().RemoteRef.ShouldBe($"s3://{bucket}/photos/2026/11/42/3-cat.webp");
        (await _store.ListAsync(bucket)).Select(o => o.Key).ShouldBe(["photos/2026/11/42/3-cat.webp"]);
    }

    [Fact]
    public async Task DeliverAsync_Redelivery_OverwritesTheSameObject()
    {
        var bucket = await _store.NewBucketAsync();
        var config = S3Kit.Config(bucket);
        var bytes = S3Kit.Bytes(50_000, seed: 7);

        (await _destination.DeliverAsync(S3Kit.Request(config, S3Kit.Image(bytes)), CancellationToken.None)).ShouldBeOfType<DeliveryResult.Delivered>();
        (await _destination.DeliverAsync(S3Kit.Request(config, S3Kit.Image(bytes), attempt: 2), CancellationToken.None)).ShouldBeOfType<DeliveryResult.Delivered>();

        var objects = await _store.ListAsync(bucket);
        objects.ShouldHaveSingleItem();
        (await _store.GetAsync(bucket, objects[0].Key))!.Bytes.ShouldBe(bytes);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task DeliverAsync_AboveTheThreshold_MultipartInEqualPartsByteForByte(bool seekable)
    {
        var bucket = await _store.NewBucketAsync();
        using var destination = S3Kit.Destination(tuning: SmallParts);
        var bytes = S3Kit.Bytes(12 * 1024 * 1024 + 12345, seed: 3);

        var result = await destination.DeliverAsync(S3Kit.Request(S3Kit.Config(bucket), S3Kit.Image(bytes, mimeType: "image/png", seekable: seekable)),
            CancellationToken.None);

        result.ShouldBeOfType<DeliveryResult.Delivered>();
        var key = $"uploads/{S3Kit.SessionId}/3.png";
        var stored = (await _store.GetAsync(bucket, key)).ShouldNotBeNull();
        stored.Bytes.AsSpan().SequenceEqual(bytes).ShouldBeTrue();
        stored.Header("Content-Type").ShouldBe("image/png");
        stored.Header("ETag")!.ShouldEndWith("-3\"");
        (await _store.PartSizesAsync(bucket, key)).ShouldBe([5L * 1024 * 1024, 5L * 1024 * 1024, 2L * 1024 * 1024 + 12345]);
    }

    [Fact]
    public async Task DeliverAsync_MultipartRedelivery_LeavesOneObject()
    {
        var bucket = await _store.NewBucketAsync();
        using var destination = S3Kit.Destination(tuning: SmallParts);
        var bytes = S3Kit.Bytes(11 * 1024 * 1024, seed: 4);

        (await destination.DeliverAsync(S3Kit.Request(S3Kit.Config(bucket), S3Kit.Image(bytes)), CancellationToken.None)).ShouldBeOfType<DeliveryResult.Delivered>();
        (await destination.DeliverAsync(S3Kit.Request(S3Kit.Config(bucket), S3Kit.Image(bytes), 2), CancellationToken.None)).ShouldBeOfType<DeliveryResult.Delivered>();

        (await _store.ListAsync(bucket)).ShouldBe([($"uploads/{S3Kit.SessionId}/3.jpg", (long)bytes.Length)]);
    }

    [Fact]
    public async Task DeliverAsync_StoreHasFewerBytesThanRecorded_RetriesLaterAndWritesNothing()
    {
        var bucket = await _store.NewBucketAsync();
        var image = S3Kit.Image(S3Kit.Bytes(1000), sizeBytes: 1500);

        var result = await _destination.DeliverAsync(S3Kit.Request(S3Kit.Config(bucket), image), CancellationToken.None);

        result.ShouldBeOfType<DeliveryResult.RetryLater>().Reason.ShouldContain("1000 bytes in the store, 1500 recorded");
        (await _store.ListAsync(bucket)).ShouldBeEmpty();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task DeliverAsync_MultipartImageLongerThanRecorded_AbortsAndWritesNothing(bool seekable)
    {
        var bucket = await _store.NewBucketAsync();
        using var destination = S3Kit.Destination(tuning: SmallParts);
        var image = S3Kit.Image(S3Kit.Bytes(11 * 1024 * 1024), sizeBytes: 10 * 1024 * 1024, seekable: seekable);

        var result = await destination.DeliverAsync(S3Kit.Request(S3Kit.Config(bucket), image), CancellationToken.None);

        result.ShouldBeOfType<DeliveryResult.RetryLater>().Reason.ShouldContain("bytes in the store");
        (await _store.ListAsync(bucket)).ShouldBeEmpty();
    }

    [Fact]
    public async Task DeliverAsync_MissingBucket_RejectedSayingSo()
    {
        var result = await _destination.DeliverAsync(S3Kit.Request(S3Kit.Config("apertur-no-such-bucket"), S3Kit.Image(S3Kit.Bytes(100))),
            CancellationToken.None);

        var rejected = result.ShouldBeOfType<DeliveryResult.Rejected>();
        rejected.Reason.ShouldStartWith($"Bucket 'apertur-no-such-bucket' does not exist at {S3Store.Endpoint.GetLeftPart(UriPartial.Authority)} (404 NoSuchBucket");
        rejected.StatusCode.ShouldBe(404);
    }

    [Fact]
    public async Task DeliverAsync_ClosedPort_RetriesLaterConnectionRefused()
    {
        var port = ClosedPort();

        var result = await _destination.DeliverAsync(S3Kit.Request(S3Kit.Config("photos", new Uri($"http://127.0.0.1:{port}")), S3Kit.Image(S3Kit.Bytes(100))),
            CancellationToken.None);

        var retry = result.ShouldBeOfType<DeliveryResult.RetryLater>();
        retry.Reason.ShouldBe($"Could not connect to 127.0.0.1:{port} (connection refused)");
        retry.Throttled.ShouldBeFalse();
    }

    [Fact]
    public async Task DeliverAsync_LoopbackNotAllowed_RejectedByTheGuardBeforeConnecting()
    {
        var bucket = await _store.NewBucketAsync();
        using var guarded = S3Kit.Destination(new OutboundGuard());

        var result = await guarded.DeliverAsync(S3Kit.Request(S3Kit.Config(bucket), S3Kit.Image(S3Kit.Bytes(100))), CancellationToken.None);

        var rejected = result.ShouldBeOfType<DeliveryResult.Rejected>();
        rejected.Reason.ShouldStartWith("Refused to connect to 127.0.0.1");
        rejected.Reason.ShouldContain("Apertur:Outbound:AllowedNetworks");
        (await _store.ListAsync(bucket)).ShouldBeEmpty();
    }

    [Fact]
    public async Task DeliverAsync_InvalidConfig_RejectedWithTheProblems()
    {
        var config = System.Text.Json.JsonDocument.Parse("""{"bucket":"B!","access_key_id":"a"}""").RootElement.Clone();

        var result = await _destination.DeliverAsync(S3Kit.Request(config, S3Kit.Image(S3Kit.Bytes(10))), CancellationToken.None);

        var reason = result.ShouldBeOfType<DeliveryResult.Rejected>().Reason;
        reason.ShouldContain("config.bucket 'B!' is not a valid bucket name");
        reason.ShouldContain("config.region is required");
        reason.ShouldContain("config.secret_access_key is required");
    }

    internal static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
