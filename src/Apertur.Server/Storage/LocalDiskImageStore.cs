using System.Globalization;
using Apertur.Server.Hosting;

namespace Apertur.Server.Storage;

/// <summary>
/// Images as files under <c>{DataDirectory}/images/ab/{id}</c>, temporary files under <c>{DataDirectory}/tmp</c> on
/// the same filesystem, so putting an image is a rename. The 256 shards use the id's random tail (a UUID v7 starts with
/// the clock) and are created once, at start: a directory per put would cost a mkdir on most uploads. 256 directories
/// hold tens of millions of images comfortably on ext4/xfs (hashed directory indexes).
/// </summary>
public sealed partial class LocalDiskImageStore : IImageStore
{
    private const string TempSuffix = ".part";
    private static readonly TimeSpan StaleTempAge = TimeSpan.FromDays(1);

    private readonly string _imagesDirectory;
    private readonly string _tempDirectory;

    public LocalDiskImageStore(string dataDirectory, TimeProvider time, ILogger<LocalDiskImageStore> logger)
    {
        _imagesDirectory = ImagesDirectoryOf(dataDirectory);
        _tempDirectory = TempDirectoryOf(dataDirectory);
        DataDirectory.CreateOwnerOnly(_tempDirectory);
        for (var shard = 0; shard < 256; shard++)
        {
            var shardDirectory = Path.Combine(_imagesDirectory, shard.ToString("x2", CultureInfo.InvariantCulture));
            DataDirectory.CreateOwnerOnly(shardDirectory);
            MoveUpTwoLevelLayout(shardDirectory, logger);
        }
        SweepStaleTempFiles(_tempDirectory, time, logger);
    }

    public string TempDirectory => _tempDirectory;

    /// <summary>Where the local store keeps images: <c>{DataDirectory}/images</c>.</summary>
    internal static string ImagesDirectoryOf(string dataDirectory) => Path.Combine(dataDirectory, "images");

    /// <summary>Where both stores write upload temp files: <c>{DataDirectory}/tmp</c>.</summary>
    internal static string TempDirectoryOf(string dataDirectory) => Path.Combine(dataDirectory, "tmp");

    public string NewTempFilePath() => NewTempFilePath(_tempDirectory);

    /// <summary>A fresh temp file name in <paramref name="tempDirectory"/> (the S3 store's temp files are local too).</summary>
    internal static string NewTempFilePath(string tempDirectory) => Path.Combine(tempDirectory, Guid.NewGuid().ToString("N") + TempSuffix);

    public Task PutAsync(Guid imageId, string tempFilePath, CancellationToken ct)
    {
        File.Move(tempFilePath, PathOf(imageId), overwrite: false);
        return Task.CompletedTask;
    }

    public Task<Stream?> OpenReadAsync(Guid imageId, CancellationToken ct)
    {
        try
        {
            Stream stream = new FileStream(PathOf(imageId), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete,
                bufferSize: 81920, FileOptions.Asynchronous | FileOptions.SequentialScan);
            return Task.FromResult<Stream?>(stream);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }
    }

    public Task DeleteAsync(Guid imageId, CancellationToken ct)
    {
        File.Delete(PathOf(imageId));
        return Task.CompletedTask;
    }

    public async Task ProbeAsync(CancellationToken ct)
    {
        // Beside the images (same filesystem, same permissions), under a name no image id takes.
        var probe = Path.Combine(_imagesDirectory, $"probe-{Guid.NewGuid():N}{TempSuffix}");
        var bytes = "Apertur readiness probe"u8.ToArray();
        try
        {
            await File.WriteAllBytesAsync(probe, bytes, ct);
            if (!(await File.ReadAllBytesAsync(probe, ct)).AsSpan().SequenceEqual(bytes))
            {
                throw new IOException($"the probe file {probe} read back differs from what was written");
            }
        }
        finally
        {
            File.Delete(probe);
        }
    }

    /// <summary>Keys are <c>{shard}/{id:N}</c>, in ordinal order: shard by shard, each shard's names sorted.</summary>
    public Task<StoredImagePage> ListAsync(string? after, int max, CancellationToken ct)
    {
        var images = new List<StoredImage>();
        var (firstShard, afterName) = after is null ? (0, "") : (int.Parse(after[..2], NumberStyles.HexNumber, CultureInfo.InvariantCulture), after[3..]);
        for (var shard = firstShard; shard < 256; shard++)
        {
            var shardName = shard.ToString("x2", CultureInfo.InvariantCulture);
            var names = Directory.EnumerateFiles(Path.Combine(_imagesDirectory, shardName))
                .Select(path => Path.GetFileName(path))
                .Where(name => IsImageName(name) && (shard > firstShard || string.CompareOrdinal(name, afterName) > 0))
                .Order(StringComparer.Ordinal);
            foreach (var name in names)
            {
                var file = new FileInfo(Path.Combine(_imagesDirectory, shardName, name));
                if (file.Exists)
                {
                    images.Add(new StoredImage(Guid.ParseExact(name, "N"), $"{shardName}/{name}", file.LastWriteTimeUtc));
                }
                if (images.Count == max)
                {
                    return Task.FromResult(new StoredImagePage(images, images[^1].Key));
                }
            }
        }
        return Task.FromResult(new StoredImagePage(images, null));
    }

    /// <summary>Whether <paramref name="name"/> is an image id as the stores write it (<c>{id:N}</c>, lower case).</summary>
    internal static bool IsImageName(string? name) => Guid.TryParseExact(name, "N", out var id) && id.ToString("N") == name;

    public Task<IReadOnlySet<Guid>> ExistingAsync(IReadOnlyCollection<Guid> imageIds, CancellationToken ct) =>
        Task.FromResult<IReadOnlySet<Guid>>(imageIds.Where(id => File.Exists(PathOf(id))).ToHashSet());

    private string PathOf(Guid imageId) => PathOf(_imagesDirectory, imageId);

    /// <summary>Where an image's file is under <paramref name="imagesDirectory"/> (<c>{DataDirectory}/images</c>); read by <c>storage migrate</c> too.</summary>
    internal static string PathOf(string imagesDirectory, Guid imageId)
    {
        var name = imageId.ToString("N");
        return Path.Combine(imagesDirectory, name[^2..], name);
    }

    // Data directories written before 2026-11-22 kept images two levels deep (images/ab/cd/{id}): move them up once.
    private static void MoveUpTwoLevelLayout(string shardDirectory, ILogger logger)
    {
        foreach (var oldDirectory in Directory.EnumerateDirectories(shardDirectory))
        {
            foreach (var file in Directory.EnumerateFiles(oldDirectory))
            {
                File.Move(file, Path.Combine(shardDirectory, Path.GetFileName(file)), overwrite: false);
            }
            Directory.Delete(oldDirectory);
            LogMovedOldLayout(logger, oldDirectory);
        }
    }

    /// <summary>
    /// Deletes the upload temp files a crash left: a day-old one can belong to no live request. Run at start and by the
    /// orphan check (docs/operations.md "Crash leftovers"); returns how many it deleted.
    /// </summary>
    internal static int SweepStaleTempFiles(string tempDirectory, TimeProvider time, ILogger logger)
    {
        var deleted = 0;
        var cutoff = time.GetUtcNow() - StaleTempAge;
        foreach (var file in Directory.EnumerateFiles(tempDirectory, "*" + TempSuffix))
        {
            try
            {
                if (File.GetLastWriteTimeUtc(file) < cutoff.UtcDateTime)
                {
                    File.Delete(file);
                    deleted++;
                    LogSweptTempFile(logger, file);
                }
            }
            catch (IOException)
            {
                // Busy or already gone: the next sweep tries again.
            }
        }
        return deleted;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Moved the images of {Directory} one level up (storage layout of 2026-11-22)")]
    private static partial void LogMovedOldLayout(ILogger logger, string directory);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted stale upload temp file {Path}")]
    private static partial void LogSweptTempFile(ILogger logger, string path);
}
