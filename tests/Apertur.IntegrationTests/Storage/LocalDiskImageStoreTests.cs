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

    [Fact]
    public async Task ListAsync_PagesOfTwo_EveryImageOnceInKeyOrderWithItsTime()
    {
        var store = NewStore();
        var written = new DateTime(2026, 10, 1, 8, 0, 0, DateTimeKind.Utc);
        var ids = new List<Guid>();
        for (var i = 0; i < 7; i++)
        {
            var id = await PutAsync(store, [(byte)i]);
            File.SetLastWriteTimeUtc(LocalDiskImageStore.PathOf(Path.Combine(_dataDirectory, "images"), id), written.AddHours(i));
            ids.Add(id);
        }
        await File.WriteAllTextAsync(Path.Combine(_dataDirectory, "images", "00", "notes.txt"), "not an image");

        var listed = await ListInPagesOfTwoAsync(store);

        listed.Select(i => i.Id).ShouldBe(ids, ignoreOrder: true);
        listed.Select(i => i.Key).ShouldBe(listed.Select(i => i.Key).Order(StringComparer.Ordinal), "key order");
        listed.Select(i => i.Key).Distinct().Count().ShouldBe(7);
        foreach (var image in listed)
        {
            image.WrittenAt.ShouldBe(new DateTimeOffset(written.AddHours(ids.IndexOf(image.Id))));
        }
    }

    [Fact]
    public async Task ExistingAsync_SomeStored_OnlyThose()
    {
        var store = NewStore();
        var stored = await PutAsync(store, [1]);

        (await store.ExistingAsync([stored, Guid.NewGuid()], CancellationToken.None)).ShouldBe([stored]);
    }

    /// <summary>Stores <paramref name="bytes"/> under a fresh id, as an upload does (a temp file moved in); returns the id.</summary>
    internal static async Task<Guid> PutAsync(IImageStore store, byte[] bytes)
    {
        var id = Guid.CreateVersion7();
        var temp = store.NewTempFilePath();
        await File.WriteAllBytesAsync(temp, bytes);
        await store.PutAsync(id, temp, CancellationToken.None);
        return id;
    }

    /// <summary>The whole store, walked with <see cref="IImageStore.ListAsync"/> two at a time from the start to the end.</summary>
    internal static async Task<List<StoredImage>> ListInPagesOfTwoAsync(IImageStore store)
    {
        var listed = new List<StoredImage>();
        string? after = null;
        do
        {
            var page = await store.ListAsync(after, 2, CancellationToken.None);
            page.Images.Count.ShouldBeLessThanOrEqualTo(2);
            listed.AddRange(page.Images);
            after = page.Next;
        }
        while (after is not null);
        return listed;
    }

    public void Dispose()
    {
        if (Directory.Exists(_dataDirectory))
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }
}
