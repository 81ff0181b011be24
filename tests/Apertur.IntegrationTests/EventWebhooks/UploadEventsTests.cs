using System.Net;
using System.Text;
using System.Text.Json;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.IntegrationTests.Uploads;
using Apertur.Tests;
using Shouldly;

namespace Apertur.IntegrationTests.EventWebhooks;

/// <summary>project.upload.started / .completed / .failed around real uploads through the public endpoint.</summary>
public sealed class UploadEventsTests : IAsyncLifetime
{
    private TestReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await TestReceiver.StartAsync();

    public async Task DisposeAsync() => await _receiver.DisposeAsync();

    private static JsonElement Json(ReceivedRequest request)
    {
        using var doc = JsonDocument.Parse(request.Body);
        return doc.RootElement.Clone();
    }

    private static string Topic(ReceivedRequest request) => Json(request).GetProperty("topic").GetString()!;

    [Theory, ClassData(typeof(Databases))]
    public async Task Upload_FiresStartedThenCompleted_WithTheImage_AndAliasesHearCompleted(string db)
    {
        await using var app = await EventHooks.StartAsync(db);
        await EventHooks.CreateWebhookAsync(app, $$"""{"url":"{{_receiver.Url("/all")}}","topics":["project.upload.*"]}""");
        await EventHooks.CreateWebhookAsync(app, $$"""{"url":"{{_receiver.Url("/odoo")}}","topics":["image.uploaded","project.upload.image.delivered"]}""");
        await EventHooks.CreateWebhookAsync(app, $$"""{"url":"{{_receiver.Url("/done")}}","topics":["session.completed"]}""");
        var session = (await app.Client.CreateSessionAsync("""{"max_images":1,"tags":["odoo:res.partner:42"],"metadata":{"odoo":{"res_id":42}}}""")).SessionId();

        var uploaded = await app.Client.UploadOkAsync(session, "small.jpg");

        var all = await _receiver.WaitForAsync(2, "/all");
        all.Select(Topic).Order().ShouldBe(["project.upload.completed", "project.upload.started"]);
        var started = Json(all.Single(r => Topic(r) == "project.upload.started")).GetProperty("data");
        started.GetProperty("session_id").GetString().ShouldBe(session);
        started.GetProperty("image_index").GetInt32().ShouldBe(0);

        var completed = Json(all.Single(r => Topic(r) == "project.upload.completed"));
        completed.GetProperty("event").GetString().ShouldBe("project.upload.completed");
        var data = completed.GetProperty("data");
        data.GetProperty("id").GetString().ShouldBe(uploaded.GetProperty("id").GetString());
        data.GetProperty("session_id").GetString().ShouldBe(session);
        data.GetProperty("filename").GetString().ShouldBe(uploaded.GetProperty("filename").GetString());
        data.GetProperty("size_bytes").GetInt64().ShouldBe(Fixture.Bytes("small.jpg").LongLength);
        data.GetProperty("mime_type").GetString().ShouldBe("image/jpeg");
        data.GetProperty("image_index").GetInt32().ShouldBe(0);
        data.GetProperty("tags").EnumerateArray().Select(t => t.GetString()).ShouldBe(["odoo:res.partner:42"]);
        data.GetProperty("metadata").GetProperty("odoo").GetProperty("res_id").GetInt32().ShouldBe(42);
        data.GetProperty("session_completed").GetBoolean().ShouldBeTrue();

        // Aliases receive the very same completed event, once each even when two of their names match.
        var odoo = (await _receiver.WaitForAsync(1, "/odoo")).Single();
        odoo.Body.ShouldBe(all.Single(r => Topic(r) == "project.upload.completed").Body);
        (await _receiver.WaitForAsync(1, "/done")).Single().Body.ShouldBe(odoo.Body);
        await Wait.UntilAsync(async () => (await EventHooks.DeliveriesAsync(app)).All(d => d.Status == "sent"), what: "all sent");
        _receiver.At("/odoo").Length.ShouldBe(1);
        _receiver.At("/done").Length.ShouldBe(1);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task RejectedUpload_FiresStartedThenFailedWithTheErrorCode_ClosedSessionFiresNothing(string db)
    {
        var clock = new ManualClock();
        await using var app = await EventHooks.StartAsync(db, clock);
        await EventHooks.CreateWebhookAsync(app, $$"""{"url":"{{_receiver.Url()}}","topics":["project.upload.*"]}""");
        var session = (await app.Client.CreateSessionAsync("""{"expires_in":600}""")).SessionId();

        using (var svg = await app.Client.UploadAsync(session, Fixture.Bytes("script.svg"), "script.svg", "image/svg+xml"))
        {
            svg.StatusCode.ShouldBe(HttpStatusCode.UnsupportedMediaType);
        }
        using (var bomb = await app.Client.UploadAsync(session, Fixture.Bytes("bomb-30000px.png"), "bomb.png", "image/png"))
        {
            bomb.StatusCode.ShouldBe((HttpStatusCode)422);
        }

        var requests = await _receiver.WaitForAsync(4);
        requests.Select(Topic).Count(t => t == "project.upload.started").ShouldBe(2);
        var failures = requests.Where(r => Topic(r) == "project.upload.failed").Select(r => Json(r).GetProperty("data")).ToList();
        failures.Select(f => f.GetProperty("code").GetString()).Order().ShouldBe(["IMAGE_DIMENSION_EXCEEDED", "UNSUPPORTED_MEDIA_TYPE"]);
        failures.ShouldAllBe(f => f.GetProperty("session_id").GetString() == session);
        failures.Select(f => f.GetProperty("status").GetInt32()).Order().ShouldBe([415, 422]);
        requests.Select(Topic).ShouldNotContain("project.upload.completed");

        // An expired session refuses before the upload starts: no event at all.
        await EventHooks.WaitForSentAsync(app, 4);
        clock.Advance(TimeSpan.FromMinutes(11));
        using (var late = await app.Client.UploadAsync(session, Fixture.Bytes("small.jpg")))
        {
            late.StatusCode.ShouldBe(HttpStatusCode.Gone);
        }
        await Task.Delay(TimeSpan.FromMilliseconds(300), TimeProvider.System);
        _receiver.Requests.Count.ShouldBe(4);
        Encoding.UTF8.GetString(_receiver.Requests.First().Body).ShouldContain("\"project_id\"");
    }
}
