namespace Apertur.Server.Storage;

public static class ImageStoreRemoval
{
    /// <summary>
    /// Removes the bytes of every image in <paramref name="imageIds"/> whose rows are already marked deleted (a deleted
    /// session, retention). One that fails is reported to <paramref name="failed"/> and the others go on; an id the store no
    /// longer holds is no error, so calling again removes what an earlier call left. Returns how many failed.
    /// </summary>
    public static async Task<int> RemoveAllAsync(this IImageStore store, IEnumerable<Guid> imageIds, Action<Guid, Exception> failed, CancellationToken ct)
    {
        var left = 0;
        foreach (var id in imageIds)
        {
            try
            {
                await store.DeleteAsync(id, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                left++;
                failed(id, e);
            }
        }
        return left;
    }
}
