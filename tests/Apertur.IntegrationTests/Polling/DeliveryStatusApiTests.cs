using System.Diagnostics;
using System.Net;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Server.Events;
using Apertur.Tests;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Shouldly;

namespace Apertur.IntegrationTests.Polling;

public sealed class DeliveryStatusApiTests
{
    private static Dictionary<string, string?> Hold(TimeSpan hold) => new() { ["Apertur:Polling:DeliveryStatusHold"] = hold.ToString() };

    private static string StatusUrl(string uuid, string? pollFrom = null) =>
        $"/api/v1/upload-sessions/{uuid}/delivery-status" + (pollFrom is null ? "" : "?pollFrom=" + Uri.EscapeDataString(pollFrom));

    [Theory, ClassData(typeof(Databases))]
    public async Task Snapshot_FilesAndDestinations_HaveTheExactShapeAndOrder(string db)
    {
        var clock = new ManualClock();
        await using var app = await TestApp.StartAsync(db, clock: clock);
        var hook = await Seed.DestinationAsync(app, "webhook", "Primary hook");
        var bucket = await Seed.DestinationAsync(app, "s3", "Archive");
        // The session lists the bucket first: that order wins over creation order.
        var uuid = (await app.Client.CreateSessionAsync($$"""{"destination_ids":["{{bucket}}","{{hook}}"]}""")).GetProperty("uuid").GetString()!;
        clock.Advance(TimeSpan.FromSeconds(1));
        var first = await Seed.ImageAsync(app, uuid, new byte[245000], "a.jpg");
        clock.Advance(TimeSpan.FromSeconds(1));
        var second = await Seed.ImageAsync(app, uuid, new byte[1000], "b.png", "image/png");
        clock.Advance(TimeSpan.FromSeconds(1));
        await Seed.DeliveryAsync(app, first, bucket, "sent", 1, null);
        await Seed.DeliveryAsync(app, first, hook, "retrying", 2, "HTTP 503 from receiver");
        clock.Advance(TimeSpan.FromMilliseconds(250));
        await Seed.DeliveryAsync(app, second, bucket, "failed", 5, "Access \"denied\"");

        using var response = await app.Client.GetAsync(StatusUrl(uuid));
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).ShouldBe(
            """{"status":"active","files":["""
            + $$"""{"record_id":"{{first}}","filename":"a.jpg","size_bytes":245000,"has_thumbnail":false,"destinations":["""
            + $$"""{"destination_id":"{{bucket}}","type":"s3","name":"Archive","status":"sent","attempts":1,"last_error":null},"""
            + $$"""{"destination_id":"{{hook}}","type":"webhook","name":"Primary hook","status":"retrying","attempts":2,"last_error":"HTTP 503 from receiver"}]},"""
            + $$"""{"record_id":"{{second}}","filename":"b.png","size_bytes":1000,"has_thumbnail":false,"destinations":["""
            + $$"""{"destination_id":"{{bucket}}","type":"s3","name":"Archive","status":"failed","attempts":5,"last_error":"Access \"denied\""},"""
            + $$"""{"destination_id":"{{hook}}","type":"webhook","name":"Primary hook","status":"pending","attempts":0,"last_error":null}]}],"""
            + "\"lastChanged\":\"2026-11-02T12:00:03.250Z\"}");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Snapshot_NoFiles_LastChangedIsTheCreationTime(string db)
    {
        var clock = new ManualClock();
        await using var app = await TestApp.StartAsync(db, clock: clock);
        var uuid = (await app.Client.CreateSessionAsync()).GetProperty("uuid").GetString()!;
        clock.Advance(TimeSpan.FromMinutes(5));
        using var response = await app.Client.GetAsync(StatusUrl(uuid));
        (await response.Content.ReadAsStringAsync()).ShouldBe("""{"status":"active","files":[],"lastChanged":"2026-11-02T12:00:00.000Z"}""");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Snapshot_AfterExpiry_ReadsExpiredAndLastChangedMovesToTheExpiry(string db)
    {
        var clock = new ManualClock();
        await using var app = await TestApp.StartAsync(db, clock: clock);
        var uuid = (await app.Client.CreateSessionAsync("""{"expires_in":600}""")).GetProperty("uuid").GetString()!;
        clock.Advance(TimeSpan.FromHours(1));
        var status = await (await app.Client.GetAsync(StatusUrl(uuid, "2026-11-02T12:00:00.000Z"))).ReadJsonAsync();
        status.GetProperty("status").GetString().ShouldBe("expired");
        status.GetProperty("lastChanged").GetString().ShouldBe("2026-11-02T12:10:00.000Z");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task PollFrom_BeforeLastChanged_AnswersAtOnce(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var uuid = (await app.Client.CreateSessionAsync()).GetProperty("uuid").GetString()!;
        var watch = Stopwatch.StartNew();
        using var response = await app.Client.GetAsync(StatusUrl(uuid, "2020-01-01T00:00:00.000Z"));
        watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(2));
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await response.ReadJsonAsync()).GetProperty("lastChanged").GetString().ShouldNotBeNull();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task PollFrom_EqualToLastChanged_IsHeldUntilAChangeIsPublished(string db)
    {
        var clock = new ManualClock();
        await using var app = await TestApp.StartAsync(db, Hold(TimeSpan.FromSeconds(20)), clock);
        var uuid = (await app.Client.CreateSessionAsync("""{"long_polling":true}""")).GetProperty("uuid").GetString()!;
        var lastChanged = (await (await app.Client.GetAsync(StatusUrl(uuid))).ReadJsonAsync()).GetProperty("lastChanged").GetString()!;

        var held = app.Client.GetAsync(StatusUrl(uuid, lastChanged));
        await Task.Delay(500);
        held.IsCompleted.ShouldBeFalse();

        clock.Advance(TimeSpan.FromSeconds(1));
        var image = await Seed.ImageAsync(app, uuid, [1, 2, 3], "new.jpg");
        var watch = Stopwatch.StartNew();
        Seed.Publish(app, uuid, SessionEventNames.ImageReady, new { imageId = image, filename = "new.jpg", sizeBytes = 3 });
        using var response = await held.WaitAsync(TimeSpan.FromSeconds(5));
        watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(1.5));
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var body = await response.ReadJsonAsync();
        body.GetProperty("lastChanged").GetString().ShouldBe("2026-11-02T12:00:01.000Z");
        body.GetProperty("files")[0].GetProperty("record_id").GetString().ShouldBe(image.ToString());
        Seed.Subscribers(app, uuid).ShouldBe(0);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task PollFrom_DeliveryUpdate_ReleasesTheHold(string db)
    {
        var clock = new ManualClock();
        await using var app = await TestApp.StartAsync(db, Hold(TimeSpan.FromSeconds(20)), clock);
        var hook = await Seed.DestinationAsync(app, "webhook", "Hook");
        var uuid = (await app.Client.CreateSessionAsync($$"""{"destination_ids":["{{hook}}"]}""")).GetProperty("uuid").GetString()!;
        var image = await Seed.ImageAsync(app, uuid, [1]);
        var lastChanged = (await (await app.Client.GetAsync(StatusUrl(uuid))).ReadJsonAsync()).GetProperty("lastChanged").GetString()!;

        var held = app.Client.GetAsync(StatusUrl(uuid, lastChanged));
        await Task.Delay(300);
        held.IsCompleted.ShouldBeFalse();
        clock.Advance(TimeSpan.FromMilliseconds(1));
        await Seed.DeliveryAsync(app, image, hook, "sent", 1, null);
        Seed.Publish(app, uuid, SessionEventNames.ImageDelivered, new { imageId = image, destinationId = hook });

        using var response = await held.WaitAsync(TimeSpan.FromSeconds(2));
        var destination = (await response.ReadJsonAsync()).GetProperty("files")[0].GetProperty("destinations")[0];
        destination.GetProperty("status").GetString().ShouldBe("sent");
        destination.GetProperty("attempts").GetInt32().ShouldBe(1);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task PollFrom_NothingChanges_AnswersTheUnchangedSnapshotAtTheHoldLimit(string db)
    {
        await using var app = await TestApp.StartAsync(db, Hold(TimeSpan.FromSeconds(1)));
        var uuid = (await app.Client.CreateSessionAsync()).GetProperty("uuid").GetString()!;
        var before = await (await app.Client.GetAsync(StatusUrl(uuid))).Content.ReadAsStringAsync();
        var lastChanged = System.Text.Json.JsonDocument.Parse(before).RootElement.GetProperty("lastChanged").GetString()!;
        // An event that changes nothing wakes the waiter, which re-reads and keeps holding.
        var watch = Stopwatch.StartNew();
        var held = app.Client.GetAsync(StatusUrl(uuid, lastChanged));
        await Task.Delay(200);
        Seed.Publish(app, uuid, SessionEventNames.ImageDelivering, new { });

        using var response = await held.WaitAsync(TimeSpan.FromSeconds(5));
        watch.Elapsed.ShouldBeGreaterThan(TimeSpan.FromSeconds(0.9));
        watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(3));
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).ShouldBe(before);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task PollFrom_ComparesInstantsAcrossOffsets_AndAcceptsAnEncodedPlus(string db)
    {
        var clock = new ManualClock();
        await using var app = await TestApp.StartAsync(db, Hold(TimeSpan.FromSeconds(1)), clock);
        var uuid = (await app.Client.CreateSessionAsync()).GetProperty("uuid").GetString()!;

        // 13:59:59.999+02:00 is a millisecond before lastChanged (12:00:00.000Z): answered at once.
        var watch = Stopwatch.StartNew();
        using var early = await app.Client.GetAsync($"/api/v1/upload-sessions/{uuid}/delivery-status?pollFrom=2026-11-02T13%3A59%3A59.999%2B02%3A00");
        early.StatusCode.ShouldBe(HttpStatusCode.OK);
        watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(0.9));

        // 14:00:00.000+02:00 is lastChanged itself: "no change yet", so held to the limit.
        watch.Restart();
        using var same = await app.Client.GetAsync($"/api/v1/upload-sessions/{uuid}/delivery-status?pollFrom=2026-11-02T14:00:00.000%2B02:00");
        same.StatusCode.ShouldBe(HttpStatusCode.OK);
        watch.Elapsed.ShouldBeGreaterThan(TimeSpan.FromSeconds(0.9));
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task PollFrom_Invalid_Answers400InvalidPollFrom(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var uuid = (await app.Client.CreateSessionAsync()).GetProperty("uuid").GetString()!;
        foreach (var value in new[] { "yesterday", "2026-13-45T00:00:00Z", "12345" })
        {
            using var response = await app.Client.GetAsync(StatusUrl(uuid, value));
            response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, value);
            (await response.ReadErrorCodeAsync()).ShouldBe("INVALID_POLL_FROM");
        }
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task PollFrom_ClientDisconnects_ReleasesTheHoldPromptly(string db)
    {
        await using var app = await TestApp.StartAsync(db, Hold(TimeSpan.FromSeconds(20)));
        var uuid = (await app.Client.CreateSessionAsync()).GetProperty("uuid").GetString()!;
        var lastChanged = (await (await app.Client.GetAsync(StatusUrl(uuid))).ReadJsonAsync()).GetProperty("lastChanged").GetString()!;
        using var cts = new CancellationTokenSource();
        var held = app.Client.GetAsync(StatusUrl(uuid, lastChanged), cts.Token);
        await WaitUntilAsync(() => Seed.Subscribers(app, uuid) == 1);
        await cts.CancelAsync();
        await Should.ThrowAsync<OperationCanceledException>(held);
        await WaitUntilAsync(() => Seed.Subscribers(app, uuid) == 0);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task PollFrom_ServerStopping_AnswersTheHeldRequestAtOnce(string db)
    {
        // Kestrel drains in-flight requests before the host is disposed; the in-memory server does not.
        await using var app = await TestApp.StartAsync(db, Hold(TimeSpan.FromSeconds(20)), kestrel: true);
        var uuid = (await app.Client.CreateSessionAsync()).GetProperty("uuid").GetString()!;
        var lastChanged = (await (await app.Client.GetAsync(StatusUrl(uuid))).ReadJsonAsync()).GetProperty("lastChanged").GetString()!;
        var held = app.Client.GetAsync(StatusUrl(uuid, lastChanged));
        await WaitUntilAsync(() => Seed.Subscribers(app, uuid) == 1);
        app.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();
        using var response = await held.WaitAsync(TimeSpan.FromSeconds(2));
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await response.ReadJsonAsync()).GetProperty("lastChanged").GetString().ShouldBe(lastChanged);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(2), "condition not reached in time");
            await Task.Delay(20);
        }
    }
}
