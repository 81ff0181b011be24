using System.Globalization;
using Apertur.Server.Hosting;

namespace Apertur.Server.Retention;

/// <summary>
/// A project's own retention (docs/operations.md "Retention"): set in whole days in the dashboard, stored in minutes, null for
/// the server's value. A project can shorten the server's retention, never lengthen it: the shorter of the two applies.
/// </summary>
public static class ProjectRetention
{
    private const int MinutesPerDay = 24 * 60;

    /// <summary>The retention that applies: the project's when it is shorter than the server's, else the server's.</summary>
    public static TimeSpan Effective(int? projectMinutes, TimeSpan server) =>
        projectMinutes is { } minutes && TimeSpan.FromMinutes(minutes) < server ? TimeSpan.FromMinutes(minutes) : server;

    /// <summary>"Delete images … days after delivery" as typed (empty: the server's): minutes to store, 0 allowed.</summary>
    public static int? ValidImagesAfterDelivery(string? days, TimeSpan server) =>
        ValidDays(days, 0, server, "Days after delivery");

    /// <summary>"Delete any image after … days" as typed (empty: the server's): minutes to store, at least a day.</summary>
    public static int? ValidMaxImageAge(string? days, TimeSpan server) =>
        ValidDays(days, 1, server, "Days after upload");

    /// <summary>The most whole days a project can set under the server's <paramref name="server"/> retention.</summary>
    public static int MostDays(TimeSpan server) => (int)Math.Min(Math.Floor(server.TotalDays), int.MaxValue / MinutesPerDay);

    /// <summary>A retention in days as the dashboard shows it ("7", "0.5").</summary>
    public static string Days(TimeSpan span) => span.TotalDays.ToString("0.##", CultureInfo.InvariantCulture);

    private static int? ValidDays(string? text, int least, TimeSpan server, string field)
    {
        var trimmed = text?.Trim();
        if (string.IsNullOrEmpty(trimmed))
        {
            return null;
        }
        var most = MostDays(server);
        if (int.TryParse(trimmed, NumberStyles.None, CultureInfo.InvariantCulture, out var days) && days >= least && days <= most)
        {
            return days * MinutesPerDay;
        }
        throw ApiException.BadRequest(most < least
            ? $"{field}: leave it empty, the server already keeps images only {Days(server)} days (got '{trimmed}')."
            : $"{field} must be a whole number of days from {least} to {most}, the server's retention (a project can shorten it, not lengthen it); got '{trimmed}'.");
    }
}
