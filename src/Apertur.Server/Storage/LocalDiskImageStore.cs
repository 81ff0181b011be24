namespace Apertur.Server.Storage;

/// <summary>The default image store: one file per image under <c>{DataDirectory}/images/</c>.</summary>
public sealed class LocalDiskImageStore(IConfiguration configuration) : IImageStore
{
    private readonly string _root = Path.Combine(AperturOptions.ResolveDataDirectory(configuration), "images");

    public Task PutAsync(Guid imageId, string tempFilePath, CancellationToken ct)
    {
        Directory.CreateDirectory(_root);
        File.Move(tempFilePath, PathOf(imageId), overwrite: true);
        return Task.CompletedTask;
    }

    public Task<Stream> OpenReadAsync(Guid imageId, CancellationToken ct)
    {
        var path = PathOf(imageId);
        try
        {
            return Task.FromResult<Stream>(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920,
                FileOptions.Asynchronous | FileOptions.SequentialScan));
        }
        catch (DirectoryNotFoundException e)
        {
            // Nothing stored yet: same contract as a missing file.
            throw new FileNotFoundException("Image not found.", path, e);
        }
    }

    public Task DeleteAsync(Guid imageId, CancellationToken ct)
    {
        File.Delete(PathOf(imageId));
        return Task.CompletedTask;
    }

    private string PathOf(Guid imageId) => Path.Combine(_root, imageId.ToString("D"));
}
