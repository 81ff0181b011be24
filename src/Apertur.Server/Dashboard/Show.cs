using System.Globalization;
using Apertur.Server.Hosting;

namespace Apertur.Server.Dashboard;

/// <summary>How the dashboard writes times, sizes and counts: UTC, unambiguous, the same on every page.</summary>
public static class Show
{
    public static string Time(DateTimeOffset? at) =>
        at is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC" : "—";

    public static string Iso(DateTimeOffset? at) => at is { } t ? Hosting.Iso.Format(t) : "";

    public static string Bytes(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.#} KB"),
        < 1024 * 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.#} MB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024 * 1024):0.#} GB"),
    };

    public static string Number(long n) => n.ToString("#,0", CultureInfo.InvariantCulture);

    public static string Percent(double value) => value.ToString("0.0", CultureInfo.InvariantCulture) + " %";

    public static string Duration(int? ms) => ms switch
    {
        null => "—",
        < 1000 => $"{ms} ms",
        _ => string.Create(CultureInfo.InvariantCulture, $"{ms / 1000.0:0.0} s"),
    };

    /// <summary>Only the first characters of an id, as a label.</summary>
    public static string IdLabel(Guid id) => id.ToString()[..8];
}

/// <summary>Page links for long lists: keeps the other query parameters, changes <c>page</c>.</summary>
public sealed record Pager(int Page, int TotalPages, int Total, string Path, IReadOnlyDictionary<string, string?> Query)
{
    public const int PageSize = 25;

    public static Pager For(HttpRequest request, int page, int total, int pageSize = PageSize)
    {
        ArgumentNullException.ThrowIfNull(request);
        var query = request.Query.Where(q => q.Key != "page").ToDictionary(q => q.Key, q => (string?)q.Value.ToString(), StringComparer.Ordinal);
        return new Pager(page, Paging.TotalPages(total, pageSize), total, request.Path, query);
    }

    public string Url(int page)
    {
        var query = new Dictionary<string, string?>(Query, StringComparer.Ordinal) { ["page"] = page.ToString(CultureInfo.InvariantCulture) };
        return Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString(Path, query);
    }

    /// <summary>A page number from the query: 1 when absent or not a positive number.</summary>
    public static int Number(string? text) => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1 ? n : 1;
}

/// <summary>
/// Links of a long list paged by cursor (docs/performance.md): "Newest" back to the first page, "Older" to the rows after the
/// last one shown. No count and no page number: each page costs the same however far back it is.
/// </summary>
public sealed record CursorPager(string? NewestUrl, string? OlderUrl)
{
    public const string Parameter = "before";
    public const int PageSize = Pager.PageSize;

    /// <summary>The cursor the request asks for; null (the newest rows) when absent or unreadable.</summary>
    public static ListCursor? Before(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return ListCursor.Parse(request.Query[Parameter].ToString());
    }

    public static CursorPager For(HttpRequest request, ListCursor? older)
    {
        ArgumentNullException.ThrowIfNull(request);
        var query = request.Query.Where(q => q.Key is not Parameter and not "page")
            .ToDictionary(q => q.Key, q => (string?)q.Value.ToString(), StringComparer.Ordinal);
        var newest = Before(request) is null ? null : Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString(request.Path, query);
        var next = older is null ? null
            : Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString(request.Path,
                new Dictionary<string, string?>(query, StringComparer.Ordinal) { [Parameter] = older.ToString() });
        return new CursorPager(newest, next);
    }
}
