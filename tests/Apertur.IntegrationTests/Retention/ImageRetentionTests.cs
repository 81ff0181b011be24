using System.Net;
using Apertur.IntegrationTests.Deliveries;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.IntegrationTests.Uploads;
using Apertur.Server.Deliveries;
using Apertur.Server.Hosting;
using Apertur.Server.Retention;
using Apertur.Server.Storage;
using Apertur.Tests;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;

namespace Apertur.IntegrationTests.Retention;

/// <summary>
/// Image bytes leave the store after their retention (docs/operations.md "Retention"): a delivered image
/// <c>ImagesAfterDelivery</c> (7 days) after it is done with, an undelivered one not before it is final and never later than
/// <c>MaxImageAge</c> (30 days) after its upload, a polled one not before it is acknowledged. A download then answers 410.
/// A project can shorten both for its own images, never lengthen them. The sweep is called directly on a manual clock; the
/// background one waits a year here.
/// </summary>
public sealed class ImageRetentionTests
{
    private static readonly TimeSpan Millisecond = TimeSpan.FromMilliseconds(1);

    private static Dictionary<string, string?> Settings(IDictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?> { ["Apertur:Retention:SweepInterval"] = "365.00:00:00" };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }
        return settings;
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task DeliveredImage_BytesKeptSevenDaysAfterDelivery_ThenGoneAndDownload410(string database)
    {
        var clock = new ManualClock();
        await using var receiver = await TestReceiver.StartAsync();
        await using var app = await DeliveryKit.StartAsync(database, clock, Settings());
        var uuid = await DeliveryKit.SessionAsync(app, await DeliveryKit.WebhookAsync(app, receiver.Url()));
        var imageId = await DeliveryKit.UploadAsync(app, uuid);
        await DeliveryKit.WaitForStatusAsync(app, imageId, DeliveryStatus.Sent);
        var retention = app.Services.GetRequiredService<ImageRetention>();

        clock.Advance(TimeSpan.FromDays(7) - Millisecond);
        (await retention.SweepAsync(CancellationToken.None)).ShouldBe(0);
        (await BytesAsync(app, imageId)).ShouldNotBeNull("kept until seven days after its delivery");

        clock.Advance(TimeSpan.FromMilliseconds(2));
        (await retention.SweepAsync(CancellationToken.None)).ShouldBe(1);
        (await BytesAsync(app, imageId)).ShouldBeNull("gone from the store");
        using var download = await app.Client.GetAsync($"/api/v1/uploads/{imageId}/download");
        download.StatusCode.ShouldBe(HttpStatusCode.Gone);
        var error = await download.ReadJsonAsync();
        error.GetProperty("code").GetString().ShouldBe("IMAGE_DELETED");
        error.GetProperty("message").GetString()!.ShouldContain("retention");
        (await DeliveryKit.DeliveryOfAsync(app, imageId)).Status.ShouldBe(DeliveryStatus.Sent, "a sent delivery stays sent");
        (await retention.SweepAsync(CancellationToken.None)).ShouldBe(0, "nothing twice");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task UndeliveredImage_KeptWhileRetrying_GoneAtMaxAgeWithItsDeliveryCancelled(string database)
    {
        var clock = new ManualClock();
        await using var receiver = await TestReceiver.StartAsync();
        receiver.Respond = TestReceiver.Answer(500);
        await using var app = await DeliveryKit.StartAsync(database, clock, Settings(new Dictionary<string, string?>
        {
            ["Apertur:Delivery:RetryWindow"] = "60.00:00:00",
        }));
        var uuid = await DeliveryKit.SessionAsync(app, await DeliveryKit.WebhookAsync(app, receiver.Url()));
        var imageId = await DeliveryKit.UploadAsync(app, uuid);
        await DeliveryKit.WaitForAttemptsAsync(app, imageId, 1);
        var retention = app.Services.GetRequiredService<ImageRetention>();

        clock.Advance(TimeSpan.FromDays(10));
        (await retention.SweepAsync(CancellationToken.None)).ShouldBe(0, "still being retried: not final");
        (await BytesAsync(app, imageId)).ShouldNotBeNull();

        clock.Advance(TimeSpan.FromDays(20));
        (await retention.SweepAsync(CancellationToken.None)).ShouldBe(1, "thirty days after its upload, whatever its state");
        (await BytesAsync(app, imageId)).ShouldBeNull();
        var delivery = await DeliveryKit.WaitForStatusAsync(app, imageId, DeliveryStatus.Cancelled);
        delivery.LastError.ShouldBe(DeliveryOutcome.CancelledBecause("retention"));
        var attempts = receiver.Requests.Count;
        clock.Advance(TimeSpan.FromDays(5));
        await Task.Delay(500);
        receiver.Requests.Count.ShouldBe(attempts, "no attempt after the cancellation");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task PolledImage_KeptUntilAcknowledged_ThenSevenDays(string database)
    {
        var clock = new ManualClock();
        await using var app = await TestApp.StartAsync(database, Settings(), clock);
        var uuid = (await app.Client.CreateSessionAsync("""{"long_polling":true}""")).SessionId();
        var imageId = Guid.Parse((await app.CreateClient().UploadOkAsync(uuid, "small.jpg")).GetProperty("id").GetString()!);
        var retention = app.Services.GetRequiredService<ImageRetention>();

        clock.Advance(TimeSpan.FromDays(10));
        (await retention.SweepAsync(CancellationToken.None)).ShouldBe(0, "not acknowledged yet");
        using (var ack = await app.Client.PostAsync($"/api/v1/upload-sessions/{uuid}/images/{imageId}/ack", null))
        {
            ack.StatusCode.ShouldBe(HttpStatusCode.OK);
        }
        clock.Advance(TimeSpan.FromDays(7) - Millisecond);
        (await retention.SweepAsync(CancellationToken.None)).ShouldBe(0, "seven days after the acknowledgement");
        clock.Advance(TimeSpan.FromMilliseconds(2));
        (await retention.SweepAsync(CancellationToken.None)).ShouldBe(1);
        using var download = await app.Client.GetAsync($"/api/v1/upload-sessions/{uuid}/images/{imageId}");
        download.StatusCode.ShouldBe(HttpStatusCode.Gone);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task PolledImageNeverAcknowledged_GoneAtMaxAge(string database)
    {
        var clock = new ManualClock();
        await using var app = await TestApp.StartAsync(database, Settings(new Dictionary<string, string?>
        {
            ["Apertur:Retention:MaxImageAge"] = "3.00:00:00",
        }), clock);
        var uuid = (await app.Client.CreateSessionAsync("""{"long_polling":true}""")).SessionId();
        var imageId = Guid.Parse((await app.CreateClient().UploadOkAsync(uuid, "small.jpg")).GetProperty("id").GetString()!);
        var retention = app.Services.GetRequiredService<ImageRetention>();

        clock.Advance(TimeSpan.FromDays(3) - Millisecond);
        (await retention.SweepAsync(CancellationToken.None)).ShouldBe(0);
        clock.Advance(TimeSpan.FromMilliseconds(2));
        (await retention.SweepAsync(CancellationToken.None)).ShouldBe(1);
        using var poll = await app.Client.GetAsync($"/api/v1/upload-sessions/{uuid}/poll");
        (await poll.ReadJsonAsync()).GetProperty("images").GetArrayLength().ShouldBe(0, "out of the poll queue");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task DeliveredImage_ProjectShortensAfterDelivery_GoneAtItsOwnTime_OtherProjectKeptUntilServerTime(string database)
    {
        var clock = new ManualClock();
        await using var receiver = await TestReceiver.StartAsync();
        await using var app = await DeliveryKit.StartAsync(database, clock, Settings());
        using var other = app.CreateClient(await KeysForOtherProject.CreateAsync(app));
        var otherHook = (await other.CreateDestinationAsync($$$"""{"type":"webhook","name":"Receiver","config":{"url":"{{{receiver.Url()}}}"}}"""))
            .GetProperty("id").GetString();
        var otherSession = (await other.CreateSessionAsync($$$"""{"destination_ids":["{{{otherHook}}}"]}""")).SessionId();
        await ShortenAsync(app, Startup.DefaultProjectName, imagesAfterDeliveryMinutes: 2 * 24 * 60, maxImageAgeMinutes: null);
        var ours = await DeliveryKit.UploadAsync(app, await DeliveryKit.SessionAsync(app, await DeliveryKit.WebhookAsync(app, receiver.Url())));
        var theirs = await DeliveryKit.UploadAsync(app, otherSession);
        await DeliveryKit.WaitForStatusAsync(app, ours, DeliveryStatus.Sent);
        await DeliveryKit.WaitForStatusAsync(app, theirs, DeliveryStatus.Sent);
        var retention = app.Services.GetRequiredService<ImageRetention>();
        var delivered = clock.GetUtcNow();

        await KeptUntilThenOneGoneAsync(clock, retention, delivered + TimeSpan.FromDays(2), "the project's own two days after delivery");
        (await BytesAsync(app, ours)).ShouldBeNull();
        (await BytesAsync(app, theirs)).ShouldNotBeNull("another project keeps the server's seven days");
        await KeptUntilThenOneGoneAsync(clock, retention, delivered + TimeSpan.FromDays(7), "the server's seven days");
        (await BytesAsync(app, theirs)).ShouldBeNull();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task UnacknowledgedImage_ProjectShortensMaxAge_GoneAtItsOwnTime_ALongerOneKeepsTheServerMaximum(string database)
    {
        var clock = new ManualClock();
        await using var app = await TestApp.StartAsync(database, Settings(), clock);
        using var other = app.CreateClient(await KeysForOtherProject.CreateAsync(app));
        await ShortenAsync(app, Startup.DefaultProjectName, imagesAfterDeliveryMinutes: null, maxImageAgeMinutes: 5 * 24 * 60);
        // Longer than the server's 30 days (as after the server's was lowered): the server's applies.
        await ShortenAsync(app, "Other", imagesAfterDeliveryMinutes: null, maxImageAgeMinutes: 60 * 24 * 60);
        var ours = await PolledUploadAsync(app, app.Client);
        var theirs = await PolledUploadAsync(app, other);
        var retention = app.Services.GetRequiredService<ImageRetention>();
        var uploaded = clock.GetUtcNow();

        await KeptUntilThenOneGoneAsync(clock, retention, uploaded + TimeSpan.FromDays(5), "never acknowledged: the project's own five days after upload");
        (await BytesAsync(app, ours)).ShouldBeNull();
        (await BytesAsync(app, theirs)).ShouldNotBeNull();
        await KeptUntilThenOneGoneAsync(clock, retention, uploaded + TimeSpan.FromDays(30), "the server's thirty days, not the project's sixty");
        (await BytesAsync(app, theirs)).ShouldBeNull();
    }

    /// <summary>A sweep a millisecond before <paramref name="due"/> deletes nothing; one a millisecond after deletes one image.</summary>
    private static async Task KeptUntilThenOneGoneAsync(ManualClock clock, ImageRetention retention, DateTimeOffset due, string because)
    {
        clock.Advance(due - clock.GetUtcNow() - Millisecond);
        (await retention.SweepAsync(CancellationToken.None)).ShouldBe(0, because);
        clock.Advance(TimeSpan.FromMilliseconds(2));
        (await retention.SweepAsync(CancellationToken.None)).ShouldBe(1, because);
    }

    private static async Task ShortenAsync(TestApp app, string projectName, int? imagesAfterDeliveryMinutes, int? maxImageAgeMinutes) =>
        (await Manage.DbAsync(app, db => db.Projects.Where(p => p.Name == projectName).ExecuteUpdateAsync(s => s
            .SetProperty(p => p.ImagesAfterDeliveryMinutes, imagesAfterDeliveryMinutes)
            .SetProperty(p => p.MaxImageAgeMinutes, maxImageAgeMinutes)))).ShouldBe(1);

    private static async Task<Guid> PolledUploadAsync(TestApp app, HttpClient project)
    {
        var uuid = (await project.CreateSessionAsync("""{"long_polling":true}""")).SessionId();
        return Guid.Parse((await app.CreateClient().UploadOkAsync(uuid, "small.jpg")).GetProperty("id").GetString()!);
    }

    private static async Task<byte[]?> BytesAsync(TestApp app, Guid imageId)
    {
        await using var stream = await app.Services.GetRequiredService<IImageStore>().OpenReadAsync(imageId, CancellationToken.None);
        if (stream is null)
        {
            return null;
        }
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }
}
