using System.Collections.Concurrent;
using Apertur.Server.Data;
using Apertur.Server.Sessions;
using Apertur.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Images;

/// <summary>
/// Small JPEG thumbnails of stored images (docs/architecture.md "Images"): the longest side <see cref="LongestSide"/> pixels,
/// upright, metadata stripped, made by <see cref="ImageProcessor"/> (its header check, concurrency bound and limits) the first
/// time one is asked for, then kept in this replica's <c>{DataDirectory}/thumbnails/{2 hex}/{id}.jpg</c>. The original may
/// be on S3: it is copied to a local temp file first. An image that cannot be made into a thumbnail (broken, hostile, over
/// a limit) gets a <c>{id}.failed</c> mark instead, so it is tried once, and the callers show a placeholder.
/// <para>
/// A thumbnail goes with its image: the session erasure and the retention sweep call <see cref="Delete"/> on the replica
/// that deleted the bytes, and every replica's orphan check pass (<see cref="SweepAsync"/>) removes the thumbnails of images
/// whose row is gone or whose bytes were deleted. Callers check the image row before serving one, so a thumbnail still on
/// another replica's disk until its sweep is never shown.
/// </para>
/// </summary>
public sealed partial class Thumbnails(string directory, ImageProcessor processor, IImageStore store, IServiceScopeFactory scopes,
    ILogger<Thumbnails> logger)
{
    public const int LongestSide = 320;
    private const string Extension = ".jpg";
    private const string FailedExtension = ".failed";
    private const int SweepBatch = 500;

    /// <summary>What a thumbnail is: JPEG, upright, no EXIF/GPS/XMP/IPTC (the ICC profile kept), at most <see cref="LongestSide"/> pixels.</summary>
    public static readonly ImageEdit Edit = new(ImageTypes.Jpeg, StripMetadata: true, MaxDimension: LongestSide, Quality: 80);

    private readonly ConcurrentDictionary<Guid, Lazy<Task<string?>>> _making = new();
    private int _made;

    public static string DirectoryOf(string dataDirectory) => Path.Combine(dataDirectory, "thumbnails");

    /// <summary>How many thumbnails this process has made (the tests' proof that a cached one is not made again).</summary>
    internal int Made => Volatile.Read(ref _made);

    /// <summary>
    /// The path of the image's thumbnail, made now (once, however many ask at the same time) if this replica has none; null
    /// when the image cannot be made into one or the store has no bytes for it: show a placeholder.
    /// </summary>
    public async Task<string?> GetAsync(Guid imageId, string mimeType, CancellationToken ct)
    {
        var path = PathOf(imageId, Extension);
        if (File.Exists(path))
        {
            return path;
        }
        if (File.Exists(PathOf(imageId, FailedExtension)))
        {
            return null;
        }
        // The work is not the asker's: a closed tab does not abandon a thumbnail others may be waiting for.
        var making = _making.GetOrAdd(imageId, id => new Lazy<Task<string?>>(() => MakeAsync(id, mimeType)));
        return await making.Value.WaitAsync(ct);
    }

    /// <summary>Removes the thumbnails (and failure marks) of these images from this replica's disk.</summary>
    public void Delete(IEnumerable<Guid> imageIds)
    {
        foreach (var id in imageIds)
        {
            // An image never shown has no thumbnail, and maybe no shard directory either (File.Delete would throw then).
            var path = PathOf(id, Extension);
            if (Directory.Exists(Path.GetDirectoryName(path)))
            {
                File.Delete(path);
                File.Delete(PathOf(id, FailedExtension));
            }
        }
    }

    /// <summary>
    /// This replica's part of the orphan check: removes every thumbnail (and failure mark) whose image has no row or whose
    /// bytes were deleted, and files that are no thumbnail; returns how many files were removed.
    /// </summary>
    public async Task<int> SweepAsync(CancellationToken ct)
    {
        if (!Directory.Exists(directory))
        {
            return 0;
        }
        var removed = 0;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
        foreach (var batch in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Chunk(SweepBatch))
        {
            var files = batch.Select(f => (Path: f, Id: IdOf(f))).ToList();
            var ids = files.Where(f => f.Id is not null).Select(f => f.Id!.Value).Distinct().ToList();
            var kept = (await db.Images.Where(i => ids.Contains(i.Id) && i.BytesDeletedAt == null).Select(i => i.Id).ToListAsync(ct)).ToHashSet();
            foreach (var (path, id) in files.Where(f => f.Id is not { } id || !kept.Contains(id)))
            {
                File.Delete(path);
                removed++;
            }
        }
        if (removed > 0)
        {
            LogSwept(logger, removed);
        }
        return removed;
    }

    /// <summary>
    /// A full-size JPEG of the image (upright, metadata kept) in a temp file the caller deletes, for a browser that cannot draw
    /// the stored type (HEIC); null when the store has no bytes for it.
    /// </summary>
    /// <exception cref="ImageProcessingException">The image cannot be converted.</exception>
    public Task<string?> FullSizeJpegAsync(Guid imageId, string mimeType, CancellationToken ct) =>
        ProcessAsync(imageId, mimeType, new ImageEdit(ImageTypes.Jpeg, StripMetadata: false, MaxDimension: null, Quality: 90), ct);

    private async Task<string?> MakeAsync(Guid imageId, string mimeType)
    {
        try
        {
            if (await ProcessAsync(imageId, mimeType, Edit, CancellationToken.None) is not { } output)
            {
                return null;
            }
            var path = PathOf(imageId, Extension);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.Move(output, path, overwrite: true);
            Interlocked.Increment(ref _made);
            return path;
        }
        catch (ImageProcessingException e)
        {
            LogNoThumbnail(logger, imageId, e.Message);
            var mark = PathOf(imageId, FailedExtension);
            Directory.CreateDirectory(Path.GetDirectoryName(mark)!);
            await File.WriteAllTextAsync(mark, e.Message);
            return null;
        }
        finally
        {
            // After the thumbnail or its mark is in place: whoever asks next finds the file.
            _making.TryRemove(imageId, out _);
        }
    }

    /// <summary>The stored image processed into a temp file (the caller's to move or delete); null when the store has no bytes for it.</summary>
    private async Task<string?> ProcessAsync(Guid imageId, string mimeType, ImageEdit edit, CancellationToken ct)
    {
        var temps = new List<string>();
        try
        {
            string source;
            await using (var stream = await store.OpenReadAsync(imageId, ct))
            {
                if (stream is null)
                {
                    return null;
                }
                source = await LocalImageFile.OfAsync(stream, store, temps, ct);
            }
            processor.Inspect(source, mimeType);
            var output = store.NewTempFilePath();
            temps.Add(output);
            await processor.WriteAsync(source, mimeType, edit, output, ct);
            temps.Remove(output);
            return output;
        }
        finally
        {
            foreach (var temp in temps)
            {
                File.Delete(temp);
            }
        }
    }

    private string PathOf(Guid imageId, string extension)
    {
        var name = imageId.ToString("N");
        return Path.Combine(directory, name[..2], name + extension);
    }

    private static Guid? IdOf(string path) =>
        Path.GetExtension(path) is Extension or FailedExtension && Guid.TryParseExact(Path.GetFileNameWithoutExtension(path), "N", out var id)
            ? id
            : null;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Image {ImageId} has no thumbnail: {Reason}; a placeholder is shown instead")]
    private static partial void LogNoThumbnail(ILogger logger, Guid imageId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Thumbnails: {Count} files of deleted or unknown images removed from this replica's disk")]
    private static partial void LogSwept(ILogger logger, int count);
}
