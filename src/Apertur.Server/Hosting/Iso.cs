using System.Globalization;

namespace Apertur.Server.Hosting;

/// <summary>The one timestamp format on the wire: ISO-8601 UTC with milliseconds and Z (docs/api.md "Conventions").</summary>
public static class Iso
{
    private const string Format_ = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    public static string Format(DateTimeOffset value) => value.UtcDateTime.ToString(Format_, CultureInfo.InvariantCulture);

    public static string? Format(DateTimeOffset? value) => value.HasValue ? Format(value.Value) : null;

    /// <summary>Parses any ISO-8601 date-time with an offset or Z; a value without a zone is taken as UTC.</summary>
    public static bool TryParse(string? text, out DateTimeOffset value) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value);

    /// <summary>Truncates to whole milliseconds, the precision stored and emitted everywhere.</summary>
    public static DateTimeOffset Millis(DateTimeOffset value) =>
        DateTimeOffset.FromUnixTimeMilliseconds(value.ToUnixTimeMilliseconds());
}
