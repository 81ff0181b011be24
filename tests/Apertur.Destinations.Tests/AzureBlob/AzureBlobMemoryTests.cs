using Apertur.Destinations.Storage;
using Apertur.Destinations.Tests.Webhooks;
using Xunit.Abstractions;

namespace Apertur.Destinations.Tests.AzureBlob;

/// <summary>Images are streamed from the store to the Blob service, never held whole: measured as bytes allocated per delivery.</summary>
[Collection(nameof(RunsAlone))]
public sealed class AzureBlobMemoryTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("apertur-blob-").FullName;
    private readonly Azurite _azurite = new();
    private readonly HttpClient _http = BlobKit.GuardedClient();

    public void Dispose()
    {
        _azurite.Dispose();
        _http.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Theory]
    [InlineData(5 * 1024 * 1024, false)]
    [InlineData(20 * 1024 * 1024, true)]
    public async Task DeliverAsync_LargeImageFromAFile_AllocatesFarLessThanTheImage(int size, bool blocks)
    {
        var container = await _azurite.NewContainerAsync();
        var path = Path.Combine(_directory, "large.jpg");
        var bytes = BlobKit.Bytes(size, seed: 5);
        await File.WriteAllBytesAsync(path, bytes);
        var image = BlobKit.Image([], sizeBytes: size) with
        {
            OpenReadAsync = _ => Task.FromResult<Stream>(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, useAsync: true)),
        };
        var destination = BlobKit.Destination(_http);
        StorageTuning.Default.IsMultipart(size).ShouldBe(blocks);
        // Warm up: JIT and the connection pool.
        (await destination.DeliverAsync(BlobKit.Request(BlobKit.Config(container), BlobKit.Image(BlobKit.Bytes(1000))), CancellationToken.None))
            .ShouldBeOfType<DeliveryResult.Delivered>();

        var before = GC.GetTotalAllocatedBytes(precise: true);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = await destination.DeliverAsync(BlobKit.Request(BlobKit.Config(container), image), CancellationToken.None);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        output.WriteLine($"{size:N0} bytes: {allocated:N0} bytes allocated, {clock.ElapsedMilliseconds} ms");

        result.ShouldBeOfType<DeliveryResult.Delivered>();
        allocated.ShouldBeLessThan(size / 4, $"allocated {allocated:N0} bytes to send a {size:N0}-byte image");
        (await _azurite.GetAsync(container, $"uploads/{BlobKit.SessionId}/3.jpg"))!.Bytes.AsSpan().SequenceEqual(bytes).ShouldBeTrue();
    }
}
