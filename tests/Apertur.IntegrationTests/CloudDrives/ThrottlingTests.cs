using System.Net;
using Apertur.IntegrationTests.Deliveries;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Server.Deliveries;
using Apertur.Tests;
using Apertur.Tests.CloudDrives;
using Shouldly;

namespace Apertur.IntegrationTests.CloudDrives;

/// <summary>
/// Throttling answers are retried at the right time, on a manual clock: a provider's Retry-After is a minimum the queue
/// honours whole (unlike a webhook receiver's hint, capped at twice the scheduled wait); Drive's 403 rate limit, which
/// has no Retry-After, backs off inside the attempt and then waits the throttle minimum; Drive's daily limit waits an hour.
/// </summary>
public sealed class ThrottlingTests
{
    private static async Task<(TestApp App, Guid Destination)> ConnectedAsync<T>(string database, ManualClock clock, T fake, string type) where T : FakeCloud
    {
        var app = await TestApp.StartAsync(database, CloudKit.Settings(fake as FakeGoogleDrive, fake as FakeDropbox, fake as FakeOneDrive), clock);
        var destination = await CloudKit.DestinationAsync(app, type, new { });
        (await CloudKit.ConnectAsync(app, fake, destination)).StatusCode.ShouldBe(HttpStatusCode.OK);
        return (app, destination);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Dropbox429WithRetryAfter_NextAttemptExactlyWhenAsked_ThenDelivered(string database)
    {
        var clock = new ManualClock();
        await using var dropbox = await FakeDropbox.StartAsync(clock);
        var (app, destination) = await ConnectedAsync(database, clock, dropbox, "dropbox");
        await using var _ = app;
        dropbox.Inject(c => c.Path == "/content/2/files/upload", 1, context => FakeDropbox.TooManyRequests(context, 600));
        var sessionId = await DeliveryKit.SessionAsync(app, destination);

        var imageId = await DeliveryKit.UploadAsync(app, sessionId);

        var throttled = await DeliveryKit.WaitForAttemptsAsync(app, imageId, 1);
        throttled.Status.ShouldBe(DeliveryStatus.Retrying);
        throttled.LastStatusCode.ShouldBe(429);
        throttled.LastError.ShouldBe("Dropbox answered 429 Too Many Requests: too_many_requests");
        // 10 minutes, as asked: more than the 30 s step, the 60 s throttle minimum, and the 2 × 30 s cap on a receiver's hint.
        (throttled.NextAttemptAt - throttled.FirstAttemptAt!.Value).ShouldBe(TimeSpan.FromSeconds(600));

        var sent = await CloudKit.NextAttemptAsync(app, clock, imageId);
        sent.Status.ShouldBe(DeliveryStatus.Sent);
        dropbox.Files().ShouldHaveSingleItem().Value.ShouldBe(Fixture.Bytes("small.jpg"));
        (await DeliveryKit.AttemptsOfAsync(app, sent.Id)).Select(a => a.StatusCode).ShouldBe([429, 200]);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task OneDrive429WithRetryAfter_HonouredWholeByTheQueue(string database)
    {
        var clock = new ManualClock();
        await using var onedrive = await FakeOneDrive.StartAsync(clock);
        var (app, destination) = await ConnectedAsync(database, clock, onedrive, "onedrive");
        await using var _ = app;
        onedrive.Inject(c => c.Method == "PUT", 1, context => FakeOneDrive.Throttled(context, 90));
        var sessionId = await DeliveryKit.SessionAsync(app, destination);

        var imageId = await DeliveryKit.UploadAsync(app, sessionId);

        var throttled = await DeliveryKit.WaitForAttemptsAsync(app, imageId, 1);
        throttled.LastError.ShouldBe("OneDrive answered 429 Too Many Requests: activityLimitReached");
        (throttled.NextAttemptAt - throttled.FirstAttemptAt!.Value).ShouldBe(TimeSpan.FromSeconds(90));
        (await CloudKit.NextAttemptAsync(app, clock, imageId)).Status.ShouldBe(DeliveryStatus.Sent);
        onedrive.Files().ShouldHaveSingleItem().Value.ShouldBe(Fixture.Bytes("small.jpg"));
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Drive403RateLimit_BacksOffInsideTheAttempt_ThenTheThrottleMinimum_ThenDelivered(string database)
    {
        var clock = new ManualClock();
        await using var google = await FakeGoogleDrive.StartAsync(clock);
        var (app, destination) = await ConnectedAsync(database, clock, google, "google_drive");
        await using var _ = app;
        var sessionId = await DeliveryKit.SessionAsync(app, destination);
        // The upload is answered 403 rateLimitExceeded on the first try and on all three backoffs of the first attempt.
        google.Inject(c => c.Path == "/upload/drive/v3/files", 4, context => FakeGoogleDrive.Forbidden(context, "rateLimitExceeded"));

        var imageId = await DeliveryKit.UploadAsync(app, sessionId);

        var throttled = await DeliveryKit.WaitForAttemptsAsync(app, imageId, 1);
        throttled.Status.ShouldBe(DeliveryStatus.Retrying);
        throttled.LastStatusCode.ShouldBe(403);
        throttled.LastError.ShouldBe("Google Drive answered 403 Forbidden: rate limit exceeded");
        (throttled.NextAttemptAt - throttled.FirstAttemptAt!.Value).ShouldBe(TimeSpan.FromSeconds(60));
        var tries = google.Calls.Where(c => c.Path == "/upload/drive/v3/files").ToList();
        tries.Count.ShouldBe(4);
        for (var i = 1; i < tries.Count; i++)
        {
            // 100 ms, 200 ms, 400 ms: exponential backoff, as Drive asks for rate limits (less 10 ms of timer slack).
            (tries[i].Elapsed - tries[i - 1].Elapsed).ShouldBeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds((100 << (i - 1)) - 10));
        }

        (await CloudKit.NextAttemptAsync(app, clock, imageId)).Status.ShouldBe(DeliveryStatus.Sent);
        google.FilesByPath().ShouldHaveSingleItem().Value.Bytes.ShouldBe(Fixture.Bytes("small.jpg"));
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task DriveDailyLimit_NextAttemptAnHourLater(string database)
    {
        var clock = new ManualClock();
        await using var google = await FakeGoogleDrive.StartAsync(clock);
        var (app, destination) = await ConnectedAsync(database, clock, google, "google_drive");
        await using var _ = app;
        var sessionId = await DeliveryKit.SessionAsync(app, destination);
        google.Inject(c => c.Path == "/upload/drive/v3/files", 1, context => FakeGoogleDrive.Forbidden(context, "dailyLimitExceeded"));

        var imageId = await DeliveryKit.UploadAsync(app, sessionId);

        var throttled = await DeliveryKit.WaitForAttemptsAsync(app, imageId, 1);
        throttled.LastError.ShouldBe("Google Drive answered 403 Forbidden: daily limit exceeded; trying again in 1 h");
        (throttled.NextAttemptAt - throttled.FirstAttemptAt!.Value).ShouldBe(TimeSpan.FromHours(1));
        (await CloudKit.NextAttemptAsync(app, clock, imageId)).Status.ShouldBe(DeliveryStatus.Sent);
    }
}
