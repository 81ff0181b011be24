using System.Text.Json;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.IntegrationTests.Uploads;
using Apertur.Server.Data;
using Apertur.Tests;
using Microsoft.EntityFrameworkCore;
using Shouldly;
using Xunit;

namespace Apertur.IntegrationTests.Hosting;

/// <summary>
/// The API's numbered lists (sessions, deliveries, uploads history) read a page in the older half from the other end of the
/// index (Hosting/OffsetPage.cs; docs/performance.md "Which index serves which page"): every page — first, middle, last,
/// partial last, beyond the last — holds the rows of the OFFSET walk from the newest end, in its order, with rows created at
/// the same millisecond ordered by their id as before; the total is the same.
/// </summary>
public sealed class OffsetPageTests
{
    private static readonly byte[] Jpeg = [0xFF, 0xD8, 0xFF, 0xD9];

    [Theory, ClassData(typeof(Databases))]
    public async Task EveryPage_HoldsTheRowsOfTheOffsetWalk_InItsOrder(string database)
    {
        var clock = new ManualClock();
        await using var app = await TestApp.StartAsync(database, null, clock);
        var alpha = await Seed.DestinationAsync(app, "webhook", "Alpha");
        var bravo = await Seed.DestinationAsync(app, "webhook", "Bravo");
        var to = JsonSerializer.Serialize(new { destination_ids = new[] { alpha, bravo } });
        // 23 sessions and 11 images (22 deliveries), three or four at a time on the same millisecond.
        string? first = null;
        for (var i = 0; i < 23; i++)
        {
            var session = (await app.Client.CreateSessionAsync(to)).SessionId();
            first ??= session;
            if (i % 4 == 3)
            {
                clock.Advance(TimeSpan.FromMilliseconds(1));
            }
        }
        for (var i = 0; i < 11; i++)
        {
            await Seed.ImageAsync(app, first!, Jpeg);
            if (i % 3 == 2)
            {
                clock.Advance(TimeSpan.FromMilliseconds(1));
            }
        }

        var sessions = await Manage.DbAsync(app, db => db.Sessions.AsNoTracking()
            .OrderByDescending(s => s.CreatedAt).ThenByDescending(s => s.Id).Select(s => s.Id).ToListAsync());
        var deliveries = await Manage.DbAsync(app, db => db.Deliveries.AsNoTracking()
            .OrderByDescending(d => d.CreatedAt).ThenByDescending(d => d.Id).Select(d => d.Id).ToListAsync());
        var images = await Manage.DbAsync(app, db => db.Images.AsNoTracking()
            .OrderByDescending(i => i.CreatedAt).ThenByDescending(i => i.Id).Select(i => i.Id).ToListAsync());
        (sessions.Count, deliveries.Count, images.Count).ShouldBe((23, 22, 11));

        await ShouldPageLikeTheWalkAsync(app, "/api/v1/sessions", sessions, [5, 7, 23, 100]);
        await ShouldPageLikeTheWalkAsync(app, "/api/v1/deliveries", deliveries, [5, 4, 22]);
        await ShouldPageLikeTheWalkAsync(app, "/api/v1/uploads", images, [3, 4]);
    }

    private static async Task ShouldPageLikeTheWalkAsync(TestApp app, string route, List<Guid> walk, int[] sizes)
    {
        foreach (var size in sizes)
        {
            var pages = (walk.Count + size - 1) / size;
            for (var page = 1; page <= pages + 1; page++)
            {
                using var response = await app.Client.GetAsync($"{route}?page={page}&pageSize={size}");
                response.EnsureSuccessStatusCode();
                using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                var ids = body.RootElement.GetProperty("data").EnumerateArray().Select(r => Guid.Parse(r.GetProperty("id").GetString()!)).ToList();
                var expected = walk.Skip((page - 1) * size).Take(size).ToList();
                ids.ShouldBe(expected, $"{route} page {page} of size {size}");
                body.RootElement.GetProperty("total").GetInt32().ShouldBe(walk.Count);
            }
        }
    }
}
