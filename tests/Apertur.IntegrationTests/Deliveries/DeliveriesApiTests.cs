using System.Net;
using System.Text.Json;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Server.Delivery;
using Apertur.Tests;
using Microsoft.AspNetCore.Http;
using Shouldly;

namespace Apertur.IntegrationTests.Deliveries;

/// <summary>The deliveries API: list, one with its attempt log, and the manual retries that re-queue failed deliveries.</summary>
public sealed class DeliveriesApiTests
{
    [Theory, ClassData(typeof(Databases))]
    public async Task Retry_FailedDelivery_RequeuedWithAFreshWindowAndDelivered(string database)
    {
        await using var receiver = await TestReceiver.StartAsync();
        var gone = true;
        receiver.Respond = async (context, _) =>
        {
            context.Response.StatusCode = Volatile.Read(ref gone) ? 410 : 200;
            await context.Response.WriteAsync("ok");
        };
        var clock = new ManualClock();
        await using var app = await DeliveryKit.StartAsync(database, clock);
        var destination = await DeliveryKit.WebhookAsync(app, receiver.Url(), name: "Hook");
        var sessionId = await DeliveryKit.SessionAsync(app, destination);
        var imageId = await DeliveryKit.UploadAsync(app, sessionId);
        var failed = await DeliveryKit.WaitForStatusAsync(app, imageId, DeliveryStatus.Failed);

        using var list = await app.Client.GetAsync("/api/v1/deliveries?status=failed");
        var page = await list.ReadJsonAsync();
        page.GetProperty("total").GetInt32().ShouldBe(1);
        page.GetProperty("totalPages").GetInt32().ShouldBe(1);
        var row = page.GetProperty("data")[0];
        row.GetProperty("id").GetString().ShouldBe(failed.Id.ToString());
        row.GetProperty("imageId").GetString().ShouldBe(imageId.ToString());
        row.GetProperty("sessionId").GetString().ShouldBe(sessionId);
        row.GetProperty("destinationName").GetString().ShouldBe("Hook");
        row.GetProperty("destinationType").GetString().ShouldBe("webhook");
        row.GetProperty("attempts").GetInt32().ShouldBe(1);
        row.GetProperty("lastStatusCode").GetInt32().ShouldBe(410);
        row.GetProperty("nextAttemptAt").ValueKind.ShouldBe(JsonValueKind.Null);

        Volatile.Write(ref gone, false);
        clock.Advance(TimeSpan.FromHours(1));
        using var retry = await app.Client.PostAsync($"/api/v1/deliveries/{failed.Id}/retry", null);
        retry.StatusCode.ShouldBe(HttpStatusCode.OK);
        var answer = await retry.ReadJsonAsync();
        answer.GetProperty("message").GetString().ShouldNotBeNullOrEmpty();
        answer.GetProperty("delivery").GetProperty("status").GetString().ShouldBeOneOf("pending", "sending", "sent");

        var sent = await DeliveryKit.WaitForStatusAsync(app, imageId, DeliveryStatus.Sent);
        sent.Attempts.ShouldBe(1);
        sent.FirstAttemptAt.ShouldBe(clock.GetUtcNow());
        sent.NotifiedAt.ShouldBeNull();
        receiver.Requests.Select(r => r.DeliveryId).ShouldBe([failed.Id.ToString(), failed.Id.ToString()]);

        using var detail = await app.Client.GetAsync($"/api/v1/deliveries/{failed.Id}");
        var one = await detail.ReadJsonAsync();
        one.GetProperty("status").GetString().ShouldBe("sent");
        var log = one.GetProperty("attemptLog").EnumerateArray().ToList();
        log.Select(a => a.GetProperty("outcome").GetString()).ShouldBe(["failed", "sent"]);
        log.Select(a => a.GetProperty("statusCode").GetInt32()).ShouldBe([410, 200]);
        log[0].GetProperty("error").GetString().ShouldStartWith("Receiver answered 410");

        using var again = await app.Client.PostAsync($"/api/v1/deliveries/{failed.Id}/retry", null);
        again.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        (await again.ReadErrorCodeAsync()).ShouldBe("DELIVERY_NOT_FAILED");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task RetryFailed_CountsAndRequeuesOnlyTheProjectsFailedDeliveries_OptionallyBySession(string database)
    {
        await using var app = await TestApp.StartAsync(database);
        var hook = await Seed.DestinationAsync(app, "webhook", "Hook", """{"url":"http://127.0.0.1:9/hook"}""");
        var first = (await app.Client.CreateSessionAsync($$"""{"destination_ids":["{{hook}}"]}""")).GetProperty("uuid").GetString()!;
        var second = (await app.Client.CreateSessionAsync($$"""{"destination_ids":["{{hook}}"]}""")).GetProperty("uuid").GetString()!;
        var a = await Seed.ImageAsync(app, first, [1]);
        var b = await Seed.ImageAsync(app, first, [2]);
        var c = await Seed.ImageAsync(app, second, [3]);
        await Seed.ImageAsync(app, second, [4]);
        foreach (var image in new[] { a, b, c })
        {
            await Seed.DeliveryAsync(app, image, hook, "failed", 16, "Receiver answered 500");
        }

        using var other = app.CreateClient(await KeysForOtherProject.CreateAsync(app));
        using var none = await other.PostAsync("/api/v1/deliveries/retry-failed", null);
        (await none.ReadJsonAsync()).GetProperty("count").GetInt32().ShouldBe(0);
        using var hidden = await other.GetAsync($"/api/v1/deliveries/{(await DeliveryKit.DeliveryOfAsync(app, a)).Id}");
        hidden.StatusCode.ShouldBe(HttpStatusCode.NotFound);

        using var bySession = await app.Client.PostAsync($"/api/v1/deliveries/retry-failed?sessionId={second}", null);
        var one = await bySession.ReadJsonAsync();
        one.GetProperty("count").GetInt32().ShouldBe(1);
        one.GetProperty("message").GetString().ShouldBe("Re-queued 1 failed delivery.");
        (await DeliveryKit.DeliveryOfAsync(app, c)).Status.ShouldBe(DeliveryStatus.Pending);

        using var all = await app.Client.PostAsync("/api/v1/deliveries/retry-failed", Http.Json("{}"));
        (await all.ReadJsonAsync()).GetProperty("count").GetInt32().ShouldBe(2);
        var requeued = await DeliveryKit.DeliveryOfAsync(app, a);
        requeued.Status.ShouldBe(DeliveryStatus.Pending);
        requeued.Attempts.ShouldBe(0);

        using var pending = await app.Client.GetAsync($"/api/v1/deliveries?status=pending&sessionId={first}&pageSize=1");
        var page = await pending.ReadJsonAsync();
        page.GetProperty("total").GetInt32().ShouldBe(2);
        page.GetProperty("totalPages").GetInt32().ShouldBe(2);
        page.GetProperty("data").GetArrayLength().ShouldBe(1);
        page.GetProperty("data")[0].GetProperty("nextAttemptAt").GetString().ShouldNotBeNull();

        using var bad = await app.Client.GetAsync("/api/v1/deliveries?status=delivered");
        bad.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        using var anonymous = app.CreateClient();
        using var unauthorised = await anonymous.GetAsync("/api/v1/deliveries");
        unauthorised.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }
}
