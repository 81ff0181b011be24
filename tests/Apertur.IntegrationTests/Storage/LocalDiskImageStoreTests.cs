using Apertur.Server.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Shouldly;

namespace Apertur.IntegrationTests.Storage;

/// <summary>The default image store on a real directory: put by rename, read back, and older layouts still readable.</summary>
public sealed class LocalDiskImageStoreTests : IDisposable
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "apertur-store-" + Guid.NewGuid().ToString("N"));

    private LocalDiskImageStore NewStore() => new(_dataDirectory, TimeProvider.System, NullLogger<LocalDiskImageStore>.Instance);

    [Fact]
    public async Task PutAsync_TempFile_IsReadBackByItsId()
    {
        var store = NewStore();
        var id = Guid.NewGuid();
        var temp = store.NewTempFilePath();
        await File.WriteAllBytesAsync(temp, [1, 2, 3]);

        await store.PutAsync(id, temp, CancellationToken.None);

        File.Exists(temp).ShouldBeFalse();
        await using var stream = (await store.OpenReadAsync(id, CancellationToken.None)).ShouldNotBeNull();
        var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        copy.ToArray().ShouldBe(new byte[] { 1, 2, 3 });
    }

    [Fact]
    public async Task Start_TwoLevelLayoutOfEarlierVersions_IsMovedUpAndStillReadable()
    {
        var id = Guid.NewGuid();
        var name = id.ToString("N");
        var old = Path.Combine(_dataDirectory, "images", name[^2..], name[^4..^2]);
        Directory.CreateDirectory(old);
        await File.WriteAllBytesAsync(Path.Combine(old, name), [9, 8, 7]);

        var store = NewStore();

        Directory.Exists(old).ShouldBeFalse();
        await using var stream = (await store.OpenReadAsync(id, CancellationToken.None)).ShouldNotBeNull();
        stream.Length.ShouldBe(3);
    }

    [Fact]
    public async Task OpenReadAsync_UnknownId_IsNull() =>
        (await NewStore().OpenReadAsync(Guid.NewGuid(), CancellationToken.None)).ShouldBeNull();

    public void Dispose()
    {
        if (Directory.Exists(_dataDirectory))
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }
}
