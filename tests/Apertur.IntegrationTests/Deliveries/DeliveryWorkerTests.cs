using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Server.Delivery;
using Apertur.Server.Events;
using Apertur.Tests;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;

namespace Apertur.IntegrationTests.Deliveries;

/// <summary>An upload goes through the worker to a real webhook receiver on loopback, and every view of it agrees.</summary>
public sealed class DeliveryWorkerTests
{
    [Theory, ClassData(typeof(Databases))]
    public async Task Upload_WebhookDestination_DeliveredSignedRecordedAndAnnounced(string database)
    {
        await using var receiver = await TestReceiver.StartAsync();
        await using var app = await DeliveryKit.StartAsync(database);
        var destination = await DeliveryKit.WebhookAsync(app, receiver.Url(), name: "Primary hook");
        var sessionId = await DeliveryKit.SessionAsync(app, destination);
        using var events = app.Services.GetRequiredService<SessionEventHub>().Subscribe(Guid.Parse(sessionId));

        var imageId = await DeliveryKit.UploadAsync(app, sessionId);

        var delivery = await DeliveryKit.WaitForStatusAsync(app, imageId, DeliveryStatus.Sent);
        delivery.Attempts.ShouldBe(1);
        delivery.LastError.ShouldBeNull();
        delivery.LastStatusCode.ShouldBe(200);
        delivery.RemoteRef.ShouldBe(receiver.Url().ToString());
        delivery.LeaseToken.ShouldBeNull();

        var hook = receiver.Requests.ShouldHaveSingleItem();
        hook.DeliveryId.ShouldBe(delivery.Id.ToString());
        hook.Header("X-Aptr-Image-Id").ShouldBe(imageId.ToString());
        hook.Header("X-Aptr-Session-Id").ShouldBe(sessionId);
        var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(DeliveryKit.Secret), hook.Body));
        hook.Header("X-Aptr-Signature").ShouldBe(expected);
        var standardKey = Apertur.Destinations.Webhooks.Signatures.StandardWebhooksKey(DeliveryKit.Secret);
        hook.Header("webhook-signature").ShouldBe(Apertur.Destinations.Webhooks.Signatures.StandardWebhooks(
            standardKey, hook.Header("webhook-id"), long.Parse(hook.Header("webhook-timestamp"), System.Globalization.CultureInfo.InvariantCulture), hook.Body));
        var body = Encoding.Latin1.GetString(hook.Body);
        body.ShouldContain(Encoding.Latin1.GetString(Fixture.Bytes("small.jpg")));

        var attempt = (await DeliveryKit.AttemptsOfAsync(app, delivery.Id)).ShouldHaveSingleItem();
        attempt.Attempt.ShouldBe(1);
        attempt.Outcome.ShouldBe("sent");
        attempt.StatusCode.ShouldBe(200);
        attempt.ResponseSnippet.ShouldBe("ok");
        attempt.Error.ShouldBeNull();
        attempt.DurationMs.ShouldBeGreaterThanOrEqualTo(0);

        var names = new List<string>();
        await Wait.UntilAsync(() =>
        {
            while (events.Reader.TryRead(out var e))
            {
                names.Add(e.Name);
                if (e.Name == SessionEventNames.ImageDelivered)
                {
                    using var payload = JsonDocument.Parse(e.DataJson);
                    payload.RootElement.GetProperty("imageId").GetString().ShouldBe(imageId.ToString());
                    payload.RootElement.GetProperty("destinationId").GetString().ShouldBe(destination.ToString());
                }
            }
            return Task.FromResult(names.Contains(SessionEventNames.ImageDelivered));
        }, what: "image:delivered");
        names.Where(n => n.StartsWith("image:deliver", StringComparison.Ordinal))
            .ShouldBe([SessionEventNames.ImageDelivering, SessionEventNames.ImageDelivered]);

        using var status = await app.Client.GetAsync($"/api/v1/upload-sessions/{sessionId}/delivery-status");
        var target = (await status.ReadJsonAsync()).GetProperty("files")[0].GetProperty("destinations")[0];
        target.GetProperty("status").GetString().ShouldBe("sent");
        target.GetProperty("attempts").GetInt32().ShouldBe(1);
        target.GetProperty("last_error").ValueKind.ShouldBe(JsonValueKind.Null);

        using var uploads = await app.Client.GetAsync("/api/v1/uploads");
        var row = (await uploads.ReadJsonAsync()).GetProperty("data")[0];
        row.GetProperty("destinationsDelivered").GetInt32().ShouldBe(1);
        row.GetProperty("status").GetString().ShouldBe("delivered");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Upload_EventJson_CarriesSessionTagsMetadataAndAWorkingDownloadUrl(string database)
    {
        await using var receiver = await TestReceiver.StartAsync();
        await using var app = await DeliveryKit.StartAsync(database);
        var destination = await DeliveryKit.WebhookAsync(app, receiver.Url(), format: "event_json");
        var sessionId = await DeliveryKit.SessionAsync(app, destination);

        var imageId = await DeliveryKit.UploadAsync(app, sessionId);

        await DeliveryKit.WaitForStatusAsync(app, imageId, DeliveryStatus.Sent);
        using var json = JsonDocument.Parse(receiver.Requests.ShouldHaveSingleItem().Body);
        var data = json.RootElement.GetProperty("data");
        data.GetProperty("id").GetString().ShouldBe(imageId.ToString());
        data.GetProperty("tags").EnumerateArray().Select(t => t.GetString()).ShouldBe(["user:42", "vip"]);
        data.GetProperty("metadata").GetProperty("order").GetString().ShouldBe("A-17");
        var url = new Uri(data.GetProperty("download_url").GetString()!);
        url.AbsolutePath.ShouldBe($"/api/v1/images/{imageId}/download");

        using var anonymous = app.CreateClient();
        using var download = await anonymous.GetAsync(url.PathAndQuery);
        ((int)download.StatusCode).ShouldBe(200);
        (await download.Content.ReadAsByteArrayAsync()).ShouldBe(Fixture.Bytes("small.jpg"));
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Shutdown_MidDelivery_ReleasesTheLeaseWithoutCountingAnAttempt(string database)
    {
        await using var receiver = await TestReceiver.StartAsync();
        var answer = new TaskCompletionSource();
        receiver.Respond = async (context, _) => await answer.Task.WaitAsync(context.RequestAborted);
        // The owner keeps storage and runs no worker; the second server on the same database delivers.
        await using var app = await TestApp.StartAsync(database, DeliveryKit.Settings(new Dictionary<string, string?> { ["Apertur:Delivery:WorkerEnabled"] = "false" }));
        var destination = await DeliveryKit.WebhookAsync(app, receiver.Url());
        var sessionId = await DeliveryKit.SessionAsync(app, destination);
        var imageId = await DeliveryKit.UploadAsync(app, sessionId);
        var worker = await app.StartAnotherAsync(new Dictionary<string, string?> { ["Apertur:Delivery:WorkerEnabled"] = "true" });

        await receiver.WaitForAsync(1);
        (await DeliveryKit.DeliveryOfAsync(app, imageId)).Status.ShouldBe(DeliveryStatus.Sending);
        await worker.DisposeAsync();

        var released = await DeliveryKit.DeliveryOfAsync(app, imageId);
        released.Status.ShouldBe(DeliveryStatus.Pending);
        released.Attempts.ShouldBe(0);
        released.LeaseToken.ShouldBeNull();
        (await DeliveryKit.AttemptsOfAsync(app, released.Id)).ShouldBeEmpty();
        answer.SetResult();
    }
}
