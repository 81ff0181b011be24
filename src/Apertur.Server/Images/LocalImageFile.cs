using Apertur.Server.Storage;

namespace Apertur.Server.Images;

/// <summary>
/// The image library reads files: an image's bytes as a file on this machine, for <see cref="ImageProcessor"/> (the
/// thumbnails and a delivery's image options, docs/architecture.md "Images").
/// </summary>
internal static class LocalImageFile
{
    /// <summary>
    /// The local store's own file when <paramref name="stream"/> reads one, or else a temp copy of its bytes in the store's
    /// temp directory, added to <paramref name="temps"/> (the caller's to delete). The caller disposes the stream.
    /// </summary>
    public static async Task<string> OfAsync(Stream stream, IImageStore store, List<string> temps, CancellationToken ct)
    {
        if (stream is FileStream { Name: var name })
        {
            return name;
        }
        var copy = store.NewTempFilePath();
        temps.Add(copy);
        await using var file = new FileStream(copy, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, useAsync: true);
        await stream.CopyToAsync(file, ct);
        return copy;
    }
}
