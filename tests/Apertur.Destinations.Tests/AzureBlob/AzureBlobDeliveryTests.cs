using System.Security.Cryptography;
using Apertur.Destinations.Outbound;
using Apertur.Destinations.Storage;
using Apertur.Destinations.Tests.S3;
using Apertur.Tests;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;

namespace Apertur.Destinations.Tests.AzureBlob;

/// <summary>Images delivered to a real Blob service on loopback (Azurite, which verifies signatures) and read back anonymously.</summary>
public sealed class AzureBlobDeliveryTests : IDisposable
{
    private static readonly StorageTuning SmallBlocks = new(1024 * 1024, 1024 * 1024);

    private readonly Azurite _azurite = new();
    private readonly HttpClient _http = BlobKit.GuardedClient();

    public void Dispose()
    {
        _azurite.Dispose();
        _http.Dispose();
    }

    private Task<DeliveryResult> DeliverAsync(System.Text.Json.JsonElement config, DeliveryImage image, StorageTuning? tuning = null, int attempt = 1) =>
        BlobKit.Destination(_http, tuning: tuning).DeliverAsync(BlobKit.Request(config, image, attempt), CancellationToken.None);

    [Fact]
    public async Task DeliverAsync_AccountKey_StoredByteForByteAtTheDefaultName()
    {
        var container = await _azurite.NewContainerAsync();
        var bytes = BlobKit.Bytes(70_000);

        var result = await DeliverAsync(BlobKit.Config(container), BlobKit.Image(bytes));

        var name = $"uploads/{BlobKit.SessionId}/3.jpg";
        var delivered = result.ShouldBeOfType<DeliveryResult.Delivered>();
        delivered.RemoteRef.ShouldBe(Azurite.BlobUrl(container, name));
        delivered.StatusCode.ShouldBe(201);
        var stored = (await _azurite.GetAsync(container, name)).ShouldNotBeNull();
        stored.Bytes.ShouldBe(bytes);
        stored.Header("Content-Type").ShouldBe("image/jpeg");
        stored.Header("x-ms-blob-type").ShouldBe("BlockBlob");
        stored.Header("x-ms-meta-apertur_image_id").ShouldBe(BlobKit.ImageId.ToString());
        (await _azurite.ListAsync(container)).ShouldBe([(name, 70_000L)]);
    }

    [Fact]
    public async Task DeliverAsync_SasToken_StoredByteForByte()
    {
        var container = await _azurite.NewContainerAsync();
        var sas = Azurite.ContainerSas(container, "cw", TimeProvider.System.GetUtcNow().AddHours(1));
        var bytes = BlobKit.Bytes(5000, seed: 2);

        var result = await DeliverAsync(BlobKit.Config(container, new Dictionary<string, object?> { ["sas_token"] = "?" + sas }, accountKey: false),
            BlobKit.Image(bytes, mimeType: "image/webp"));

        result.ShouldBeOfType<DeliveryResult.Delivered>();
        var stored = (await _azurite.GetAsync(container, $"uploads/{BlobKit.SessionId}/3.webp")).ShouldNotBeNull();
        stored.Bytes.ShouldBe(bytes);
        stored.Header("Content-Type").ShouldBe("image/webp");
    }

    [Fact]
    public async Task DeliverAsync_ConnectionString_GivesAccountKeyAndEndpoint()
    {
        var container = await _azurite.NewContainerAsync();
        var config = System.Text.Json.JsonSerializer.SerializeToElement(new Dictionary<string, string>
        {
            ["container_name"] = container,
            ["connection_string"] = Azurite.ConnectionString,
        });
        var bytes = BlobKit.Bytes(3000, seed: 3);

        (await DeliverAsync(config, BlobKit.Image(bytes))).ShouldBeOfType<DeliveryResult.Delivered>();

        (await _azurite.GetAsync(container, $"uploads/{BlobKit.SessionId}/3.jpg"))!.Bytes.ShouldBe(bytes);
    }

    [Fact]
    public async Task DeliverAsync_NameWithSpacesAndAccents_SignedAndStoredUnderThatName()
    {
        var container = await _azurite.NewContainerAsync();
        var config = BlobKit.Config(container, new Dictionary<string, object?> { ["blob_template"] = "{label}/{date:yyyy-MM-dd}/{filename}" });
        var bytes = BlobKit.Bytes(2000, seed: 4);

        var result = await DeliverAsync(config, BlobKit.Image(bytes, filename: "Été à la plage #1 (copy)+.jpg"));

        result.ShouldBeOfType<DeliveryResult.Delivered>();
        const string name = "Front desk/2026-11-01/Été à la plage #1 (copy)+.jpg";
        (await _azurite.ListAsync(container)).Select(b => b.Name).ShouldBe([name]);
        (await _azurite.GetAsync(container, name))!.Bytes.ShouldBe(bytes);
    }

    [Fact]
    public async Task DeliverAsync_AboveTheLimit_BlocksOfEqualSizeInOrder()
    {
        var container = await _azurite.NewContainerAsync();
        var bytes = BlobKit.Bytes(3 * 1024 * 1024 + 777, seed: 5);

        var result = await DeliverAsync(BlobKit.Config(container), BlobKit.Image(bytes, mimeType: "image/heic"), SmallBlocks);

        result.ShouldBeOfType<DeliveryResult.Delivered>();
        var name = $"uploads/{BlobKit.SessionId}/3.heic";
        var stored = (await _azurite.GetAsync(container, name)).ShouldNotBeNull();
        stored.Bytes.AsSpan().SequenceEqual(bytes).ShouldBeTrue();
        stored.Header("Content-Type").ShouldBe("image/heic");
        stored.Header("x-ms-meta-apertur_session_id").ShouldBe(BlobKit.SessionId.ToString());
        var blocks = await _azurite.BlocksAsync(container, name);
        blocks.Select(b => b.Size).ShouldBe([1024L * 1024, 1024L * 1024, 1024L * 1024, 777L]);
        blocks.Select(b => b.Id).Distinct().Count().ShouldBe(4);
    }

    [Theory]
    [InlineData(10_000)]
    [InlineData(2 * 1024 * 1024 + 5)]
    public async Task DeliverAsync_Redelivery_SameBlobNotASecondOne(int size)
    {
        var container = await _azurite.NewContainerAsync();
        var bytes = BlobKit.Bytes(size, seed: 6);

        (await DeliverAsync(BlobKit.Config(container), BlobKit.Image(bytes), SmallBlocks)).ShouldBeOfType<DeliveryResult.Delivered>();
        (await DeliverAsync(BlobKit.Config(container), BlobKit.Image(bytes), SmallBlocks, attempt: 2)).ShouldBeOfType<DeliveryResult.Delivered>();

        var name = $"uploads/{BlobKit.SessionId}/3.jpg";
        (await _azurite.ListAsync(container)).ShouldBe([(name, (long)size)]);
        (await _azurite.GetAsync(container, name))!.Bytes.AsSpan().SequenceEqual(bytes).ShouldBeTrue();
    }

    [Fact]
    public async Task DeliverAsync_WrongAccountKey_RejectedByAzuriteAndNothingWritten()
    {
        var container = await _azurite.NewContainerAsync(publicRead: false);
        var wrongKey = Convert.ToBase64String(BlobKit.Bytes(64, seed: 99));

        var result = await DeliverAsync(BlobKit.Config(container, new Dictionary<string, object?> { ["account_key"] = wrongKey }), BlobKit.Image(BlobKit.Bytes(100)));

        var rejected = result.ShouldBeOfType<DeliveryResult.Rejected>();
        rejected.StatusCode.ShouldBe(403);
        // Azure answers AuthenticationFailed; Azurite AuthorizationFailure with Azure's message.
        rejected.Reason.ShouldStartWith($"{Azurite.Endpoint.AbsoluteUri.TrimEnd('/')} refused the credentials (403 AuthorizationFailure: Server failed to authenticate");
        rejected.Reason.ShouldEndWith("check account_key and account_name");
        (await _azurite.ListAsync(container)).ShouldBeEmpty();
    }

    [Fact]
    public async Task DeliverAsync_SasSignedWithAnotherKey_RejectedByAzurite()
    {
        var container = await _azurite.NewContainerAsync(publicRead: false);
        var forged = Azurite.ContainerSas(container, "cw", TimeProvider.System.GetUtcNow().AddHours(1), Convert.ToBase64String(BlobKit.Bytes(64, seed: 98)));

        var result = await DeliverAsync(BlobKit.Config(container, new Dictionary<string, object?> { ["sas_token"] = forged }, accountKey: false),
            BlobKit.Image(BlobKit.Bytes(100)));

        var rejected = result.ShouldBeOfType<DeliveryResult.Rejected>();
        rejected.StatusCode.ShouldBe(403);
        rejected.Reason.ShouldContain("refused the credentials (403 AuthorizationFailure: Server failed to authenticate");
        rejected.Reason.ShouldEndWith("check the SAS token (its signature, account, start and expiry)");
        (await _azurite.ListAsync(container)).ShouldBeEmpty();
    }

    [Fact]
    public async Task DeliverAsync_ExpiredSas_RejectedWithoutSending()
    {
        var container = await _azurite.NewContainerAsync();
        var expired = Azurite.ContainerSas(container, "cw", new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero));

        var result = await DeliverAsync(BlobKit.Config(container, new Dictionary<string, object?> { ["sas_token"] = expired }, accountKey: false),
            BlobKit.Image(BlobKit.Bytes(100)));

        result.ShouldBeOfType<DeliveryResult.Rejected>().Reason
            .ShouldBe("The SAS token expired at 2025-01-02 03:04:05 UTC: generate a new one and save it in the destination");
    }

    [Fact]
    public async Task DeliverAsync_MissingContainer_RejectedSayingSo()
    {
        var result = await DeliverAsync(BlobKit.Config("apertur-no-such-container"), BlobKit.Image(BlobKit.Bytes(100)));

        var rejected = result.ShouldBeOfType<DeliveryResult.Rejected>();
        rejected.StatusCode.ShouldBe(404);
        rejected.Reason.ShouldStartWith(
            $"Container 'apertur-no-such-container' does not exist in account 'devstoreaccount1' at {Azurite.Endpoint.AbsoluteUri.TrimEnd('/')} (404 ContainerNotFound");
    }

    [Fact]
    public async Task DeliverAsync_ClosedPort_RetriesLaterConnectionRefused()
    {
        var port = S3DeliveryTests.ClosedPort();
        var config = BlobKit.Config("photos", new Dictionary<string, object?> { ["endpoint"] = $"http://127.0.0.1:{port}/devstoreaccount1" });

        var result = await DeliverAsync(config, BlobKit.Image(BlobKit.Bytes(100)));

        result.ShouldBeOfType<DeliveryResult.RetryLater>().Reason.ShouldBe($"Could not connect to 127.0.0.1:{port} (connection refused)");
    }

    [Fact]
    public async Task DeliverAsync_LoopbackNotAllowed_RejectedByTheGuard()
    {
        var container = await _azurite.NewContainerAsync();
        using var unguarded = BlobKit.GuardedClient(new OutboundGuard());

        var result = await BlobKit.Destination(unguarded).DeliverAsync(BlobKit.Request(BlobKit.Config(container), BlobKit.Image(BlobKit.Bytes(100))),
            CancellationToken.None);

        result.ShouldBeOfType<DeliveryResult.Rejected>().Reason.ShouldStartWith("Refused to connect to 127.0.0.1");
        (await _azurite.ListAsync(container)).ShouldBeEmpty();
    }

    [Fact]
    public async Task DeliverAsync_HostNameResolvingToLoopback_RefusedByTheGuardAndNothingWritten()
    {
        var container = await _azurite.NewContainerAsync();
        using var unguarded = BlobKit.GuardedClient(new OutboundGuard());
        var config = BlobKit.Config(container, new Dictionary<string, object?> { ["endpoint"] = Azurite.EndpointNamed("localhost") });

        var result = await BlobKit.Destination(unguarded).DeliverAsync(BlobKit.Request(config, BlobKit.Image(BlobKit.Bytes(100))), CancellationToken.None);

        var rejected = result.ShouldBeOfType<DeliveryResult.Rejected>();
        rejected.Reason.ShouldStartWith("Refused to connect to localhost (");
        rejected.Reason.ShouldContain("private, loopback, link-local and reserved addresses are blocked");
        (await _azurite.ListAsync(container)).ShouldBeEmpty();
    }

    [Fact]
    public async Task DeliverAsync_ServerBusy_OneRequestThenRetriedOnTheDeliverySchedule()
    {
        await using var receiver = await TestReceiver.StartAsync();
        receiver.Respond = TestReceiver.Answer(503,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>ServerBusy</Code><Message>The server is busy.\nRequestId:1</Message></Error>",
            r =>
            {
                r.ContentType = "application/xml";
                r.Headers["x-ms-error-code"] = "ServerBusy";
                r.Headers.RetryAfter = "7";
            });
        var endpoint = $"http://127.0.0.1:{receiver.Port}/devstoreaccount1";

        var result = await DeliverAsync(BlobKit.Config("photos", new Dictionary<string, object?> { ["endpoint"] = endpoint }),
            BlobKit.Image(BlobKit.Bytes(100)));

        var retry = result.ShouldBeOfType<DeliveryResult.RetryLater>();
        retry.Reason.ShouldBe($"{endpoint} is busy (503 ServerBusy: The server is busy.)");
        retry.Throttled.ShouldBeTrue();
        retry.RetryAfter.ShouldBe(TimeSpan.FromSeconds(7));
        // The SDK's own retries are off: the delivery queue decides when to try again.
        receiver.Requests.Count.ShouldBe(1);
    }

    [Fact]
    public async Task DeliverAsync_LargeImage_CommittedAsSeveralBlocksAndReadBackIdentical()
    {
        var container = await _azurite.NewContainerAsync(publicRead: false);
        var bytes = BlobKit.Bytes(30 * 1024 * 1024 + 12_345, seed: 8);

        // The default tuning: up to 8 MiB in one Put Blob, above it 8 MiB blocks, here from a forward-only source.
        var result = await DeliverAsync(BlobKit.Config(container), BlobKit.Image(bytes));

        result.ShouldBeOfType<DeliveryResult.Delivered>();
        var blob = _azurite.Container(container).GetBlockBlobClient($"uploads/{BlobKit.SessionId}/3.jpg");
        var list = (await blob.GetBlockListAsync(BlockListTypes.All)).Value;
        list.CommittedBlocks.Select(b => b.SizeLong).ShouldBe([8 * StorageTuning.MiB, 8 * StorageTuning.MiB, 8 * StorageTuning.MiB, 6 * StorageTuning.MiB + 12_345]);
        list.UncommittedBlocks.ShouldBeEmpty();
        await using var stored = (await blob.OpenReadAsync()).ShouldNotBeNull();
        Convert.ToHexString(await SHA256.HashDataAsync(stored)).ShouldBe(Convert.ToHexString(SHA256.HashData(bytes)));
    }

    [Fact]
    public async Task DeliverAsync_BlocksButTheStoreIsShort_RetriesLaterAndCommitsNothing()
    {
        var container = await _azurite.NewContainerAsync();

        var result = await DeliverAsync(BlobKit.Config(container), BlobKit.Image(BlobKit.Bytes(2 * 1024 * 1024), sizeBytes: 3 * 1024 * 1024), SmallBlocks);

        result.ShouldBeOfType<DeliveryResult.RetryLater>().Reason.ShouldContain("Could not read the image");
        (await _azurite.ListAsync(container)).ShouldBeEmpty();
    }
}
