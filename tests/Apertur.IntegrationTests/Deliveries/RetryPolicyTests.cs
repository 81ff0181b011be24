using System.Net;
using System.Net.Sockets;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Server.Delivery;
using Apertur.Server.Events;
using Apertur.Tests;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;

namespace Apertur.IntegrationTests.Deliveries;

/// <summary>
/// Failing receivers get exactly the retries the policy promises, in order, on a fake clock: the test reads each
/// scheduled time, moves the clock there and nudges the worker.
/// </summary>
public sealed class RetryPolicyTests
{
    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);

    /// <summary>Drives the delivery of one image until it stops retrying; returns the waits it was scheduled with.</summary>
    private static async Task<(Server.Delivery.Delivery Final, List<TimeSpan> Waits)> DriveAsync(TestApp app, ManualClock clock, Guid imageId, int maxAttempts = 40)
    {
        var waits = new List<TimeSpan>();
        var delivery = await DeliveryKit.WaitForAttemptsAsync(app, imageId, 1);
        while (delivery.Status == DeliveryStatus.Retrying && delivery.Attempts < maxAttempts)
        {
            waits.Add(delivery.NextAttemptAt - clock.GetUtcNow());
            clock.Set(delivery.NextAttemptAt);
            DeliveryKit.Nudge(app);
            delivery = await DeliveryKit.WaitForAttemptsAsync(app, imageId, delivery.Attempts + 1);
        }
        return (delivery, waits);
    }

    private static async Task<(TestApp App, Guid ImageId, string SessionId)> UploadToAsync(string database, ManualClock clock, Uri url,
        IDictionary<string, string?>? extra = null, string type = "webhook")
    {
        var app = await DeliveryKit.StartAsync(database, clock, extra);
        var destination = type == "webhook"
            ? await DeliveryKit.WebhookAsync(app, url)
            : await Seed.DestinationAsync(app, type, "Archive", """{"bucket":"photos"}""");
        var sessionId = await DeliveryKit.SessionAsync(app, destination);
        return (app, await DeliveryKit.UploadAsync(app, sessionId), sessionId);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Receiver500_RetriedOnTheDefaultScheduleUntilTheWindowEnds_ThenFailedAndEmailedOnce(string database)
    {
        await using var receiver = await TestReceiver.StartAsync();
        receiver.Respond = async (context, _) =>
        {
            context.Response.StatusCode = 500;
            await context.Response.WriteAsync("database on fire");
        };
        var clock = new ManualClock();
        var address = Maildev.NewAddress();
        var (app, imageId, sessionId) = await UploadToAsync(database, clock, receiver.Url(), Maildev.Settings(address));
        await using var _ = app;
        using var events = app.Services.GetRequiredService<SessionEventHub>().Subscribe(Guid.Parse(sessionId));

        var (final, waits) = await DriveAsync(app, clock, imageId);

        // 30 s, 5 min, 30 min, 2 h, 6 h, then every 6 h while the 3-day window has room: 16 attempts in all.
        TimeSpan[] expected = [S(30), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30), TimeSpan.FromHours(2), .. Enumerable.Repeat(TimeSpan.FromHours(6), 11)];
        waits.ShouldBe(expected);
        final.Status.ShouldBe(DeliveryStatus.Failed);
        final.Attempts.ShouldBe(16);
        final.LastStatusCode.ShouldBe(500);
        final.LastError.ShouldBe("Receiver answered 500 Internal Server Error (gave up after 16 attempts: the retry window ended)");
        receiver.Requests.Count.ShouldBe(16);
        receiver.Requests.Select(r => r.DeliveryId).Distinct().ShouldBe([final.Id.ToString()]);
        var log = await DeliveryKit.AttemptsOfAsync(app, final.Id);
        log.Select(a => a.Attempt).ShouldBe(Enumerable.Range(1, 16));
        log.Select(a => a.Outcome).ShouldBe([.. Enumerable.Repeat("retry", 15), "failed"]);
        log.ShouldAllBe(a => a.StatusCode == 500 && a.ResponseSnippet == "database on fire");

        var seen = new List<string>();
        await Wait.UntilAsync(() =>
        {
            seen.AddRange(Drain(events));
            return Task.FromResult(seen.Contains(SessionEventNames.ImageFailed));
        }, what: "image:failed");
        // Subscribed just after the upload: the first attempt's event may have gone out before.
        seen.Count(n => n == SessionEventNames.ImageRetrying).ShouldBeInRange(14, 15);

        // One batch per project: nothing before the batch window has passed, then exactly one email.
        await Task.Delay(300);
        (await Maildev.MailToAsync(address)).ShouldBeEmpty();
        clock.Advance(TimeSpan.FromMinutes(1));
        await Wait.UntilAsync(async () => (await Maildev.MailToAsync(address)).Count > 0, what: "the failure email");
        await Task.Delay(300);
        var mail = (await Maildev.MailToAsync(address)).ShouldHaveSingleItem();
        mail.Subject.ShouldBe("[Apertur] 1 image delivery failed in project \"Default\"");
        mail.Text.ShouldContain($"Delivery {final.Id}");
        mail.Text.ShouldContain($"Image:       {imageId} (small.jpg)");
        mail.Text.ShouldContain($"Session:     {sessionId}");
        mail.Text.ShouldContain("Destination: Receiver (webhook");
        mail.Text.ShouldContain("Last error:  Receiver answered 500 Internal Server Error");
        mail.Text.ShouldContain($"/api/v1/deliveries/{final.Id}/retry");
        (await DeliveryKit.DeliveryOfAsync(app, imageId)).NotifiedAt.ShouldNotBeNull();
    }

    private static List<string> Drain(SessionEventHub.Subscription events)
    {
        var names = new List<string>();
        while (events.Reader.TryRead(out var e))
        {
            names.Add(e.Name);
            if (e.Name == SessionEventNames.ImageFailed)
            {
                e.DataJson.ShouldContain("\"error\":\"Receiver answered 500");
            }
        }
        return names;
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Receiver429WithRetryAfter_NextAttemptHonoursItWithinScheduledToTwiceScheduled(string database)
    {
        await using var receiver = await TestReceiver.StartAsync();
        receiver.Respond = async (context, request) =>
        {
            switch (request.Number)
            {
                case 1:
                    context.Response.StatusCode = 503;
                    break;
                case 2:
                    context.Response.StatusCode = 429;
                    context.Response.Headers.RetryAfter = "400";
                    break;
                case 3:
                    context.Response.StatusCode = 429;
                    context.Response.Headers.RetryAfter = "7200";
                    break;
            }
            await context.Response.WriteAsync("ok");
        };
        var clock = new ManualClock();
        var (app, imageId, _) = await UploadToAsync(database, clock, receiver.Url());
        await using var _ = app;

        var (final, waits) = await DriveAsync(app, clock, imageId);

        // 503: the 30 s step; 429 asking 400 s against 5 min: honoured; 429 asking 2 h against 30 min: capped at 2 × 30 min.
        waits.ShouldBe([S(30), S(400), TimeSpan.FromHours(1)]);
        final.Status.ShouldBe(DeliveryStatus.Sent);
        final.Attempts.ShouldBe(4);
        (await DeliveryKit.AttemptsOfAsync(app, final.Id)).Select(a => a.StatusCode).ShouldBe([503, 429, 429, 200]);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task ReceiverTimesOut_RetriedAfterTheThrottleMinimum(string database)
    {
        await using var receiver = await TestReceiver.StartAsync();
        receiver.Respond = async (context, request) =>
        {
            if (request.Number == 1)
            {
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
            await context.Response.WriteAsync("ok");
        };
        var clock = new ManualClock();
        var (app, imageId, _) = await UploadToAsync(database, clock, receiver.Url(),
            new Dictionary<string, string?> { ["Apertur:Delivery:AttemptTimeout"] = "00:00:00.300" });
        await using var _ = app;

        var first = await DeliveryKit.WaitForAttemptsAsync(app, imageId, 1);
        first.LastError.ShouldBe("Timed out after 0.3 s waiting for the receiver's answer");
        var (final, waits) = await DriveAsync(app, clock, imageId);

        // A timeout is a throttle: at least 60 s, although the schedule's first step is 30 s.
        waits.ShouldBe([S(60)]);
        final.Status.ShouldBe(DeliveryStatus.Sent);
        final.Attempts.ShouldBe(2);
        var log = await DeliveryKit.AttemptsOfAsync(app, final.Id);
        log[0].Outcome.ShouldBe("retry");
        log[0].StatusCode.ShouldBeNull();
        log[0].DurationMs.ShouldBeInRange(250, 5000);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task ConnectionRefused_RetriedOnTheConfiguredScheduleUntilTheConfiguredWindowEnds(string database)
    {
        var closed = new TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var port = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        var clock = new ManualClock();
        var (app, imageId, _) = await UploadToAsync(database, clock, new Uri($"http://127.0.0.1:{port}/hook"), new Dictionary<string, string?>
        {
            ["Apertur:Delivery:RetrySchedule:0"] = "00:00:10",
            ["Apertur:Delivery:RetrySchedule:1"] = "00:00:20",
            ["Apertur:Delivery:RetryWindow"] = "00:01:00",
        });
        await using var _ = app;

        var (final, waits) = await DriveAsync(app, clock, imageId);

        // Attempts at 0, 10, 30 and 50 s; the next would be at 70 s, past the 60 s window.
        waits.ShouldBe([S(10), S(20), S(20)]);
        final.Status.ShouldBe(DeliveryStatus.Failed);
        final.Attempts.ShouldBe(4);
        final.LastError.ShouldBe($"Could not connect to 127.0.0.1:{port} (connection refused) (gave up after 4 attempts: the retry window ended)");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task ProjectRetryWindow_ShorterThanTheServers_EndsItsDeliveriesRetries(string database)
    {
        var port = LoopbackFiles.ClosedPort();
        var clock = new ManualClock();
        var (app, imageId, _) = await UploadToAsync(database, clock, new Uri($"http://127.0.0.1:{port}/hook"), new Dictionary<string, string?>
        {
            ["Apertur:Delivery:RetrySchedule:0"] = "00:00:10",
            ["Apertur:Delivery:RetrySchedule:1"] = "00:00:20",
            ["Apertur:Delivery:RetryWindow"] = "01:00:00",
        });
        await using var _ = app;
        // The project's own window (the dashboard's settings): one minute instead of the server's hour.
        using (var scope = app.Services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<Apertur.Server.Data.AperturDb>();
            await db.Projects.ExecuteUpdateAsync(s => s.SetProperty(p => p.RetryWindowMinutes, 1));
        }

        var (final, waits) = await DriveAsync(app, clock, imageId);

        // As with a one-minute server window: attempts at 0, 10, 30 and 50 s, none at 70 s.
        waits.ShouldBe([S(10), S(20), S(20)]);
        final.Status.ShouldBe(DeliveryStatus.Failed);
        final.Attempts.ShouldBe(4);
        final.LastError!.ShouldEndWith("(gave up after 4 attempts: the retry window ended)");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Receiver410_FailedAfterOneAttempt_NeverAskedAgain(string database)
    {
        await using var receiver = await TestReceiver.StartAsync();
        receiver.Respond = (context, _) =>
        {
            context.Response.StatusCode = 410;
            return Task.CompletedTask;
        };
        var clock = new ManualClock();
        var (app, imageId, _) = await UploadToAsync(database, clock, receiver.Url());
        await using var _ = app;

        var final = await DeliveryKit.WaitForStatusAsync(app, imageId, DeliveryStatus.Failed);
        clock.Advance(TimeSpan.FromDays(1));
        DeliveryKit.Nudge(app);
        await Task.Delay(300);

        final.Attempts.ShouldBe(1);
        final.LastError.ShouldBe("Receiver answered 410 Gone: the receiver asked for no more deliveries");
        receiver.Requests.Count.ShouldBe(1);
        (await DeliveryKit.AttemptsOfAsync(app, final.Id)).ShouldHaveSingleItem().Outcome.ShouldBe("failed");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task NoAdapterForTheKind_WaitsAnHourAsRetryingWithoutCountingOrSpinning(string database)
    {
        var clock = new ManualClock();
        // Every kind the API accepts has an adapter now: "box" stands for a kind of a newer version (a row written by it).
        var (app, imageId, _) = await UploadToAsync(database, clock, new Uri("http://unused.invalid"), type: "box");
        await using var _ = app;

        var waiting = await DeliveryKit.WaitForStatusAsync(app, imageId, DeliveryStatus.Retrying);
        waiting.Attempts.ShouldBe(0);
        waiting.FirstAttemptAt.ShouldBeNull();
        waiting.LastError.ShouldBe("No adapter for box is installed in this version");
        waiting.NextAttemptAt.ShouldBe(clock.GetUtcNow() + TimeSpan.FromHours(1));
        clock.Advance(TimeSpan.FromMinutes(30));
        DeliveryKit.Nudge(app);
        await Task.Delay(300);
        (await DeliveryKit.DeliveryOfAsync(app, imageId)).UpdatedAt.ShouldBe(waiting.UpdatedAt);
        (await DeliveryKit.AttemptsOfAsync(app, waiting.Id)).ShouldBeEmpty();

        clock.Advance(TimeSpan.FromMinutes(30));
        DeliveryKit.Nudge(app);
        await Wait.UntilAsync(async () => (await DeliveryKit.DeliveryOfAsync(app, imageId)).NextAttemptAt > waiting.NextAttemptAt, what: "the hourly look");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task DestinationDeletedOrDisabledAfterUpload_FailedWithThatReason(string database)
    {
        await using var receiver = await TestReceiver.StartAsync();
        await using var app = await TestApp.StartAsync(database, DeliveryKit.Settings(new Dictionary<string, string?> { ["Apertur:Delivery:WorkerEnabled"] = "false" }));
        var deleted = await DeliveryKit.WebhookAsync(app, receiver.Url(), name: "Gone");
        var disabled = await DeliveryKit.WebhookAsync(app, receiver.Url(), name: "Off");
        var sessionId = await DeliveryKit.SessionAsync(app, deleted, disabled);
        await DeliveryKit.UploadAsync(app, sessionId);
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<Server.Data.AperturDb>();
            db.Destinations.RemoveRange(db.Destinations.Where(d => d.Id == deleted));
            (await db.Destinations.FindAsync(disabled))!.IsActive = false;
            await db.SaveChangesAsync();
        }

        await using var worker = await app.StartAnotherAsync(new Dictionary<string, string?> { ["Apertur:Delivery:WorkerEnabled"] = "true" });

        await Wait.UntilAsync(async () =>
        {
            await using var scope = app.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<Server.Data.AperturDb>();
            return db.Deliveries.Count(d => d.Status == DeliveryStatus.Failed) == 2;
        }, what: "both deliveries failed");
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<Server.Data.AperturDb>();
            db.Deliveries.Single(d => d.DestinationId == deleted).LastError.ShouldBe("Destination deleted");
            db.Deliveries.Single(d => d.DestinationId == disabled).LastError.ShouldBe("Destination disabled");
        }
        receiver.Requests.ShouldBeEmpty();
    }
}
