using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Tests;
using Shouldly;

namespace Apertur.IntegrationTests.Polling;

public sealed class PollingApiTests
{
    private static async Task<string> LongPollingSessionAsync(TestApp app) =>
        (await app.Client.CreateSessionAsync("""{"long_polling":true}""")).GetProperty("uuid").GetString()!;

    [Theory, ClassData(typeof(Databases))]
    public async Task Poll_NothingQueued_Answers200WithEmptyImages(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var uuid = await LongPollingSessionAsync(app);
        using var response = await app.Client.GetAsync($"/api/v1/upload-sessions/{uuid}/poll");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/json");
        (await response.Content.ReadAsStringAsync()).ShouldBe("""{"images":[]}""");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Poll_QueuedImages_ListsOldestFirstWithExactSnakeCaseFields(string db)
    {
        var clock = new ManualClock();
        await using var app = await TestApp.StartAsync(db, clock: clock);
        var uuid = await LongPollingSessionAsync(app);
        var first = await Seed.ImageAsync(app, uuid, [1, 2, 3], "first.jpg", "image/jpeg", "camera");
        clock.Advance(TimeSpan.FromSeconds(2.5));
        var second = await Seed.ImageAsync(app, uuid, [4, 5, 6, 7, 8], "second.png", "image/png", "gallery");

        using var response = await app.Client.GetAsync($"/api/v1/upload-sessions/{uuid}/poll");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).ShouldBe(
            $$"""{"images":[{"id":"{{first}}","filename":"first.jpg","size_bytes":3,"mime_type":"image/jpeg","source":"camera","created_at":"2026-11-02T12:00:00.000Z"},"""
            + $$"""{"id":"{{second}}","filename":"second.png","size_bytes":5,"mime_type":"image/png","source":"gallery","created_at":"2026-11-02T12:00:02.500Z"}]}""");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Download_AnswersExactBytesAndMime_EvenWhenJsonIsAccepted(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var uuid = await LongPollingSessionAsync(app);
        var bytes = Fixture.Bytes("screenshot.png");
        var imageId = await Seed.ImageAsync(app, uuid, bytes, "shot.png", "image/png");

        foreach (var accept in new[] { null, "application/json", "*/*" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/upload-sessions/{uuid}/images/{imageId}");
            if (accept is not null)
            {
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));
            }
            using var response = await app.Client.SendAsync(request);
            response.StatusCode.ShouldBe(HttpStatusCode.OK, accept);
            response.Content.Headers.ContentType!.ToString().ShouldBe("image/png");
            response.Headers.GetValues("X-Content-Type-Options").ShouldBe(["nosniff"]);
            (await response.Content.ReadAsByteArrayAsync()).ShouldBe(bytes);
        }
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Ack_AnyBodyForm_AnswersAcknowledged_IsIdempotent_AndLeavesTheQueue(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var uuid = await LongPollingSessionAsync(app);
        var first = await Seed.ImageAsync(app, uuid, [1]);
        var second = await Seed.ImageAsync(app, uuid, [2]);
        var third = await Seed.ImageAsync(app, uuid, [3]);

        var forms = new (Guid Image, HttpContent? Body)[]
        {
            (first, null),
            (first, Http.Json("{}")),
            (second, new StringContent("", Encoding.UTF8, "application/json")),
        };
        foreach (var (image, body) in forms)
        {
            using var response = await app.Client.PostAsync($"/api/v1/upload-sessions/{uuid}/images/{image}/ack", body);
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
            (await response.Content.ReadAsStringAsync()).ShouldBe("""{"status":"acknowledged"}""");
        }

        var poll = await (await app.Client.GetAsync($"/api/v1/upload-sessions/{uuid}/poll")).ReadJsonAsync();
        poll.GetProperty("images").EnumerateArray().Select(i => i.GetProperty("id").GetString()).ShouldBe([third.ToString()]);
        // Downloading is still possible after the ack: only the queue forgets the image.
        using var download = await app.Client.GetAsync($"/api/v1/upload-sessions/{uuid}/images/{first}");
        download.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Ack_BumpsLastChanged(string db)
    {
        var clock = new ManualClock();
        await using var app = await TestApp.StartAsync(db, clock: clock);
        var uuid = await LongPollingSessionAsync(app);
        var image = await Seed.ImageAsync(app, uuid, [1]);
        clock.Advance(TimeSpan.FromMinutes(3));
        using var ack = await app.Client.PostAsync($"/api/v1/upload-sessions/{uuid}/images/{image}/ack", null);
        ack.StatusCode.ShouldBe(HttpStatusCode.OK);
        var status = await (await app.Client.GetAsync($"/api/v1/upload-sessions/{uuid}/delivery-status")).ReadJsonAsync();
        status.GetProperty("lastChanged").GetString().ShouldBe("2026-11-02T12:03:00.000Z");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task DownloadAndAck_UnknownImageOrAnotherSessionsImage_Answer404ImageNotFound(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var uuid = await LongPollingSessionAsync(app);
        var otherSession = await LongPollingSessionAsync(app);
        var elsewhere = await Seed.ImageAsync(app, otherSession, [9]);
        foreach (var imageId in new[] { Guid.CreateVersion7().ToString(), "not-a-uuid", elsewhere.ToString() })
        {
            using var download = await app.Client.GetAsync($"/api/v1/upload-sessions/{uuid}/images/{imageId}");
            download.StatusCode.ShouldBe(HttpStatusCode.NotFound, imageId);
            (await download.ReadErrorCodeAsync()).ShouldBe("IMAGE_NOT_FOUND");
            using var ack = await app.Client.PostAsync($"/api/v1/upload-sessions/{uuid}/images/{imageId}/ack", null);
            ack.StatusCode.ShouldBe(HttpStatusCode.NotFound, imageId);
            (await ack.ReadErrorCodeAsync()).ShouldBe("IMAGE_NOT_FOUND");
        }
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Poll_SessionWithoutLongPolling_Answers400LongPollingDisabled(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var uuid = (await app.Client.CreateSessionAsync()).GetProperty("uuid").GetString();
        using var response = await app.Client.GetAsync($"/api/v1/upload-sessions/{uuid}/poll");
        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await response.ReadErrorCodeAsync()).ShouldBe("LONG_POLLING_DISABLED");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task EveryEndpoint_AnotherProjectsKey_Answers404_AndNoKeyAnswers401(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var uuid = await LongPollingSessionAsync(app);
        var image = await Seed.ImageAsync(app, uuid, [1]);
        using var other = app.CreateClient(await KeysForOtherProject.CreateAsync(app));
        using var anonymous = app.CreateClient();
        var calls = new (HttpMethod Method, string Url)[]
        {
            (HttpMethod.Get, $"/api/v1/upload-sessions/{uuid}/poll"),
            (HttpMethod.Get, $"/api/v1/upload-sessions/{uuid}/images/{image}"),
            (HttpMethod.Post, $"/api/v1/upload-sessions/{uuid}/images/{image}/ack"),
            (HttpMethod.Get, $"/api/v1/upload-sessions/{uuid}/delivery-status"),
        };
        foreach (var (method, url) in calls)
        {
            using var foreign = await other.SendAsync(new HttpRequestMessage(method, url));
            foreign.StatusCode.ShouldBe(HttpStatusCode.NotFound, url);
            (await foreign.ReadErrorCodeAsync()).ShouldBe("SESSION_NOT_FOUND");
            using var unauthenticated = await anonymous.SendAsync(new HttpRequestMessage(method, url));
            unauthenticated.StatusCode.ShouldBe(HttpStatusCode.Unauthorized, url);
            (await unauthenticated.ReadErrorCodeAsync()).ShouldBe("AUTHENTICATION_FAILED");
        }
        // The other project's calls changed nothing: the image is still queued.
        var poll = await (await app.Client.GetAsync($"/api/v1/upload-sessions/{uuid}/poll")).ReadJsonAsync();
        poll.GetProperty("images").GetArrayLength().ShouldBe(1);
    }
}
