using System.Collections.Concurrent;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Server.Data;
using Apertur.Server.Deliveries;
using Apertur.Server.Destinations;
using Apertur.Server.Queues;
using Apertur.Tests;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;

namespace Apertur.IntegrationTests.Deliveries;

/// <summary>The claim query and the lease-guarded writes, on each database, with no worker running.</summary>
public sealed class DeliveryQueueTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);

    private static async Task<List<Guid>> SeedDeliveriesAsync(TestApp app, int images)
    {
        var destination = await Seed.DestinationAsync(app, "webhook", "Hook", """{"url":"http://127.0.0.1:9/hook"}""");
        var created = await app.Client.CreateSessionAsync($$"""{"destination_ids":["{{destination}}"],"max_images":50}""");
        var sessionId = created.GetProperty("uuid").GetString()!;
        var ids = new List<Guid>();
        for (var i = 0; i < images; i++)
        {
            var imageId = await Seed.ImageAsync(app, sessionId, [0xFF, 0xD8, 0xFF, (byte)i]);
            ids.Add((await DeliveryKit.DeliveryOfAsync(app, imageId)).Id);
        }
        return ids;
    }

    private static async Task<LeaseClaim> ClaimAsync(TestApp app, int max)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<LeaseQueue>().ClaimAsync(DeliveryWorker.Outbox, max, Lease, CancellationToken.None);
    }

    /// <summary>Writes a "sent" outcome the way the worker does, under the given lease token.</summary>
    private static async Task<bool> CompleteAsync(TestApp app, Guid deliveryId, Guid leaseToken)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
        var work = await DeliveryWork.LoadAsync(db, new LeaseClaim(leaseToken, [deliveryId]), CancellationToken.None);
        var delivery = await db.Deliveries.AsNoTracking().SingleAsync(d => d.Id == deliveryId);
        var image = await db.Images.AsNoTracking().SingleAsync(i => i.Id == delivery.ImageId);
        var session = await db.Sessions.AsNoTracking().SingleAsync(s => s.Id == delivery.SessionId);
        var project = await db.Projects.AsNoTracking().SingleAsync(p => p.Id == session.ProjectId);
        var item = work.SingleOrDefault() ?? new DeliveryWork(delivery, image, session, project, null);
        var now = app.Clock!.GetUtcNow();
        var outcome = new DeliveryOutcome(DeliveryStatus.Sent, delivery.Attempts + 1, null, 200, now, now, "ref", DeliveryOutcome.Sent, null);
        var written = await DeliveryRecorder.WriteAsync(db, [new RecordedAttempt(item, leaseToken, now, TimeSpan.FromMilliseconds(5), outcome)], now, CancellationToken.None);
        return written.Count == 1;
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task ClaimDue_LeaseExpired_ClaimedAgainAndTheStaleHoldersCompletionIsIgnored(string database)
    {
        var clock = new ManualClock();
        await using var app = await TestApp.StartAsync(database, clock: clock);
        var id = (await SeedDeliveriesAsync(app, 1)).Single();

        var first = await ClaimAsync(app, 10);
        first.Ids.ShouldBe([id]);
        var held = await DeliveryKit.DeliveryOfAsync(app, (await FirstImageAsync(app)));
        held.Status.ShouldBe(DeliveryStatus.Sending);
        held.LeaseExpiresAt.ShouldBe(clock.GetUtcNow() + Lease);

        // Held: nobody else gets it, even just before the lease ends.
        clock.Advance(Lease - TimeSpan.FromSeconds(1));
        (await ClaimAsync(app, 10)).Ids.ShouldBeEmpty();

        // Expired (its worker died): another claimer takes it under a new token.
        clock.Advance(TimeSpan.FromSeconds(2));
        var second = await ClaimAsync(app, 10);
        second.Ids.ShouldBe([id]);
        second.LeaseToken.ShouldNotBe(first.LeaseToken);

        (await CompleteAsync(app, id, first.LeaseToken)).ShouldBeFalse();
        var afterStale = await DeliveryKit.DeliveryOfAsync(app, await FirstImageAsync(app));
        afterStale.Status.ShouldBe(DeliveryStatus.Sending);
        afterStale.LeaseToken.ShouldBe(second.LeaseToken);
        (await DeliveryKit.AttemptsOfAsync(app, id)).ShouldBeEmpty();

        (await CompleteAsync(app, id, second.LeaseToken)).ShouldBeTrue();
        var done = await DeliveryKit.DeliveryOfAsync(app, await FirstImageAsync(app));
        done.Status.ShouldBe(DeliveryStatus.Sent);
        done.LeaseToken.ShouldBeNull();
        (await DeliveryKit.AttemptsOfAsync(app, id)).ShouldHaveSingleItem();
        (await ClaimAsync(app, 10)).Ids.ShouldBeEmpty();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task ClaimDue_NotYetDueOrFinished_NotClaimed_OldestDueFirst(string database)
    {
        var clock = new ManualClock();
        await using var app = await TestApp.StartAsync(database, clock: clock);
        var ids = await SeedDeliveriesAsync(app, 4);
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
            var now = clock.GetUtcNow();
            await db.Deliveries.Where(d => d.Id == ids[0]).ExecuteUpdateAsync(s => s.SetProperty(d => d.Status, DeliveryStatus.Sent));
            await db.Deliveries.Where(d => d.Id == ids[1]).ExecuteUpdateAsync(s => s.SetProperty(d => d.Status, DeliveryStatus.Failed));
            await db.Deliveries.Where(d => d.Id == ids[2]).ExecuteUpdateAsync(s => s
                .SetProperty(d => d.Status, DeliveryStatus.Retrying).SetProperty(d => d.NextAttemptAt, now + TimeSpan.FromMinutes(1)));
            await db.Deliveries.Where(d => d.Id == ids[3]).ExecuteUpdateAsync(s => s.SetProperty(d => d.NextAttemptAt, now - TimeSpan.FromSeconds(1)));
        }

        (await ClaimAsync(app, 10)).Ids.ShouldBe([ids[3]]);
        clock.Advance(TimeSpan.FromMinutes(1));
        (await ClaimAsync(app, 10)).Ids.ShouldBe([ids[2]]);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task ClaimDue_ConcurrentClaimers_NeverClaimTheSameRow(string database)
    {
        var clock = new ManualClock();
        await using var app = await TestApp.StartAsync(database, clock: clock);
        var ids = await SeedDeliveriesAsync(app, 40);

        var claimed = new ConcurrentBag<Guid>();
        var claimers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (true)
            {
                var claim = await ClaimAsync(app, 3);
                if (claim.Ids.Count == 0)
                {
                    return;
                }
                foreach (var id in claim.Ids)
                {
                    claimed.Add(id);
                }
            }
        })).ToArray();
        await Task.WhenAll(claimers);

        claimed.Count.ShouldBe(ids.Count);
        claimed.Order().ShouldBe(ids.Order());
    }

    private static async Task<Guid> FirstImageAsync(TestApp app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<AperturDb>().Images.Select(i => i.Id).FirstAsync();
    }
}
