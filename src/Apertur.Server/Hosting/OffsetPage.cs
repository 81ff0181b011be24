using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Hosting;

/// <summary>
/// A numbered page (<c>page</c>/<c>pageSize</c>, the API lists' contract) of a list shown newest first, read from whichever end of
/// its index is nearer (docs/performance.md "Which index serves which page"): a page in the older half is read oldest first
/// with the offset counted from that end, then reversed. The rows are those of the OFFSET walk from the newest end, in its
/// order; the deepest page costs what the first does instead of walking the whole history.
/// </summary>
public static class OffsetPage
{
    /// <summary>
    /// Page <paramref name="number"/> (from 1) of <paramref name="size"/> rows out of <paramref name="total"/>. <paramref name="newest"/>
    /// and <paramref name="oldest"/> are the same rows in exactly opposite orders (every key reversed, the tie-breaker included).
    /// </summary>
    public static async Task<List<T>> ReadAsync<T>(IQueryable<T> newest, IQueryable<T> oldest, int total, int number, int size, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(number, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        var offset = (long)(number - 1) * size;
        if (offset >= total)
        {
            return [];
        }
        var end = Math.Min(offset + size, total);
        if (offset <= total - end)
        {
            return await newest.Skip((int)offset).Take(size).ToListAsync(ct);
        }
        var rows = await oldest.Skip((int)(total - end)).Take((int)(end - offset)).ToListAsync(ct);
        rows.Reverse();
        return rows;
    }
}
