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
}
