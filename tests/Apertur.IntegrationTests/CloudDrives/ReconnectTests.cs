using System.Net;
using Apertur.IntegrationTests.Deliveries;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Server.CloudDrives;
using Apertur.Server.Deliveries;
using Apertur.Tests;
using Apertur.Tests.CloudDrives;
using Shouldly;

namespace Apertur.IntegrationTests.CloudDrives;

/// <summary>
/// A revoked grant is not a silent loss: the destination shows "needs reconnect", the project gets one email, deliveries
/// stay retrying on schedule, and reconnecting sends them at once. Token expiry in the middle of a chunked upload is
/// refreshed and the upload resumes where it was.
/// </summary>
public sealed class ReconnectTests
{
    [Theory, ClassData(typeof(Databases))]
    public async Task RevokedGrant_NeedsReconnectOneEmailDeliveriesRetrying_ThenReconnectDeliversAtOnce(string database)
    {
        var clock = new ManualClock();
        var address = Maildev.NewAddress();
        await using var dropbox = await FakeDropbox.StartAsync(clock);
        await using var app = await TestApp.StartAsync(database, CloudKit.Settings(dropbox: dropbox, extra: Maildev.Settings(address)), clock);
        var destination = await CloudKit.DestinationAsync(app, "dropbox", new { folder = "Shop" }, name: "Shop photos");
        (await CloudKit.ConnectAsync(app, dropbox, destination)).StatusCode.ShouldBe(HttpStatusCode.OK);
        var sessionId = await DeliveryKit.SessionAsync(app, destination);

        // The user removes the app in Dropbox: the access token is refused (401), and so is the refresh token.
        dropbox.OAuth.RevokeAll();
        var imageId = await DeliveryKit.UploadAsync(app, sessionId);

        var first = await DeliveryKit.WaitForAttemptsAsync(app, imageId, 1);
        first.Status.ShouldBe(DeliveryStatus.Retrying);
        first.LastError.ShouldStartWith("Dropbox refused the stored authorization (invalid_grant: Token has been expired or revoked.)");
        first.NextAttemptAt.ShouldBe(first.FirstAttemptAt!.Value + TimeSpan.FromSeconds(30));
        var connection = await CloudKit.ConnectionAsync(app, destination);
        connection.GetProperty("status").GetString().ShouldBe("needs_reconnect");
        connection.GetProperty("error").GetString()!.ShouldStartWith("Dropbox refused the stored authorization");
        connection.GetProperty("needsReconnectSince").GetString().ShouldNotBeNull();

        await Wait.UntilAsync(async () => (await Maildev.MailToAsync(address)).Count > 0, what: "the reconnect email");
        var mail = (await Maildev.MailToAsync(address)).ShouldHaveSingleItem();
        mail.Subject.ShouldBe("[Apertur] Reconnect the Dropbox destination \"Shop photos\" in project \"Default\"");
        mail.Text.ShouldContain($"The Dropbox destination \"Shop photos\" (dropbox, {destination}) of project \"Default\" can no longer deliver images " +
            "to the account Grace Hopper (grace@example.com).");
        mail.Text.ShouldContain("Reason: Dropbox refused the stored authorization (invalid_grant: Token has been expired or revoked.)");
        mail.Text.ShouldContain("Nothing is lost yet: 1 delivery is waiting");
        mail.Text.ShouldContain($"POST {CloudKit.PublicBase}/api/v1/projects/{await CloudKit.ProjectIdAsync(app)}/destinations/{destination}/oauth/start");

        // The next attempts wait for a reconnect without asking Dropbox again; no second email.
        var second = await CloudKit.NextAttemptAsync(app, clock, imageId);
        second.Status.ShouldBe(DeliveryStatus.Retrying);
        second.LastError.ShouldStartWith("Needs reconnect: Dropbox refused the stored authorization");
        dropbox.OAuth.RefusedRefreshes.ShouldBe(1);
        await Task.Delay(300);
        (await Maildev.MailToAsync(address)).Count.ShouldBe(1);

        // Reconnecting makes the waiting delivery due now: it goes out without anyone moving the clock.
        (await CloudKit.ConnectAsync(app, dropbox, destination)).StatusCode.ShouldBe(HttpStatusCode.OK);
        var sent = await DeliveryKit.WaitForStatusAsync(app, imageId, DeliveryStatus.Sent);
        sent.Attempts.ShouldBe(3);
        dropbox.Files().ShouldHaveSingleItem().Value.ShouldBe(Fixture.Bytes("small.jpg"));
        (await CloudKit.ConnectionAsync(app, destination)).GetProperty("status").GetString().ShouldBe("connected");
        (await CloudKit.StoredAsync(app, destination))!.ReconnectNotifiedAt.ShouldBeNull();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task RevokedGrantNeverReconnected_FailsWhenTheRetryWindowEnds_AndTheFailureIsEmailed(string database)
    {
        var clock = new ManualClock();
        var address = Maildev.NewAddress();
        await using var google = await FakeGoogleDrive.StartAsync(clock);
        await using var app = await TestApp.StartAsync(database, CloudKit.Settings(google: google, extra: new Dictionary<string, string?>(Maildev.Settings(address))
        {
            ["Apertur:Delivery:RetryWindow"] = "00:10:00",
        }), clock);
        var destination = await CloudKit.DestinationAsync(app, "google_drive", new { });
        (await CloudKit.ConnectAsync(app, google, destination)).StatusCode.ShouldBe(HttpStatusCode.OK);
        var sessionId = await DeliveryKit.SessionAsync(app, destination);
        google.OAuth.RevokeAll();
        var imageId = await DeliveryKit.UploadAsync(app, sessionId);

        var delivery = await DeliveryKit.WaitForAttemptsAsync(app, imageId, 1);
        while (delivery.Status == DeliveryStatus.Retrying)
        {
            delivery = await CloudKit.NextAttemptAsync(app, clock, imageId);
        }

        delivery.Status.ShouldBe(DeliveryStatus.Failed);
        delivery.LastError.ShouldEndWith("(gave up after 3 attempts: the retry window ended)");
        clock.Advance(TimeSpan.FromMinutes(2));
        await Wait.UntilAsync(async () => (await Maildev.MailToAsync(address)).Count >= 2, what: "the reconnect and the failure emails");
        (await Maildev.MailToAsync(address)).Select(m => m.Subject).ShouldBe([
            "[Apertur] Reconnect the Google Drive destination \"Team drive\" in project \"Default\"",
            "[Apertur] 1 image delivery failed in project \"Default\"",
        ], ignoreOrder: true);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task TokenExpiresMidChunkedUpload_RefreshedAndResumedWithoutResendingChunks(string database)
    {
        await using var google = await FakeGoogleDrive.StartAsync(TimeProvider.System);
        await using var app = await TestApp.StartAsync(database, CloudKit.Settings(google: google));
        var destination = await CloudKit.DestinationAsync(app, "google_drive", new { folder = "Big" });
        (await CloudKit.ConnectAsync(app, google, destination)).StatusCode.ShouldBe(HttpStatusCode.OK);
        var before = await CloudKit.StoredAsync(app, destination);
        var sessionId = await DeliveryKit.SessionAsync(app, destination);
        var chunks = 0;
        google.AfterCall = call =>
        {
            if (call.Method == "PUT" && call.Status == 308 && ++chunks == 3)
            {
                google.OAuth.ExpireAccessTokens();
            }
        };
        var large = CloudKit.LargeJpeg(2_000_000, seed: 8);

        var imageId = await CloudKit.UploadAsync(app, sessionId, large, "large.jpg");

        var sent = await DeliveryKit.WaitForStatusAsync(app, imageId, DeliveryStatus.Sent, TimeSpan.FromSeconds(60));
        sent.Attempts.ShouldBe(1);
        google.FilesByPath()[$"Big/{sessionId}/0.jpg"].Bytes.ShouldBe(large);
        google.OAuth.Refreshes.ShouldBe(1);
        var puts = google.Calls.Where(c => c.Method == "PUT").ToList();
        puts.Select(c => c.Status).ShouldBe([308, 308, 308, 401, 308, 308, 308, 308, 200]);
        puts[3].ContentRange.ShouldBe(puts[4].ContentRange);
        google.SessionChunks().ShouldHaveSingleItem().Sum().ShouldBe(2_000_000);
        // The refreshed token was stored (encrypted) for the next deliveries.
        var after = await CloudKit.StoredAsync(app, destination);
        after!.AccessToken.ShouldNotBe(before!.AccessToken);
        after.RefreshedAt.ShouldNotBeNull();
    }
}
