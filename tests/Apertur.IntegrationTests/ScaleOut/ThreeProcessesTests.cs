using System.Net;
using Apertur.IntegrationTests.Deliveries;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.IntegrationTests.Uploads;
using Apertur.Server.Deliveries;
using Apertur.Tests;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Shouldly;
using Xunit.Abstractions;

namespace Apertur.IntegrationTests.ScaleOut;

/// <summary>
/// Three server processes on one PostgreSQL database and one bucket behave as one server (docs/scale-out.md): what one
/// replica takes in, the others announce, serve and deliver; a replica killed mid-delivery loses nothing and its deliveries
/// are finished by the others under the same delivery id; limits hold for the deployment. Timeouts bound the waits.
/// </summary>
public sealed class ThreeProcessesTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Arrival = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task UploadThroughA_EventOnB_DownloadAndAckThroughC_DeliveryStatusPollOnBReturnsWhenADelivers()
    {
        using var s3 = new S3Server();
        var bucket = await s3.NewBucketAsync();
        await using var receiver = await TestReceiver.StartAsync();
        await using var owner = await TestApp.StartAsync(Databases.Postgres, ProcessReplicas.Settings(bucket, DeliveryKit.Settings(
            new Dictionary<string, string?>
            {
                // Long rechecks and polls: only the fan-out between processes can end the held poll or wake the worker quickly.
                ["Apertur:Delivery:PollInterval"] = "00:01:00",
                ["Apertur:Polling:DeliveryStatusHold"] = "00:01:00",
                ["Apertur:Polling:DeliveryStatusRecheck"] = "00:01:00",
            })));
        var destination = await DeliveryKit.WebhookAsync(owner, receiver.Url());
        var uuid = (await owner.Client.CreateSessionAsync($$"""{"destination_ids":["{{destination}}"],"long_polling":true}""")).SessionId();
        // Only A delivers.
        await using var replicas = await ProcessReplicas.StartAsync(owner, bucket, 3,
            i => new Dictionary<string, string?> { ["Apertur:Workers:Enabled"] = i == 0 ? "true" : "false" });
        var (a, b, c) = (replicas[0], replicas[1], replicas[2]);

        await using var stream = await SseReader.OpenAsync(b.Anonymous(), $"/api/v1/upload/{uuid}/events");
        (await stream.NextFrameAsync()).ShouldStartWith("event: connected\n");
        var lastChanged = (await (await b.Client.GetAsync($"/api/v1/upload-sessions/{uuid}/delivery-status")).ReadJsonAsync())
            .GetProperty("lastChanged").GetString()!;
        var held = b.Client.GetAsync($"/api/v1/upload-sessions/{uuid}/delivery-status?pollFrom={Uri.EscapeDataString(lastChanged)}");

        using var phone = a.Anonymous();
        var imageId = (await phone.UploadOkAsync(uuid, "small.jpg")).GetProperty("id").GetString()!;

        (await stream.NextFrameAsync(Arrival)).ShouldStartWith($"event: image:ready\ndata: {{\"imageId\":\"{imageId}\"", customMessage: replicas.Output);
        // B's held polls return on A's changes only (its own recheck is a minute away): the upload, then the delivery's
        // steps, until the snapshot says sent.
        var polls = 0;
        while (true)
        {
            using var answer = await held.WaitAsync(Arrival);
            answer.StatusCode.ShouldBe(HttpStatusCode.OK);
            var snapshot = await answer.ReadJsonAsync();
            polls++;
            if (snapshot.GetRawText().Contains("\"status\":\"sent\"", StringComparison.Ordinal))
            {
                break;
            }
            polls.ShouldBeLessThan(5, snapshot.GetRawText());
            lastChanged = snapshot.GetProperty("lastChanged").GetString()!;
            held = b.Client.GetAsync($"/api/v1/upload-sessions/{uuid}/delivery-status?pollFrom={Uri.EscapeDataString(lastChanged)}");
        }
        receiver.Requests.Count.ShouldBe(1);

        using var listed = await c.Client.GetAsync($"/api/v1/upload-sessions/{uuid}/poll");
        (await listed.Content.ReadAsStringAsync()).ShouldContain(imageId);
        using var download = await c.Client.GetAsync($"/api/v1/upload-sessions/{uuid}/images/{imageId}");
        var bytes = await download.Content.ReadAsByteArrayAsync();
        bytes.ShouldBe(Fixture.Bytes("small.jpg"));
        (await s3.GetAsync(bucket, $"images/{Guid.Parse(imageId):N}")).ShouldBe(bytes, "the bytes in the bucket");
        using var ack = await c.Client.PostAsync($"/api/v1/upload-sessions/{uuid}/images/{imageId}/ack", null);
        ack.StatusCode.ShouldBe(HttpStatusCode.OK);
        // C's acknowledgement reaches B's stream too.
        await Wait.UntilAsync(async () => (await stream.NextFrameAsync(Arrival)).StartsWith("event: session:updated\n", StringComparison.Ordinal),
            Arrival, "session:updated on B after C's ack");
    }

    [Fact]
    public async Task TwoHundredUploadsOverThreeReplicas_OneKilledMidDelivery_EveryDestinationGetsEveryImageUnderOneDeliveryId()
    {
        const int Sessions = 4, PerSession = 50;
        using var s3 = new S3Server();
        var bucket = await s3.NewBucketAsync();
        await using var first = await TestReceiver.StartAsync();
        await using var second = await TestReceiver.StartAsync();
        foreach (var receiver in new[] { first, second })
        {
            // Slow answers: every replica has several deliveries in flight when one is killed.
            receiver.Respond = async (context, _) =>
            {
                await Task.Delay(300, context.RequestAborted);
                await context.Response.WriteAsync("ok");
            };
        }
        await using var owner = await TestApp.StartAsync(Databases.Postgres, ProcessReplicas.Settings(bucket, DeliveryKit.Settings(
            new Dictionary<string, string?> { ["Apertur:Workers:Enabled"] = "false" })));
        var destinations = new[]
        {
            await DeliveryKit.WebhookAsync(owner, first.Url(), name: "First"),
            await DeliveryKit.WebhookAsync(owner, second.Url(), name: "Second"),
        };
        var sessions = new List<string>();
        for (var i = 0; i < Sessions; i++)
        {
            sessions.Add(await DeliveryKit.SessionAsync(owner, destinations));
        }
        await using var replicas = await ProcessReplicas.StartAsync(owner, bucket, 3, _ => new Dictionary<string, string?>
        {
            ["Apertur:Workers:Enabled"] = "true",
            ["Apertur:Delivery:Concurrency"] = "4",
            ["Apertur:Delivery:AttemptTimeout"] = "00:00:02",
            ["Apertur:Delivery:Lease"] = "00:00:04",
        });

        // 200 uploads, spread over the three replicas as a balancer would, eight at a time.
        var uploads = Enumerable.Range(0, Sessions * PerSession).ToList();
        var uploaded = new System.Collections.Concurrent.ConcurrentBag<Guid>();
        await Parallel.ForEachAsync(uploads, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (n, _) =>
        {
            using var phone = replicas[n % 3].Anonymous();
            try
            {
                var answer = await phone.UploadOkAsync(sessions[n % Sessions], "small.jpg");
                uploaded.Add(Guid.Parse(answer.GetProperty("id").GetString()!));
            }
            catch (InvalidOperationException e)
            {
                throw new InvalidOperationException($"{e.Message} from {replicas[n % 3]}\n{replicas.Output}", e);
            }
        });

        // Kill B once a quarter of the deliveries are done.
        await Wait.UntilAsync(() => Task.FromResult(first.Requests.Count + second.Requests.Count >= 100), TimeSpan.FromSeconds(60),
            "a quarter of the deliveries");
        var killed = replicas[1];
        await killed.Process.KillAsync();
        var killedAt = (First: first.Now, Second: second.Now);
        output.WriteLine($"killed {killed} after {first.Requests.Count} + {second.Requests.Count} requests");

        await Wait.UntilAsync(async () => await owner.ReadStorageAsync(db => db.Deliveries.CountAsync(d => d.Status == DeliveryStatus.Sent))
            == 2 * uploaded.Count, TimeSpan.FromSeconds(120), "every delivery sent by the survivors");

        var deliveries = await owner.ReadStorageAsync(db => db.Deliveries.AsNoTracking().ToListAsync());
        deliveries.Count.ShouldBe(2 * uploaded.Count);
        var taken = 0;
        foreach (var (receiver, destination, killedAtReceiver) in new[] { (first, destinations[0], killedAt.First), (second, destinations[1], killedAt.Second) })
        {
            var expected = deliveries.Where(d => d.DestinationId == destination).ToDictionary(d => d.Id, d => d.ImageId);
            expected.Values.Order().ShouldBe(uploaded.Order(), $"one delivery per image to {destination}");
            var seen = receiver.Requests.GroupBy(r => Guid.Parse(r.DeliveryId)).ToDictionary(g => g.Key, g => g.OrderBy(r => r.Number).ToList());
            // Every image arrives, each under its one delivery id: a receiver that keeps the first of each id has each image once.
            seen.Keys.Order().ShouldBe(expected.Keys.Order(), "the delivery ids that arrived are exactly the deliveries, none missing, none extra");
            foreach (var (id, requests) in seen)
            {
                requests.ShouldContain(r => r.AnsweredStatus == 200, $"delivery {id} answered 2xx at least once");
                requests.Select(r => r.Header("X-Aptr-Image-Id")).Distinct().ShouldHaveSingleItem().ShouldBe(expected[id].ToString());
                if (requests.Count > 1)
                {
                    // Only a request in flight at the kill comes again, and it comes again once.
                    requests.Count.ShouldBe(2, $"delivery {id}");
                    requests[0].ArrivedAt.ShouldBeLessThan(killedAtReceiver, $"delivery {id} came twice but was not in flight at the kill");
                    taken++;
                }
            }
        }
        output.WriteLine($"{taken} deliveries of the killed replica finished by the survivors under the same delivery id");
        taken.ShouldBeGreaterThan(0, "the killed replica had deliveries in flight that the survivors finished");
    }

    [Fact]
    public async Task The31stUploadToOneSessionWithinAMinute_Is429OnEveryReplica()
    {
        using var s3 = new S3Server();
        var bucket = await s3.NewBucketAsync();
        // The documented limit: 30 uploads per session per minute (the per-address limit is higher).
        await using var owner = await TestApp.StartAsync(Databases.Postgres, ProcessReplicas.Settings(bucket));
        var uuid = (await owner.Client.CreateSessionAsync("""{"max_images":50}""")).SessionId();
        await using var replicas = await ProcessReplicas.StartAsync(owner, bucket, 3);

        // Limits count fixed one-minute windows on UTC minute boundaries, and real processes run on the real clock: start
        // with half a minute or more left in the window, so the 33 uploads all fall in one window.
        var now = TimeProvider.System.GetUtcNow();
        var left = TimeSpan.FromMinutes(1) - TimeSpan.FromMilliseconds(now.ToUnixTimeMilliseconds() % 60_000);
        if (left < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(left + TimeSpan.FromMilliseconds(100));
        }
        var windowEnds = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds() / 60_000 * 60_000 + 60_000;
        for (var n = 0; n < 30; n++)
        {
            using var phone = replicas[n % 3].Anonymous();
            await phone.UploadOkAsync(uuid, "small.jpg");
        }
        foreach (var replica in replicas.Replicas)
        {
            using var phone = replica.Anonymous();
            using var refused = await phone.UploadAsync(uuid, Fixture.Bytes("small.jpg"), "small.jpg");
            refused.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests, replica.ToString());
            refused.Headers.RetryAfter.ShouldNotBeNull(replica.ToString());
            refused.Headers.GetValues("X-RateLimit-Remaining").Single().ShouldBe("0", replica.ToString());
        }
        TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds().ShouldBeLessThan(windowEnds, "the uploads took more than half a minute: the test is void");
    }
}
