using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.IntegrationTests.Uploads;
using Apertur.Tests;
using Shouldly;
using Xunit;

namespace Apertur.IntegrationTests.Dashboard;

/// <summary>
/// The dashboard's long lists (deliveries, sessions) are paged by cursor (docs/performance.md): "Older →" goes on from the last
/// row shown, every row appears exactly once, newest first, even when many rows share one creation time (the id breaks ties),
/// and no page counts the whole list.
/// </summary>
public sealed partial class CursorPagingTests
{
    [Theory, ClassData(typeof(Databases))]
    public async Task DeliveriesAndSessions_OlderLinks_ShowEveryRowOnce_TiesBrokenById(string database)
    {
        var clock = new ManualClock();
        clock.Set(new DateTimeOffset(2026, 11, 2, 10, 0, 0, TimeSpan.Zero));
        await using var app = await DashboardBrowser.StartAppAsync(database, clock: clock);
        var alpha = await Seed.DestinationAsync(app, "webhook", "Alpha");
        var bravo = await Seed.DestinationAsync(app, "webhook", "Bravo");
        var project = await DashboardBrowser.DefaultProjectIdAsync(app);
        var body = JsonSerializer.Serialize(new { destination_ids = new[] { alpha, bravo } });
        // 31 sessions and 62 deliveries, all created in the same millisecond: only the id orders them.
        var sessions = new List<string>();
        for (var i = 0; i < 31; i++)
        {
            var session = (await app.Client.CreateSessionAsync(body)).SessionId();
            sessions.Add(session);
            await Seed.ImageAsync(app, session, [0xFF, 0xD8, 0xFF, 0xD9]);
        }
        using var browser = await DashboardBrowser.SignInAsync(app);

        var deliveries = await WalkAsync(browser, $"/dashboard/projects/{project}/deliveries", DeliveryLink());
        deliveries.Count.ShouldBe(62);
        deliveries.Distinct().Count().ShouldBe(62);
        var listed = await WalkAsync(browser, $"/dashboard/projects/{project}/sessions", SessionLink());
        listed.Order(StringComparer.Ordinal).ShouldBe(sessions.Order(StringComparer.Ordinal));
    }

    // Follows "Older →" from the first page to the last; the ids of the rows in the order shown.
    private static async Task<List<string>> WalkAsync(DashboardBrowser browser, string first, Regex row)
    {
        var ids = new List<string>();
        var url = first;
        for (var pages = 0; url is not null; pages++)
        {
            pages.ShouldBeLessThan(10);
            var html = await browser.PageAsync(url);
            PageCount().IsMatch(html).ShouldBeFalse("no page count");
            ids.AddRange(row.Matches(html).Select(m => m.Groups[1].Value).Distinct());
            var older = OlderLink().Match(html);
            url = older.Success ? WebUtility.HtmlDecode(older.Groups[1].Value) : null;
        }
        return ids;
    }

    [GeneratedRegex(@"Page \d+ of")]
    private static partial Regex PageCount();

    [GeneratedRegex("href=\"([^\"]+)\" rel=\"next\">Older")]
    private static partial Regex OlderLink();

    [GeneratedRegex("/deliveries/([0-9a-f-]{36})\"")]
    private static partial Regex DeliveryLink();

    [GeneratedRegex("/sessions/([0-9a-f-]{36})\"")]
    private static partial Regex SessionLink();
}
