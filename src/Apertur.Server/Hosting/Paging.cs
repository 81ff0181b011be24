namespace Apertur.Server.Hosting;

/// <summary>Query paging: <c>page</c> from 1, <c>pageSize</c> 1–100 (default 20), <c>limit</c> 1–50 (default 10).</summary>
public static class Paging
{
    public static (int Page, int PageSize) Normalise(int? page, int? pageSize)
    {
        if (page is < 1)
        {
            throw ApiException.BadRequest("'page' must be 1 or more.");
        }
        if (pageSize is < 1 or > 100)
        {
            throw ApiException.BadRequest("'pageSize' must be between 1 and 100.");
        }
        return (page ?? 1, pageSize ?? 20);
    }

    public static int Limit(int? limit) =>
        limit is < 1 ? throw ApiException.BadRequest("'limit' must be 1 or more.") : Math.Min(limit ?? 10, 50);

    public static int TotalPages(int total, int pageSize) => total == 0 ? 0 : (total + pageSize - 1) / pageSize;
}
