using System.Net;
using System.Text.Json;
using Apertur.IntegrationTests.Dashboard;
using Apertur.IntegrationTests.EventWebhooks;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.IntegrationTests.Uploads;
using Apertur.Server.Data;
using Apertur.Server.Deliveries;
using Apertur.Server.EventWebhooks;
using Apertur.Server.Retention;
using Apertur.Tests;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;

namespace Apertur.IntegrationTests.Retention;

/// <summary>
/// Records leave the database after <c>Apertur:Retention:Records</c> (docs/operations.md "Retention"): a session with its
/// images, deliveries and attempts once it has expired, its bytes are deleted and nothing is open; events with their webhook
/// deliveries once none is being retried. The usage they counted stays: the stats API and the dashboard's overview answer
/// the same before and after. Records is 2 days here (image bytes 1 day), so what is purged still falls in the 30-day charts.
/// The purge is called directly on a manual clock; the background one waits a year here.
/// </summary>
public sealed class RecordPurgeTests
{
    private static readonly byte[] Jpeg = [0xFF, 0xD8, 0xFF, 0xD9];

    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Apertur:Retention:MaxImageAge"] = "1.00:00:00",
        ["Apertur:Retention:Records"] = "2.00:00:00",
        ["Apertur:Retention:SweepInterval"] = "365.00:00:00",
    };

    [Theory, ClassData(typeof(Databases))]
    public async Task OldSessions_PurgedWithTheirRows_StatsAndDashboardShowTheSameUsage(string database)
    {
        var clock = new ManualClock();
        await using var app = await DashboardBrowser.StartAppAsync(database, Settings, clock);
        using var testClient = app.CreateClient(app.TestKey);
        var alpha = await Seed.DestinationAsync(app, "webhook", "Alpha");
        var bravo = await Seed.DestinationAsync(app, "webhook", "Bravo");
        string To(params Guid[] destinations) => JsonSerializer.Serialize(new { destination_ids = destinations });

        // Last month: two images to two destinations, finished over two days, with their attempts logged.
        clock.Set(new DateTimeOffset(2026, 10, 31, 10, 0, 0, TimeSpan.Zero));
        var s1 = (await app.Client.CreateSessionAsync(To(alpha, bravo))).SessionId();
        var i1 = await Seed.ImageAsync(app, s1, Jpeg);
        var i2 = await Seed.ImageAsync(app, s1, Jpeg);
        await Seed.DeliveryAsync(app, i1, alpha, DeliveryStatus.Sent, 1, null);
        await Seed.DeliveryAsync(app, i1, bravo, DeliveryStatus.Failed, 3, "HTTP 500");
        await Manage.DbAsync(app, async db =>
        {
            foreach (var delivery in await db.Deliveries.Where(d => d.ImageId == i1).ToListAsync())
            {
                db.DeliveryAttempts.Add(new DeliveryAttempt
                {
                    Id = Guid.CreateVersion7(), DeliveryId = delivery.Id, Attempt = 1, StartedAt = delivery.UpdatedAt, Outcome = delivery.Status,
                });
            }
            return await db.SaveChangesAsync();
        });
        clock.Set(new DateTimeOffset(2026, 11, 1, 10, 0, 0, TimeSpan.Zero));
        await Seed.DeliveryAsync(app, i2, alpha, DeliveryStatus.Sent, 1, null);
        await Seed.DeliveryAsync(app, i2, bravo, DeliveryStatus.Sent, 1, null);

        // This month: a polled image acknowledged, a test-mode image, and sessions that must stay.
        var s2 = (await app.Client.CreateSessionAsync("""{"long_polling":true}""")).SessionId();
        var i3 = await Seed.ImageAsync(app, s2, Jpeg);
        using (var ack = await app.Client.PostAsync($"/api/v1/upload-sessions/{s2}/images/{i3}/ack", null))
        {
            ack.StatusCode.ShouldBe(HttpStatusCode.OK);
        }
        var s3 = (await testClient.CreateSessionAsync(To(alpha))).SessionId();
        await Seed.DeliveryAsync(app, await Seed.ImageAsync(app, s3, Jpeg), alpha, DeliveryStatus.Sent, 1, null);
        var bytesKept = (await app.Client.CreateSessionAsync(To(alpha))).SessionId();
        var i5 = await Seed.ImageAsync(app, bytesKept, Jpeg);
        await Seed.DeliveryAsync(app, i5, alpha, DeliveryStatus.Sent, 1, null);
        var stillOpen = (await app.Client.CreateSessionAsync(To(bravo))).SessionId();
        var i6 = await Seed.ImageAsync(app, stillOpen, Jpeg);
        var notExpired = (await app.Client.CreateSessionAsync("""{"expires_in_hours":168}""")).SessionId();
        clock.Set(new DateTimeOffset(2026, 11, 2, 10, 0, 0, TimeSpan.Zero));
        var young = (await app.Client.CreateSessionAsync(To(alpha))).SessionId();
        await Seed.DeliveryAsync(app, await Seed.ImageAsync(app, young, Jpeg), alpha, DeliveryStatus.Sent, 1, null);

        // Every image's bytes are past MaxImageAge; then one session gets its bytes back (a longer retention) and one an open delivery.
        clock.Set(new DateTimeOffset(2026, 11, 3, 12, 0, 0, TimeSpan.Zero));
        var images = app.Services.GetRequiredService<ImageRetention>();
        while (await images.SweepAsync(CancellationToken.None) > 0)
        {
        }
        await Manage.DbAsync(app, db => db.Images.Where(i => i.Id == i5).ExecuteUpdateAsync(s => s.SetProperty(i => i.BytesDeletedAt, (DateTimeOffset?)null)));
        await Manage.DbAsync(app, db => db.Deliveries.Where(d => d.ImageId == i6).ExecuteUpdateAsync(s => s.SetProperty(d => d.Status, DeliveryStatus.Retrying)));

        using var browser = await DashboardBrowser.SignInAsync(app);
        var overview = $"/dashboard/projects/{await DashboardBrowser.DefaultProjectIdAsync(app)}";
        var statsBefore = await StatsAsync(app);
        var usageBefore = Usage(await browser.PageAsync(overview));
        var stats = JsonDocument.Parse(statsBefore).RootElement;
        stats.GetProperty("sessionsTotal").GetInt32().ShouldBe(6);
        stats.GetProperty("sessionsThisMonth").GetInt32().ShouldBe(5);
        stats.GetProperty("imagesUploaded").GetInt32().ShouldBe(6);
        stats.GetProperty("imagesDelivered").GetInt32().ShouldBe(5, "i1, i2, the acknowledged i3, i5 and the young one's");
        statsBefore.ShouldContain("\"deliverySuccessRate\":83.3");
        usageBefore.ShouldContain("Alpha");
        usageBefore.ShouldContain("Bravo");
        usageBefore.ShouldContain("test", Case.Sensitive, "the test-mode section");

        var purge = app.Services.GetRequiredService<RecordPurge>();
        (await purge.PurgeAsync(CancellationToken.None)).ShouldBe(new PurgedRecords(3, 4, 5, 0));

        var purged = new[] { s1, s2, s3 }.Select(Guid.Parse).ToList();
        var kept = new[] { bytesKept, stillOpen, notExpired, young }.Select(Guid.Parse).Order().ToList();
        (await Manage.DbAsync(app, db => db.Sessions.Select(s => s.Id).ToListAsync())).Order().ShouldBe(kept);
        (await Manage.DbAsync(app, db => db.Images.CountAsync(i => purged.Contains(i.SessionId)))).ShouldBe(0);
        (await Manage.DbAsync(app, db => db.Deliveries.CountAsync(d => purged.Contains(d.SessionId)))).ShouldBe(0);
        (await Manage.DbAsync(app, db => db.DeliveryAttempts.CountAsync())).ShouldBe(0);
        (await Manage.DbAsync(app, db => db.SessionDestinations.CountAsync(d => purged.Contains(d.SessionId)))).ShouldBe(0);
        (await Manage.DbAsync(app, db => db.Images.CountAsync())).ShouldBe(3, "i5, i6 and the young one's");

        (await StatsAsync(app)).ShouldBe(statsBefore);
        Usage(await browser.PageAsync(overview)).ShouldBe(usageBefore);

        (await purge.PurgeAsync(CancellationToken.None)).ShouldBe(PurgedRecords.None, "nothing twice");
        (await StatsAsync(app)).ShouldBe(statsBefore);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task ManySessions_PurgedInSmallBatches(string database)
    {
        var clock = new ManualClock();
        await using var app = await TestApp.StartAsync(database, Settings, clock);
        for (var n = 0; n < RecordPurge.SessionBatchSize + 1; n++)
        {
            await app.Client.CreateSessionAsync();
        }
        clock.Advance(TimeSpan.FromDays(2) + TimeSpan.FromMilliseconds(1));
        var purge = app.Services.GetRequiredService<RecordPurge>();

        (await purge.PurgeSessionsAsync(CancellationToken.None)).Sessions.ShouldBe(RecordPurge.SessionBatchSize);
        (await purge.PurgeSessionsAsync(CancellationToken.None)).Sessions.ShouldBe(1);
        (await purge.PurgeSessionsAsync(CancellationToken.None)).ShouldBe(PurgedRecords.None);
        JsonDocument.Parse(await StatsAsync(app)).RootElement.GetProperty("sessionsTotal").GetInt32().ShouldBe(RecordPurge.SessionBatchSize + 1);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task OldEvents_PurgedWithTheirWebhookDeliveries_UnlessStillRetried(string database)
    {
        var clock = new ManualClock();
        await using var app = await TestApp.StartAsync(database, Settings, clock);
        await EventHooks.CreateWebhookAsync(app, """{"url":"http://127.0.0.1:9/hook","topics":["project.session.created"]}""");
        await app.Client.CreateSessionAsync();
        await app.Client.CreateSessionAsync();
        var deliveries = await EventHooks.DeliveriesAsync(app);
        deliveries.Count.ShouldBe(2, "the workers are off: both still queued");
        await Manage.DbAsync(app, db => db.WebhookDeliveries.Where(d => d.Id == deliveries[0].Id)
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.Status, WebhookDeliveryStatus.Sent)));
        var purge = app.Services.GetRequiredService<RecordPurge>();

        clock.Advance(TimeSpan.FromDays(2) - TimeSpan.FromMilliseconds(1));
        (await purge.PurgeEventsAsync(CancellationToken.None)).ShouldBe(0, "not older than Records yet");
        clock.Advance(TimeSpan.FromMilliseconds(2));
        (await purge.PurgeEventsAsync(CancellationToken.None)).ShouldBe(1);
        (await EventHooks.DeliveriesAsync(app)).Select(d => d.Id).ShouldBe([deliveries[1].Id], "the one still retried stays");
        (await Manage.DbAsync(app, db => db.EventLogs.Select(e => e.Id).ToListAsync())).ShouldBe([deliveries[1].EventLogId]);
    }

    private static async Task<string> StatsAsync(TestApp app)
    {
        using var response = await app.Client.GetAsync("/api/v1/stats");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return await response.Content.ReadAsStringAsync();
    }

    // The overview's usage: its figures and charts, from the first figure to the end of the page's content.
    private static string Usage(string html)
    {
        var start = html.IndexOf("<div class=\"stats\">", StringComparison.Ordinal);
        start.ShouldBeGreaterThan(0, "the overview shows usage");
        var end = html.IndexOf("</main>", start, StringComparison.Ordinal);
        return html[start..(end < 0 ? html.Length : end)];
    }
}
