using System.Net;
using Apertur.IntegrationTests.Dashboard;
using Apertur.IntegrationTests.Deliveries;
using Apertur.IntegrationTests.EventWebhooks;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.IntegrationTests.Storage;
using Apertur.IntegrationTests.Uploads;
using Apertur.Server.Deliveries;
using Apertur.Server.Uploads;
using Apertur.Tests;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;

namespace Apertur.IntegrationTests.Sessions;

/// <summary>
/// Deletion on demand (docs/api.md "Upload sessions", "Delete"): <c>DELETE /upload-sessions/{uuid}</c> removes the bytes, cancels the
/// deliveries (a retrying one and one in the middle of its attempt), and no receiver hears of the images again; a second
/// DELETE answers the same; downloads answer 410 <c>IMAGE_DELETED</c>; uploads are refused.
/// </summary>
public sealed class SessionDeleteTests
{
    private const string Failing = "/failing";
    private const string Held = "/held";
    private const string Fence = "/fence";

    /// <summary>
    /// Two webhook destinations: one answers 500 (its delivery waits to be retried), the other holds its first request until
    /// <paramref name="release"/> completes and then answers 200 (its delivery is <c>sending</c> during the DELETE).
    /// </summary>
    private static async Task<(TestApp App, string SessionId, Guid ImageId)> QueuedAsync(string database, ManualClock clock, TestReceiver receiver,
        Task release, IDictionary<string, string?>? extra = null)
    {
        receiver.Respond = async (context, request) =>
        {
            if (request.Path == Failing)
            {
                context.Response.StatusCode = 500;
                return;
            }
            if (request.Path == Held)
            {
                await release;
            }
            await context.Response.WriteAsync("ok");
        };
        var app = await DeliveryKit.StartAsync(database, clock, extra);
        var failing = await DeliveryKit.WebhookAsync(app, receiver.Url(Failing), name: "Failing");
        var held = await DeliveryKit.WebhookAsync(app, receiver.Url(Held), name: "Held");
        var sessionId = await DeliveryKit.SessionAsync(app, failing, held);
        var imageId = await DeliveryKit.UploadAsync(app, sessionId);
        await receiver.WaitForAsync(1, Failing);
        await receiver.WaitForAsync(1, Held);
        await Wait.UntilAsync(async () => (await DeliveriesAsync(app, imageId)).Select(d => d.Status).Order().SequenceEqual(
            [DeliveryStatus.Retrying, DeliveryStatus.Sending]), what: "one delivery retrying, the other sending");
        return (app, sessionId, imageId);
    }

    private static Task<List<Delivery>> DeliveriesAsync(TestApp app, Guid imageId) =>
        Manage.DbAsync(app, db => db.Deliveries.AsNoTracking().Where(d => d.ImageId == imageId).ToListAsync());

    private static Task<HttpResponseMessage> DeleteAsync(HttpClient client, string sessionId) => client.DeleteAsync($"/api/v1/upload-sessions/{sessionId}");

    private static async Task ShouldBeNoContentAsync(HttpResponseMessage response)
    {
        response.StatusCode.ShouldBe(HttpStatusCode.NoContent, await response.Content.ReadAsStringAsync());
        (await response.Content.ReadAsByteArrayAsync()).ShouldBeEmpty();
    }

    /// <summary>
    /// Uploads to a fresh session delivering to the receiver's fence path and waits until that delivery is recorded as sent:
    /// every delivery that was due when it was claimed has been attempted and recorded by then.
    /// </summary>
    private static async Task FenceAsync(TestApp app, TestReceiver receiver, int fences)
    {
        var destination = await DeliveryKit.WebhookAsync(app, receiver.Url(Fence), name: $"Fence {fences}");
        var imageId = await DeliveryKit.UploadAsync(app, await DeliveryKit.SessionAsync(app, destination));
        await receiver.WaitForAsync(fences, Fence);
        await DeliveryKit.WaitForStatusAsync(app, imageId, DeliveryStatus.Sent);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Delete_WithQueuedDeliveries_BytesGoneDeliveriesCancelledNoReceiverCalledAfterAndSecondDeleteTheSame(string database)
    {
        await using var receiver = await TestReceiver.StartAsync();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var clock = new ManualClock();
        var address = Maildev.NewAddress();
        var (app, sessionId, imageId) = await QueuedAsync(database, clock, receiver, release.Task, Maildev.Settings(address));
        await using var _ = app;
        var file = Directory.GetFiles(Path.Combine(app.DataDirectory, "images"), imageId.ToString("N"), SearchOption.AllDirectories).ShouldHaveSingleItem();

        using (var deleted = await DeleteAsync(app.Client, sessionId))
        {
            await ShouldBeNoContentAsync(deleted);
        }
        File.Exists(file).ShouldBeFalse();
        var image = await Manage.DbAsync(app, db => db.Images.AsNoTracking().SingleAsync(i => i.Id == imageId));
        image.BytesDeletedAt.ShouldNotBeNull();
        image.BytesDeletedReason.ShouldBe(BytesDeleted.SessionDeleted);
        image.InPollQueue.ShouldBeFalse();
        var session = await Manage.DbAsync(app, db => db.Sessions.AsNoTracking().SingleAsync(s => s.Id == Guid.Parse(sessionId)));
        session.DeletedAt.ShouldNotBeNull();
        // What was attached about the person goes with the photos.
        session.Tags.ShouldBeEmpty();
        session.Metadata.ShouldBeNull();

        // The attempt in flight ends now with a 200: its outcome must not turn the cancelled delivery into "sent".
        release.SetResult();
        await Wait.UntilAsync(() => Task.FromResult(receiver.At(Held).Single().AnsweredStatus == 200), what: "the held request answered");
        await FenceAsync(app, receiver, 1);
        // Past the whole retry window (3 days): nothing is due any more.
        clock.Advance(TimeSpan.FromDays(4));
        DeliveryKit.Nudge(app);
        await FenceAsync(app, receiver, 2);

        receiver.At(Failing).Length.ShouldBe(1);
        receiver.At(Held).Length.ShouldBe(1);
        var deliveries = await DeliveriesAsync(app, imageId);
        deliveries.ShouldAllBe(d => d.Status == DeliveryStatus.Cancelled && d.LeaseToken == null && d.NotifiedAt == null);
        deliveries.ShouldAllBe(d => d.LastError == "Cancelled: the image was deleted with its session");

        // A second DELETE answers the same and changes nothing.
        var before = await DeliveriesAsync(app, imageId);
        using (var again = await DeleteAsync(app.Client, sessionId))
        {
            await ShouldBeNoContentAsync(again);
        }
        (await DeliveriesAsync(app, imageId)).Select(d => (d.Id, d.Status, d.UpdatedAt)).ShouldBe(before.Select(d => (d.Id, d.Status, d.UpdatedAt)));

        // The delivery log and the delivery status show the cancelled deliveries, with the documented status value.
        using var log = await app.Client.GetAsync($"/api/v1/deliveries?status=cancelled&sessionId={sessionId}");
        (await log.ReadJsonAsync()).GetProperty("total").GetInt32().ShouldBe(2);
        using var status = await app.Client.GetAsync($"/api/v1/upload-sessions/{sessionId}/delivery-status");
        var snapshot = await status.ReadJsonAsync();
        snapshot.GetProperty("status").GetString().ShouldBe("expired");
        snapshot.GetProperty("files")[0].GetProperty("destinations").EnumerateArray().Select(d => d.GetProperty("status").GetString())
            .ShouldBe(["cancelled", "cancelled"]);
        // Cancelled is not failed: no failure e-mail.
        (await Maildev.MailToAsync(address)).ShouldBeEmpty();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Delete_Then_DownloadsAnswer410ImageDeleted_UploadRefused_PollQueueEmpty(string database)
    {
        await using var app = await TestApp.StartAsync(database);
        var sessionId = (await app.Client.CreateSessionAsync("""{"long_polling":true}""")).SessionId();
        using var anonymous = app.CreateClient();
        var imageId = (await anonymous.UploadOkAsync(sessionId, "small.jpg")).GetProperty("id").GetString()!;
        var link = app.Services.GetRequiredService<DownloadLinks>().For(Guid.Parse(imageId));

        using (var deleted = await DeleteAsync(app.Client, sessionId))
        {
            await ShouldBeNoContentAsync(deleted);
        }

        foreach (var (client, url) in new[]
                 {
                     (app.Client, $"/api/v1/upload-sessions/{sessionId}/images/{imageId}"),
                     (app.Client, $"/api/v1/uploads/{imageId}/download"),
                     (anonymous, link.PathAndQuery),
                 })
        {
            using var download = await client.GetAsync(url);
            download.StatusCode.ShouldBe(HttpStatusCode.Gone, url);
            var error = await download.ReadJsonAsync();
            error.GetProperty("code").GetString().ShouldBe("IMAGE_DELETED", url);
            error.GetProperty("statusCode").GetInt32().ShouldBe(410, url);
            error.GetProperty("message").GetString().ShouldBe("This image's bytes were deleted: its session was deleted.", url);
        }

        using var poll = await app.Client.GetAsync($"/api/v1/upload-sessions/{sessionId}/poll");
        (await poll.ReadJsonAsync()).GetProperty("images").GetArrayLength().ShouldBe(0);

        using var upload = await anonymous.UploadAsync(sessionId, Fixture.Bytes("small.jpg"));
        upload.StatusCode.ShouldBe(HttpStatusCode.Gone);
        (await upload.ReadErrorCodeAsync()).ShouldBe("SESSION_EXPIRED");
        (await Manage.DbAsync(app, db => db.Images.CountAsync())).ShouldBe(1);

        using var detail = await anonymous.GetAsync($"/api/v1/upload/{sessionId}/session");
        (await detail.ReadJsonAsync()).GetProperty("status").GetString().ShouldBe("expired");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Delete_UnknownOrAnotherProjectsSession_Answers404LikeGet_AndDeletesNothing(string database)
    {
        await using var app = await TestApp.StartAsync(database);
        var sessionId = (await app.Client.CreateSessionAsync()).SessionId();
        using var other = app.CreateClient(await KeysForOtherProject.CreateAsync(app));

        using var unknownGet = await app.Client.GetAsync($"/api/v1/upload/{Guid.CreateVersion7()}/session");
        var expected = await unknownGet.Content.ReadAsStringAsync();
        foreach (var (client, id) in new[] { (app.Client, Guid.CreateVersion7().ToString()), (app.Client, "not-a-uuid"), (other, sessionId) })
        {
            using var response = await DeleteAsync(client, id);
            response.StatusCode.ShouldBe(HttpStatusCode.NotFound, id);
            (await response.Content.ReadAsStringAsync()).ShouldBe(expected, id);
        }
        using var noKey = await app.CreateClient().DeleteAsync($"/api/v1/upload-sessions/{sessionId}");
        noKey.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await Manage.DbAsync(app, db => db.Sessions.AsNoTracking().SingleAsync())).DeletedAt.ShouldBeNull();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Worker_RequeuedDeliveryOfDeletedImage_EndsCancelledWithoutAnAttemptOrEmail(string database)
    {
        await using var receiver = await TestReceiver.StartAsync();
        var clock = new ManualClock();
        var address = Maildev.NewAddress();
        await using var app = await DeliveryKit.StartAsync(database, clock, Maildev.Settings(address));
        receiver.Respond = TestReceiver.Answer(500);
        var destination = await DeliveryKit.WebhookAsync(app, receiver.Url());
        var sessionId = await DeliveryKit.SessionAsync(app, destination);
        var imageId = await DeliveryKit.UploadAsync(app, sessionId);
        await DeliveryKit.WaitForAttemptsAsync(app, imageId, 1);
        using (var deleted = await DeleteAsync(app.Client, sessionId))
        {
            await ShouldBeNoContentAsync(deleted);
        }

        // As if something requeued it afterwards (a race with the deletion, a hand retry): the worker must not send it.
        await Manage.DbAsync(app, db => db.Deliveries.Where(d => d.ImageId == imageId)
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.Status, DeliveryStatus.Pending).SetProperty(d => d.LastError, (string?)null)
                .SetProperty(d => d.NextAttemptAt, clock.GetUtcNow())));
        DeliveryKit.Nudge(app);
        var delivery = await DeliveryKit.WaitForStatusAsync(app, imageId, DeliveryStatus.Cancelled);

        delivery.Attempts.ShouldBe(1);
        delivery.LastError.ShouldBe("Cancelled: the image was deleted with its session");
        receiver.Requests.Count.ShouldBe(1);
        (await DeliveryKit.AttemptsOfAsync(app, delivery.Id)).Count.ShouldBe(1);
        (await Maildev.MailToAsync(address)).ShouldBeEmpty();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Delete_S3Store_ObjectGoneFromTheBucket(string database)
    {
        using var s3 = new S3Server();
        var bucket = await s3.NewBucketAsync();
        await using var app = await TestApp.StartAsync(database, S3ImageStoreTests.S3Settings(bucket));
        var sessionId = (await app.Client.CreateSessionAsync()).SessionId();
        using var anonymous = app.CreateClient();
        var imageId = Guid.Parse((await anonymous.UploadOkAsync(sessionId, "small.jpg")).GetProperty("id").GetString()!);
        (await s3.GetAsync(bucket, $"images/{imageId:N}")).ShouldNotBeNull();

        using (var deleted = await DeleteAsync(app.Client, sessionId))
        {
            await ShouldBeNoContentAsync(deleted);
        }

        (await s3.GetAsync(bucket, $"images/{imageId:N}")).ShouldBeNull();
        (await s3.ListAsync(bucket)).ShouldBeEmpty();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Dashboard_DeleteSession_AsksFirstThenShowsTheSessionDeletedAndItsPhotosAsPlaceholders(string database)
    {
        await using var app = await DashboardBrowser.StartAppAsync(database);
        var sessionId = (await app.Client.CreateSessionAsync()).SessionId();
        using var anonymous = app.CreateClient();
        var imageId = (await anonymous.UploadOkAsync(sessionId, "small.jpg")).GetProperty("id").GetString()!;
        var projectId = await DashboardBrowser.DefaultProjectIdAsync(app);
        using var admin = await DashboardBrowser.SignInAsync(app);
        var page = $"/dashboard/projects/{projectId}/sessions/{sessionId}";

        var before = await admin.PageAsync(page);
        before.ShouldContain("data-confirm=\"Delete this session?");
        before.ShouldContain("Delete session</button>");
        before.ShouldContain($"/images/{imageId}");

        using (var posted = await admin.PostFormAsync(page, new(), handler: "Delete"))
        {
            posted.StatusCode.ShouldBe(HttpStatusCode.Redirect, await posted.Content.ReadAsStringAsync());
        }
        var after = await admin.PageAsync(page);
        DashboardBrowser.NoticeOf(after).ShouldBe("Session deleted: its photos were removed from the server and its pending deliveries cancelled.");
        after.ShouldContain("data-session-deleted");
        after.ShouldContain("<span class=\"badge deleted\" data-session-status>deleted</span>");
        after.ShouldContain("<div class=\"placeholder\" data-bytes-deleted>deleted</div>");
        after.ShouldNotContain($"/images/{imageId}");
        after.ShouldNotContain("Delete session</button>");
        (await Manage.DbAsync(app, db => db.Images.AsNoTracking().SingleAsync())).BytesDeletedReason.ShouldBe(BytesDeleted.SessionDeleted);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Delete_Twice_EmitsProjectSessionDeletedOnceWithTheSessionAsItWas(string database)
    {
        await using var receiver = await TestReceiver.StartAsync();
        await using var app = await EventHooks.StartAsync(database);
        await EventHooks.CreateWebhookAsync(app, $$"""{"url":"{{receiver.Url()}}","topics":["project.session.*"]}""");
        var sessionId = (await app.Client.CreateSessionAsync("""{"tags":["user:42"],"label":"Claim 7"}""")).SessionId();
        await receiver.WaitForAsync(1);

        for (var call = 0; call < 2; call++)
        {
            using var deleted = await DeleteAsync(app.Client, sessionId);
            await ShouldBeNoContentAsync(deleted);
        }

        var request = (await receiver.WaitForAsync(2))[1];
        using var body = System.Text.Json.JsonDocument.Parse(request.Body);
        body.RootElement.GetProperty("event").GetString().ShouldBe("project.session.deleted");
        var data = body.RootElement.GetProperty("data");
        data.GetProperty("session_id").GetString().ShouldBe(sessionId);
        data.GetProperty("status").GetString().ShouldBe("deleted");
        data.GetProperty("tags").EnumerateArray().Select(t => t.GetString()).ShouldBe(["user:42"]);
        data.GetProperty("label").GetString().ShouldBe("Claim 7");
        (await Manage.DbAsync(app, db => db.EventLogs.CountAsync(e => e.Topic == "project.session.deleted"))).ShouldBe(1);
    }
}
