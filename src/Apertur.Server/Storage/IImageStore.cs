namespace Apertur.Server.Storage;
/// <summary>Where image bytes live, by image id.</summary>
public interface IImageStore
{
    /// <summary>Moves a finished temporary file into the store under the image id.</summary>
    Task PutAsync(Guid imageId, string tempFilePath, CancellationToken ct);
    /// <summary>Opens the image for reading; throws FileNotFoundException if absent.</summary>
    Task<Stream> OpenReadAsync(Guid imageId, CancellationToken ct);
    Task DeleteAsync(Guid imageId, CancellationToken ct);
}
