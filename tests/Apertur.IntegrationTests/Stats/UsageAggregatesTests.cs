using System.Globalization;
using System.Net;
using System.Text.Json;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.IntegrationTests.Uploads;
using Apertur.Server.Data;
using Apertur.Server.Deliveries;
using Apertur.Server.Retention;
using Apertur.Server.Stats;
using Apertur.Tests;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using Xunit;

namespace Apertur.IntegrationTests.Stats;

/// <summary>
/// The daily usage the stats read (usage_days, usage_destination_days; docs/performance.md "Usage aggregates") equals a recount
/// from the rows after every kind of change: sessions created, uploads, deliveries sent and failed, retries, acknowledgements,
/// a session erased, image bytes deleted by retention; and the record purge, which deletes rows, changes none of it.
/// </summary>
public sealed class UsageAggregatesTests
{
    private static readonly byte[] Jpeg = [0xFF, 0xD8, 0xFF, 0xD9];

    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Apertur:Retention:MaxImageAge"] = "1.00:00:00",
        ["Apertur:Retention:Records"] = "3.00:00:00",
        ["Apertur:Retention:SweepInterval"] = "365.00:00:00",
    };

    [Theory, ClassData(typeof(Databases))]
    public async Task DailyUsage_EqualsARecountFromTheRows_AfterEveryChange_AndThePurgeKeepsIt(string database)
    {
        var clock = new ManualClock();
        await using var app = await TestApp.StartAsync(database, Settings, clock);
        using var testClient = app.CreateClient(app.TestKey);
        var alpha = await Seed.DestinationAsync(app, "webhook", "Alpha");
        var bravo = await Seed.DestinationAsync(app, "webhook", "Bravo");
        string To(params Guid[] destinations) => JsonSerializer.Serialize(new { destination_ids = destinations });

        // Day 1, just before midnight: sessions of both environments, real uploads and seeded ones.
        clock.Set(new DateTimeOffset(2026, 11, 1, 23, 59, 0, TimeSpan.Zero));
        var a = (await app.Client.CreateSessionAsync(To(alpha, bravo))).SessionId();
        var polled = (await app.Client.CreateSessionAsync("""{"long_polling":true}""")).SessionId();
        var t = (await testClient.CreateSessionAsync(To(alpha))).SessionId();
        var a1 = Guid.Parse((await app.Client.UploadOkAsync(a, "small.jpg")).GetProperty("id").GetString()!);
        var a2 = await Seed.ImageAsync(app, a, Jpeg);
        var p1 = await Seed.ImageAsync(app, polled, Jpeg);
        var t1 = await Seed.ImageAsync(app, t, Jpeg);
        await ShouldMatchRecountAsync(app, "uploads");

        // Day 2: outcomes; an image with two sent deliveries counts once as delivered; an acknowledgement delivers.
        clock.Set(new DateTimeOffset(2026, 11, 2, 8, 0, 0, TimeSpan.Zero));
        await Seed.DeliveryAsync(app, a1, alpha, DeliveryStatus.Sent, 1, null);
        await Seed.DeliveryAsync(app, a1, bravo, DeliveryStatus.Failed, 9, "HTTP 500");
        await Seed.DeliveryAsync(app, a2, alpha, DeliveryStatus.Failed, 9, "HTTP 500");
        await Seed.DeliveryAsync(app, a2, bravo, DeliveryStatus.Failed, 9, "HTTP 500");
        await Seed.DeliveryAsync(app, t1, alpha, DeliveryStatus.Sent, 1, null);
        using (var ack = await app.Client.PostAsync($"/api/v1/upload-sessions/{polled}/images/{p1}/ack", null))
        {
            ack.StatusCode.ShouldBe(HttpStatusCode.OK);
        }
        await ShouldMatchRecountAsync(app, "outcomes and an acknowledgement");

        // Day 3: every failure retried (it leaves "failed" on day 2), then new outcomes on day 3; a second sent delivery of a2.
        clock.Set(new DateTimeOffset(2026, 11, 3, 9, 0, 0, TimeSpan.Zero));
        using (var retry = await app.Client.PostAsync("/api/v1/deliveries/retry-failed", null))
        {
            retry.StatusCode.ShouldBe(HttpStatusCode.OK);
        }
        await ShouldMatchRecountAsync(app, "retries");
        await Seed.DeliveryAsync(app, a2, alpha, DeliveryStatus.Sent, 1, null);
        await Seed.DeliveryAsync(app, a2, bravo, DeliveryStatus.Sent, 2, null);
        await Seed.DeliveryAsync(app, a1, bravo, DeliveryStatus.Failed, 9, "HTTP 410");
        await ShouldMatchRecountAsync(app, "outcomes after the retries");

        // A session erased on demand (its open deliveries cancelled), image bytes past their retention.
        var erased = (await app.Client.CreateSessionAsync(To(alpha))).SessionId();
        await Seed.ImageAsync(app, erased, Jpeg);
        (await app.Client.DeleteAsync($"/api/v1/upload-sessions/{erased}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        await ShouldMatchRecountAsync(app, "a session erased");
        clock.Set(new DateTimeOffset(2026, 11, 5, 9, 0, 0, TimeSpan.Zero));
        var retention = app.Services.GetRequiredService<ImageRetention>();
        while (await retention.SweepAsync(CancellationToken.None) > 0)
        {
        }
        var before = await ShouldMatchRecountAsync(app, "image retention");

        // The purge deletes the old sessions' rows; the usage stays what it was, and later changes are counted on top.
        clock.Set(new DateTimeOffset(2026, 11, 20, 9, 0, 0, TimeSpan.Zero));
        var purged = await app.Services.GetRequiredService<RecordPurge>().PurgeAsync(CancellationToken.None);
        purged.Sessions.ShouldBeGreaterThan(0);
        (await RecountAsync(app)).Days.ShouldNotBe(before.Days, "rows were purged");
        ShouldBeSame(await AggregatesAsync(app), before, "the purge removes records, not usage");
        var late = (await app.Client.CreateSessionAsync(To(bravo))).SessionId();
        var l1 = await Seed.ImageAsync(app, late, Jpeg);
        await Seed.DeliveryAsync(app, l1, bravo, DeliveryStatus.Sent, 1, null);
        ShouldBeSame(await AggregatesAsync(app), Add(before, await RecountAsync(app)), "the purged usage plus a recount of the rows left");
    }

    /// <summary>The daily usage, each row as text, all-zero rows left out (a retried day can fall back to zero).</summary>
    private sealed record Usage(List<string> Days, List<string> Destinations);

    // Before the roll-up (day rows plus pending deltas), then after it (the deltas moved into the day rows, none left).
    private static async Task<Usage> ShouldMatchRecountAsync(TestApp app, string after)
    {
        var recount = await RecountAsync(app);
        ShouldBeSame(await AggregatesAsync(app), recount, $"after {after}, before the roll-up");
        await app.Services.GetRequiredService<UsageRollup>().RollUpAsync(CancellationToken.None);
        (await Manage.DbAsync(app, db => db.UsageDeltas.CountAsync())).ShouldBe(0, "the roll-up moves every delta");
        var aggregates = await AggregatesAsync(app);
        ShouldBeSame(aggregates, recount, $"after {after}, after the roll-up");
        return aggregates;
    }

    private static void ShouldBeSame(Usage actual, Usage expected, string because)
    {
        actual.Days.ShouldBe(expected.Days, $"usage_days {because}");
        actual.Destinations.ShouldBe(expected.Destinations, $"usage_destination_days {because}");
    }

    // The day rows plus the deltas not rolled up yet: what the stats read.
    private static Task<Usage> AggregatesAsync(TestApp app) => Manage.DbAsync(app, async db =>
    {
        var days = (await db.DailyUsage.AsNoTracking().ToListAsync())
            .Select(u => Day(u.ProjectId, u.Env, u.Day, [u.Sessions, u.ImagesUploaded, u.ImagesDelivered, u.DeliveriesSent, u.DeliveriesFailed]));
        var destinations = (await db.DestinationDailyUsage.AsNoTracking().ToListAsync())
            .Select(u => Destination(u.ProjectId, u.Env, u.Day, u.DestinationId, [u.DeliveriesSent, u.DeliveriesFailed]));
        var deltas = await db.UsageDeltas.AsNoTracking().ToListAsync();
        var dayDeltas = deltas.Where(d => d.DestinationId is null)
            .Select(d => Day(d.ProjectId, d.Env, d.Day, [d.Sessions, d.ImagesUploaded, d.ImagesDelivered, d.DeliveriesSent, d.DeliveriesFailed]));
        var destinationDeltas = deltas.Where(d => d.DestinationId is not null)
            .Select(d => Destination(d.ProjectId, d.Env, d.Day, d.DestinationId!.Value, [d.DeliveriesSent, d.DeliveriesFailed]));
        return Add(new Usage(Rows(days), Rows(destinations)), new Usage(Rows(dayDeltas), Rows(destinationDeltas)));
    });

    // Counted from the rows with the stats' definitions, not with the triggers' delivered_at: a delivered image is one sent to
    // a destination or acknowledged; a finished delivery counts on the day of its last update, and per destination on its
    // image's upload day.
    private static Task<Usage> RecountAsync(TestApp app) => Manage.DbAsync(app, async db =>
    {
        var sessions = await db.Sessions.AsNoTracking().Select(s => new { s.ProjectId, s.Env, s.CreatedAt }).ToListAsync();
        var images = await db.Images.AsNoTracking().Select(i => new { i.Id, i.ProjectId, i.Env, i.CreatedAt, i.AcknowledgedAt }).ToListAsync();
        var deliveries = await db.Deliveries.AsNoTracking().Select(d => new { d.ImageId, d.DestinationId, d.Status, d.UpdatedAt }).ToListAsync();
        var sent = deliveries.Where(d => d.Status == DeliveryStatus.Sent).Select(d => d.ImageId).ToHashSet();
        var imageById = images.ToDictionary(i => i.Id);
        var finished = deliveries.Where(d => d.Status is DeliveryStatus.Sent or DeliveryStatus.Failed)
            .Select(d => (d, Image: imageById[d.ImageId])).ToList();

        var counts = new Dictionary<(Guid, string, DateOnly), int[]>();
        void Count(Guid project, string env, DateTimeOffset at, int column)
        {
            var key = (project, env, DateOnly.FromDateTime(at.UtcDateTime));
            (counts.TryGetValue(key, out var row) ? row : counts[key] = new int[5])[column]++;
        }
        sessions.ForEach(s => Count(s.ProjectId, s.Env, s.CreatedAt, 0));
        images.ForEach(i => Count(i.ProjectId, i.Env, i.CreatedAt, 1));
        images.Where(i => i.AcknowledgedAt is not null || sent.Contains(i.Id)).ToList().ForEach(i => Count(i.ProjectId, i.Env, i.CreatedAt, 2));
        finished.ForEach(f => Count(f.Image.ProjectId, f.Image.Env, f.d.UpdatedAt, f.d.Status == DeliveryStatus.Sent ? 3 : 4));
        var destinations = finished
            .GroupBy(f => (f.Image.ProjectId, f.Image.Env, Day: DateOnly.FromDateTime(f.Image.CreatedAt.UtcDateTime), f.d.DestinationId))
            .Select(g => Destination(g.Key.ProjectId, g.Key.Env, g.Key.Day, g.Key.DestinationId,
                [g.Count(f => f.d.Status == DeliveryStatus.Sent), g.Count(f => f.d.Status == DeliveryStatus.Failed)]));
        return new Usage(Rows(counts.Select(c => Day(c.Key.Item1, c.Key.Item2, c.Key.Item3, c.Value))), Rows(destinations));
    });

    // Adds two usages row by row (the key is everything before the counts).
    private static Usage Add(Usage a, Usage b)
    {
        static List<string> Sum(List<string> x, List<string> y) => Rows(x.Concat(y)
            .Select(r => (Key: r[..r.LastIndexOf(' ')], Counts: r[(r.LastIndexOf(' ') + 1)..].Split(',').Select(int.Parse).ToArray()))
            .GroupBy(r => r.Key)
            .Select(g => $"{g.Key} {string.Join(',', g.Select(r => r.Counts).Aggregate((p, q) => p.Zip(q, (m, n) => m + n).ToArray()))}"));
        return new Usage(Sum(a.Days, b.Days), Sum(a.Destinations, b.Destinations));
    }

    private static string Day(Guid project, string env, DateOnly day, int[] counts) =>
        $"{project} {env} {day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)} {string.Join(',', counts)}";

    private static string Destination(Guid project, string env, DateOnly day, Guid destination, int[] counts) =>
        $"{project} {env} {day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)} {destination} {string.Join(',', counts)}";

    private static List<string> Rows(IEnumerable<string> rows) =>
        rows.Where(r => r[(r.LastIndexOf(' ') + 1)..].Split(',').Any(c => c != "0")).Order(StringComparer.Ordinal).ToList();
}
