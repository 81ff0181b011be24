namespace Apertur.Server.Storage;

/// <summary>
/// Where accepted image bytes live, addressed by image id (docs/architecture.md "Seams"). Bytes are written once: an upload is
/// streamed to a temporary file from <see cref="NewTempFilePath"/>, checked, then moved in with <see cref="PutAsync"/>.
/// The local-disk store is the default; an S3-compatible store replaces it when several nodes share the work.
/// </summary>
public interface IImageStore
{
    /// <summary>
    /// A fresh path for a temporary file that <see cref="PutAsync"/> can take without copying (same filesystem for the
    /// local store). The caller creates, fills and, unless it was put, deletes the file.
    /// </summary>
    string NewTempFilePath();

    /// <summary>
    /// Moves a finished temporary file into the store under <paramref name="imageId"/>; afterwards the temp path no longer
    /// exists. The file must be flushed to disk by the caller. Throws if an image with that id is already stored.
    /// </summary>
    Task PutAsync(Guid imageId, string tempFilePath, CancellationToken ct);

    /// <summary>The stored bytes as a read-only stream, or null when the store holds nothing under that id.</summary>
    Task<Stream?> OpenReadAsync(Guid imageId, CancellationToken ct);

    /// <summary>Removes the image's bytes. Deleting an id that is not stored is not an error.</summary>
    Task DeleteAsync(Guid imageId, CancellationToken ct);

    /// <summary>
    /// Writes a small probe where images go, reads it back and removes it: throws when the store cannot take images now
    /// (the readiness check, docs/scale-out.md "Readiness", and the start-up check of the S3 store).
    /// </summary>
    Task ProbeAsync(CancellationToken ct);

    /// <summary>
    /// Up to <paramref name="max"/> (at most 1,000) stored images in the store's key order, after the key
    /// <paramref name="after"/> (null: from the start), with when each was written: the orphan check's walk
    /// (docs/operations.md "Crash leftovers"). <see cref="StoredImagePage.Next"/> continues the walk; null at the end.
    /// Names that are no image id are skipped. A call reads only as far as it needs: the local store's
    /// directories one shard at a time, S3 one listing request.
    /// </summary>
    Task<StoredImagePage> ListAsync(string? after, int max, CancellationToken ct);

    /// <summary>Which of <paramref name="imageIds"/> the store holds (local disk: a stat each; S3: a listing of their key range).</summary>
    Task<IReadOnlySet<Guid>> ExistingAsync(IReadOnlyCollection<Guid> imageIds, CancellationToken ct);
}

/// <summary>A stored image as a listing sees it: its id, its key in the store and when its bytes were written.</summary>
public sealed record StoredImage(Guid Id, string Key, DateTimeOffset WrittenAt);

/// <summary>One page of <see cref="IImageStore.ListAsync"/>; <see cref="Next"/> is the key to list after, null once the walk reached the end.</summary>
public sealed record StoredImagePage(IReadOnlyList<StoredImage> Images, string? Next);
