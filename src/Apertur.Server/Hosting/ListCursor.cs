using System.Globalization;

namespace Apertur.Server.Hosting;

/// <summary>A place in a list shown newest first (keyset paging, docs/performance.md): what is older was created before it, or at the same
/// time with a smaller id. Reading the page after it costs the same however far back it is, unlike an OFFSET.</summary>
public sealed record ListCursor(DateTimeOffset CreatedAt, Guid Id)
{
    /// <summary>As it travels in a URL: unix milliseconds and the id.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{CreatedAt.ToUnixTimeMilliseconds()}_{Id:N}");

    public static ListCursor? Parse(string? text) =>
        text?.Split('_') is [var ms, var id] && long.TryParse(ms, NumberStyles.None, CultureInfo.InvariantCulture, out var at)
            && at <= DateTimeOffset.MaxValue.ToUnixTimeMilliseconds() && Guid.TryParseExact(id, "N", out var guid)
            ? new ListCursor(DateTimeOffset.FromUnixTimeMilliseconds(at), guid)
            : null;
}
