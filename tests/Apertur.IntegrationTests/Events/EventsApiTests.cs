using System.Diagnostics;
using System.Net;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Server.Events;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Shouldly;

namespace Apertur.IntegrationTests.Events;

public sealed class EventsApiTests
{
    private static readonly string[] Paths = ["/api/v1/upload/{0}/events", "/api/v1/sessions/{0}/events"];

    private static string Url(string path, string uuid) => string.Format(System.Globalization.CultureInfo.InvariantCulture, path, uuid);

    [Theory, ClassData(typeof(Databases))]
    public async Task Stream_BothPathsWithoutAuth_StartWithConnectedInExactFraming(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var uuid = (await app.Client.CreateSessionAsync()).GetProperty("uuid").GetString()!;
        using var anonymous = app.CreateClient();
        foreach (var path in Paths)
        {
            await using var stream = await SseReader.OpenAsync(anonymous, Url(path, uuid));
            stream.Response.StatusCode.ShouldBe(HttpStatusCode.OK);
            stream.Response.Content.Headers.ContentType!.MediaType.ShouldBe("text/event-stream");
            stream.Response.Headers.CacheControl!.NoCache.ShouldBeTrue();
            stream.Response.Headers.GetValues("X-Accel-Buffering").ShouldBe(["no"]);
            (await stream.NextFrameAsync()).ShouldBe($"event: connected\ndata: {{\"sessionId\":\"{uuid}\"}}\n\n");
        }
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Stream_PublishedEvents_ArriveAsWholeFramesInOrder(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var uuid = (await app.Client.CreateSessionAsync()).GetProperty("uuid").GetString()!;
        using var anonymous = app.CreateClient();
        await using var stream = await SseReader.OpenAsync(anonymous, Url(Paths[0], uuid));
        await stream.NextFrameAsync();

        var imageId = Guid.CreateVersion7();
        var destinationId = Guid.CreateVersion7();
        Seed.Publish(app, uuid, SessionEventNames.ImageReady, new { imageId, filename = "line\nbreak.jpg", sizeBytes = 245000 });
        Seed.Publish(app, uuid, SessionEventNames.ImageFailed, new { imageId, destinationId, error = "HTTP 500" });
        Seed.Publish(app, uuid, SessionEventNames.SessionCompleted, new { sessionId = uuid });

        (await stream.NextFrameAsync()).ShouldBe(
            $"event: image:ready\ndata: {{\"imageId\":\"{imageId}\",\"filename\":\"line\\nbreak.jpg\",\"sizeBytes\":245000}}\n\n");
        (await stream.NextFrameAsync()).ShouldBe(
            $"event: image:failed\ndata: {{\"imageId\":\"{imageId}\",\"destinationId\":\"{destinationId}\",\"error\":\"HTTP 500\"}}\n\n");
        (await stream.NextFrameAsync()).ShouldBe($"event: session:completed\ndata: {{\"sessionId\":\"{uuid}\"}}\n\n");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Stream_Idle_SendsHeartbeatComments(string db)
    {
        await using var app = await TestApp.StartAsync(db, new Dictionary<string, string?> { ["Apertur:Events:HeartbeatInterval"] = "00:00:00.200" });
        var uuid = (await app.Client.CreateSessionAsync()).GetProperty("uuid").GetString()!;
        using var anonymous = app.CreateClient();
        await using var stream = await SseReader.OpenAsync(anonymous, Url(Paths[0], uuid));
        await stream.NextFrameAsync();
        var watch = Stopwatch.StartNew();
        (await stream.NextFrameAsync(TimeSpan.FromSeconds(2))).ShouldBe(": heartbeat\n\n");
        (await stream.NextFrameAsync(TimeSpan.FromSeconds(2))).ShouldBe(": heartbeat\n\n");
        watch.Elapsed.ShouldBeGreaterThan(TimeSpan.FromSeconds(0.3));
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Stream_AliasPath_IgnoresABearerHeaderAndTokenQuery(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var uuid = (await app.Client.CreateSessionAsync()).GetProperty("uuid").GetString()!;
        using var garbage = app.CreateClient("not-a-key");
        foreach (var client in new[] { app.Client, garbage })
        {
            await using var stream = await SseReader.OpenAsync(client, Url(Paths[1], uuid) + "?token=whatever");
            stream.Response.StatusCode.ShouldBe(HttpStatusCode.OK);
            (await stream.NextFrameAsync()).ShouldStartWith("event: connected\n");
        }
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Stream_UnknownSession_Answers404JsonBeforeStreaming(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        using var anonymous = app.CreateClient();
        foreach (var path in Paths)
        {
            foreach (var id in new[] { Guid.CreateVersion7().ToString(), "not-a-uuid" })
            {
                using var response = await anonymous.GetAsync(Url(path, id));
                response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
                response.Content.Headers.ContentType!.MediaType.ShouldBe("application/json");
                (await response.ReadErrorCodeAsync()).ShouldBe("SESSION_NOT_FOUND");
            }
        }
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Stream_ClientDisconnects_ReleasesTheSubscription(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var uuid = (await app.Client.CreateSessionAsync()).GetProperty("uuid").GetString()!;
        using var anonymous = app.CreateClient();
        var stream = await SseReader.OpenAsync(anonymous, Url(Paths[0], uuid));
        await stream.NextFrameAsync();
        Seed.Subscribers(app, uuid).ShouldBe(1);
        await stream.DisposeAsync();
        var watch = Stopwatch.StartNew();
        while (Seed.Subscribers(app, uuid) != 0)
        {
            watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(2), "the stream kept its subscription");
            await Task.Delay(20);
        }
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Stream_ServerStopping_EndsTheStream(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var uuid = (await app.Client.CreateSessionAsync()).GetProperty("uuid").GetString()!;
        using var anonymous = app.CreateClient();
        await using var stream = await SseReader.OpenAsync(anonymous, Url(Paths[0], uuid));
        await stream.NextFrameAsync();
        // Resolved before stopping: the stopped host disposes its services.
        var hub = app.Services.GetRequiredService<SessionEventHub>();
        app.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();
        await Should.ThrowAsync<EndOfStreamException>(() => stream.NextFrameAsync(TimeSpan.FromSeconds(2)));
        hub.SubscriberCount(Guid.Parse(uuid)).ShouldBe(0);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Ack_PublishesSessionUpdatedOnTheStream(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var uuid = (await app.Client.CreateSessionAsync("""{"long_polling":true}""")).GetProperty("uuid").GetString()!;
        var image = await Seed.ImageAsync(app, uuid, [1]);
        using var anonymous = app.CreateClient();
        await using var stream = await SseReader.OpenAsync(anonymous, Url(Paths[0], uuid));
        await stream.NextFrameAsync();
        using var ack = await app.Client.PostAsync($"/api/v1/upload-sessions/{uuid}/images/{image}/ack", null);
        ack.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await stream.NextFrameAsync()).ShouldBe($"event: session:updated\ndata: {{\"sessionId\":\"{uuid}\",\"imageId\":\"{image}\"}}\n\n");
    }
}
