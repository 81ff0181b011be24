using Apertur.Destinations.S3;
using Apertur.Destinations.Storage;
using Apertur.Destinations.Tests.Webhooks;
using Xunit.Abstractions;

namespace Apertur.Destinations.Tests.S3;

/// <summary>Images are streamed from the store to S3, never held whole: measured as bytes allocated per delivery.</summary>
[Collection(nameof(RunsAlone))]
public sealed class S3MemoryTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("apertur-s3-").FullName;
    private readonly S3Store _store = new();

    public void Dispose()
    {
        _store.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Theory]
    [InlineData(5 * 1024 * 1024, false)]
    [InlineData(20 * 1024 * 1024, true)]
    public async Task DeliverAsync_LargeImageFromAFile_AllocatesFarLessThanTheImage(int size, bool multipart)
    {
        var bucket = await _store.NewBucketAsync();
        var path = Path.Combine(_directory, "large.jpg");
        var bytes = S3Kit.Bytes(size, seed: 5);
        await File.WriteAllBytesAsync(path, bytes);
        var image = S3Kit.Image([], sizeBytes: size) with
        {
            OpenReadAsync = _ => Task.FromResult<Stream>(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, useAsync: true)),
        };
        using var destination = S3Kit.Destination();
        StorageTuning.Default.IsMultipart(size).ShouldBe(multipart);
        // Warm up: JIT, the SDK's metadata caches, the connection pool.
        (await destination.DeliverAsync(S3Kit.Request(S3Kit.Config(bucket), S3Kit.Image(S3Kit.Bytes(1000))), CancellationToken.None))
            .ShouldBeOfType<DeliveryResult.Delivered>();

        var before = GC.GetTotalAllocatedBytes(precise: true);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = await destination.DeliverAsync(S3Kit.Request(S3Kit.Config(bucket), image), CancellationToken.None);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        output.WriteLine($"{size:N0} bytes: {allocated:N0} bytes allocated, {clock.ElapsedMilliseconds} ms");

        result.ShouldBeOfType<DeliveryResult.Delivered>();
        allocated.ShouldBeLessThan(size / 4, $"allocated {allocated:N0} bytes to send a {size:N0}-byte image");
        (await _store.GetAsync(bucket, $"uploads/{S3Kit.SessionId}/3.jpg"))!.Bytes.AsSpan().SequenceEqual(bytes).ShouldBeTrue();
    }
}
