using System.Net;
using System.Text.Json;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Tests;
using Microsoft.AspNetCore.Http;
using Shouldly;

namespace Apertur.IntegrationTests.EventWebhooks;

/// <summary>Per-webhook retries, failure, auto-disable and manual retry, driven by a manual clock.</summary>
public sealed class EventRetryTests : IAsyncLifetime
{
    private TestReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await TestReceiver.StartAsync();

    public async Task DisposeAsync() => await _receiver.DisposeAsync();

    private void Answer(int status, string body = "", string? retryAfter = null) => _receiver.Respond = TestReceiver.Answer(status, body, response =>
    {
        if (retryAfter is not null)
        {
            response.Headers.RetryAfter = retryAfter;
        }
        if (status is >= 300 and < 400)
        {
            response.Headers.Location = "/elsewhere";
        }
    });

    /// <summary>Gives the worker a few polls to act on something it should not act on.</summary>
    private static Task QuietAsync() => Task.Delay(TimeSpan.FromMilliseconds(400), TimeProvider.System);

    [Theory, ClassData(typeof(Databases))]
    public async Task Receiver500_RetriesAtTheWebhooksIntervals_ThenFails(string db)
    {
        var clock = new ManualClock();
        var t0 = clock.GetUtcNow();
        await using var app = await EventHooks.StartAsync(db, clock);
        var webhook = (await EventHooks.CreateWebhookAsync(app, $$"""
            {"url":"{{_receiver.Url()}}","topics":["project.session.created"],"maxRetries":2,"retryIntervals":[10,60]}
            """)).Id();
        Answer(500, "boom");

        await app.Client.CreateSessionAsync();

        var id = (await EventHooks.DeliveriesAsync(app)).Single().Id;
        var first = await EventHooks.WaitForDeliveryAsync(app, id, d => d.Attempts == 1, "attempt 1");
        first.Status.ShouldBe("retrying");
        first.NextRetryAt.ShouldBe(t0.AddSeconds(10));
        first.ResponseCode.ShouldBe(500);
        first.ResponseBody.ShouldBe("boom");
        first.LastError.ShouldBe("Receiver answered 500 Internal Server Error");

        clock.Advance(TimeSpan.FromSeconds(9));
        await QuietAsync();
        _receiver.Requests.Count.ShouldBe(1);

        clock.Advance(TimeSpan.FromSeconds(1));
        var second = await EventHooks.WaitForDeliveryAsync(app, id, d => d.Attempts == 2, "attempt 2");
        second.Status.ShouldBe("retrying");
        second.NextRetryAt.ShouldBe(t0.AddSeconds(70));

        clock.Advance(TimeSpan.FromSeconds(60));
        var third = await EventHooks.WaitForDeliveryAsync(app, id, d => d.Attempts == 3, "attempt 3");
        third.Status.ShouldBe("failed");
        third.NextRetryAt.ShouldBeNull();
        _receiver.Requests.Count.ShouldBe(3);
        _receiver.Requests.Select(r => r.Header("X-Apertur-Delivery-Id")).Distinct().ShouldBe([id.ToString()]);

        clock.Advance(TimeSpan.FromDays(1));
        await QuietAsync();
        _receiver.Requests.Count.ShouldBe(3);
        (await EventHooks.WebhookAsync(app, webhook)).ConsecutiveFailures.ShouldBe(1);

        // The deliveries log, as the API shows it.
        var page = await EventHooks.DeliveriesPageAsync(app, webhook);
        page.GetProperty("total").GetInt32().ShouldBe(1);
        var row = page.GetProperty("deliveries").EnumerateArray().Single();
        row.EnumerateObject().Select(p => p.Name).ShouldBe(
            ["id", "eventLogId", "topic", "status", "attempts", "responseCode", "responseBody", "durationMs", "lastError", "nextRetryAt", "createdAt", "updatedAt"]);
        row.GetProperty("id").GetString().ShouldBe(id.ToString());
        row.GetProperty("eventLogId").GetString().ShouldBe(third.EventLogId.ToString());
        row.GetProperty("topic").GetString().ShouldBe("project.session.created");
        row.GetProperty("status").GetString().ShouldBe("failed");
        row.GetProperty("attempts").GetInt32().ShouldBe(3);
        row.GetProperty("responseCode").GetInt32().ShouldBe(500);
        row.GetProperty("responseBody").GetString().ShouldBe("boom");
        row.GetProperty("durationMs").ValueKind.ShouldBe(JsonValueKind.Number);
        row.GetProperty("durationMs").GetInt32().ShouldBeGreaterThanOrEqualTo(0);
        row.GetProperty("lastError").GetString().ShouldBe("Receiver answered 500 Internal Server Error");
        row.GetProperty("nextRetryAt").ValueKind.ShouldBe(JsonValueKind.Null);
        row.GetProperty("createdAt").GetString().ShouldBe("2026-11-02T12:00:00.000Z");
        row.GetProperty("updatedAt").GetString().ShouldBe("2026-11-02T12:01:10.000Z");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task RetryAfter_IsHonouredWithinTwiceTheInterval_AndRedirectsAreNotFollowed(string db)
    {
        var clock = new ManualClock();
        var t0 = clock.GetUtcNow();
        await using var app = await EventHooks.StartAsync(db, clock);
        await EventHooks.CreateWebhookAsync(app, $$"""{"url":"{{_receiver.Url()}}","topics":["project.session.created"],"retryIntervals":[10]}""");

        Answer(503, retryAfter: "15");
        await app.Client.CreateSessionAsync();
        var id = (await EventHooks.DeliveriesAsync(app)).Single().Id;
        (await EventHooks.WaitForDeliveryAsync(app, id, d => d.Attempts == 1, "attempt 1")).NextRetryAt.ShouldBe(t0.AddSeconds(15));

        Answer(429, retryAfter: "3600");
        clock.Advance(TimeSpan.FromSeconds(15));
        (await EventHooks.WaitForDeliveryAsync(app, id, d => d.Attempts == 2, "attempt 2")).NextRetryAt.ShouldBe(t0.AddSeconds(15 + 20));

        Answer(302);
        clock.Advance(TimeSpan.FromSeconds(20));
        var third = await EventHooks.WaitForDeliveryAsync(app, id, d => d.Attempts == 3, "attempt 3");
        third.Status.ShouldBe("retrying");
        third.ResponseCode.ShouldBe(302);
        third.LastError!.ShouldContain("redirects are not followed");
        _receiver.At("/elsewhere").ShouldBeEmpty();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Receiver410_FailsAtOnce(string db)
    {
        var clock = new ManualClock();
        await using var app = await EventHooks.StartAsync(db, clock);
        var webhook = (await EventHooks.CreateWebhookAsync(app, $$"""{"url":"{{_receiver.Url()}}","topics":["project.session.created"],"maxRetries":5}""")).Id();
        Answer(410, "gone");

        await app.Client.CreateSessionAsync();

        var id = (await EventHooks.DeliveriesAsync(app)).Single().Id;
        var delivery = await EventHooks.WaitForDeliveryAsync(app, id, d => d.Status == "failed", "failed");
        delivery.Attempts.ShouldBe(1);
        delivery.ResponseCode.ShouldBe(410);
        delivery.NextRetryAt.ShouldBeNull();
        clock.Advance(TimeSpan.FromHours(1));
        await QuietAsync();
        _receiver.Requests.Count.ShouldBe(1);
        (await EventHooks.WebhookAsync(app, webhook)).ConsecutiveFailures.ShouldBe(1);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task ConsecutiveFailures_ReachingDisableAfterFailures_DisableTheWebhook_WhichGetsNothingMore(string db)
    {
        var clock = new ManualClock();
        await using var app = await EventHooks.StartAsync(db, clock);
        var webhook = (await EventHooks.CreateWebhookAsync(app, $$"""
            {"url":"{{_receiver.Url()}}","topics":["project.session.created"],"maxRetries":0,"disableAfterFailures":2}
            """)).Id();
        Answer(500);

        await app.Client.CreateSessionAsync();
        await Wait.UntilAsync(async () => (await EventHooks.WebhookAsync(app, webhook)).ConsecutiveFailures == 1, what: "one failure");
        (await EventHooks.WebhookAsync(app, webhook)).IsActive.ShouldBeTrue();

        clock.Advance(TimeSpan.FromMinutes(1));
        await app.Client.CreateSessionAsync();
        await Wait.UntilAsync(async () => !(await EventHooks.WebhookAsync(app, webhook)).IsActive, what: "disabled");

        var path = $"{EventHooks.WebhooksPath(await EventHooks.ProjectIdAsync(app))}/{webhook}";
        using (var read = await app.Client.GetAsync(path))
        {
            var w = await read.ReadJsonAsync();
            w.GetProperty("isActive").GetBoolean().ShouldBeFalse();
            w.GetProperty("consecutiveFailures").GetInt32().ShouldBe(2);
            w.GetProperty("disabledAt").GetString().ShouldBe("2026-11-02T12:01:00.000Z");
        }

        Answer(200);
        await app.Client.CreateSessionAsync();
        clock.Advance(TimeSpan.FromHours(1));
        await QuietAsync();
        _receiver.Requests.Count.ShouldBe(2);
        (await EventHooks.DeliveriesAsync(app, webhook)).Count.ShouldBe(2);

        // Manual retry of a disabled webhook's delivery is refused until it is re-activated.
        var failed = (await EventHooks.DeliveriesAsync(app, webhook))[0].Id;
        using (var refused = await app.Client.PostAsync($"{path}/deliveries/{failed}/retry", null))
        {
            refused.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        }
        using (var reactivated = await app.Client.PatchJsonAsync(path, """{"isActive":true}"""))
        {
            var w = await reactivated.ReadJsonAsync();
            w.GetProperty("consecutiveFailures").GetInt32().ShouldBe(0);
            w.GetProperty("disabledAt").ValueKind.ShouldBe(JsonValueKind.Null);
        }
        await app.Client.CreateSessionAsync();
        await _receiver.WaitForAsync(3);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task ManualRetry_OfAFailedDelivery_DeliversIt_AndResetsTheFailureCount(string db)
    {
        var clock = new ManualClock();
        await using var app = await EventHooks.StartAsync(db, clock);
        var webhook = (await EventHooks.CreateWebhookAsync(app, $$"""{"url":"{{_receiver.Url()}}","topics":["project.session.created"],"maxRetries":0}""")).Id();
        Answer(500, "down");
        await app.Client.CreateSessionAsync();
        var id = (await EventHooks.DeliveriesAsync(app)).Single().Id;
        await EventHooks.WaitForDeliveryAsync(app, id, d => d.Status == "failed", "failed");
        (await EventHooks.WebhookAsync(app, webhook)).ConsecutiveFailures.ShouldBe(1);

        Answer(202, "thanks");
        clock.Advance(TimeSpan.FromMinutes(5));
        var path = $"{EventHooks.WebhooksPath(await EventHooks.ProjectIdAsync(app))}/{webhook}/deliveries/{id}/retry";
        using var response = await app.Client.PostAsync(path, null);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await response.ReadJsonAsync()).GetProperty("message").GetString()!.ShouldStartWith("Delivery re-queued");
        var sent = await EventHooks.WaitForDeliveryAsync(app, id, d => d.Status == "sent", "sent");
        sent.Attempts.ShouldBe(2);
        sent.ResponseCode.ShouldBe(202);
        sent.ResponseBody.ShouldBe("thanks");
        sent.LastError.ShouldBeNull();
        var requests = await _receiver.WaitForAsync(2);
        requests[1].Body.ShouldBe(requests[0].Body);
        requests[1].Header("X-Apertur-Delivery-Id").ShouldBe(id.ToString());
        (await EventHooks.WebhookAsync(app, webhook)).ConsecutiveFailures.ShouldBe(0);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task DeactivatedWebhook_QueuedRetriesFailWithoutBeingSent_AndCanBeRetriedOnceActiveAgain(string db)
    {
        var clock = new ManualClock();
        await using var app = await EventHooks.StartAsync(db, clock);
        var webhook = (await EventHooks.CreateWebhookAsync(app, $$"""{"url":"{{_receiver.Url()}}","topics":["project.session.created"],"retryIntervals":[10]}""")).Id();
        var path = $"{EventHooks.WebhooksPath(await EventHooks.ProjectIdAsync(app))}/{webhook}";
        Answer(500);
        await app.Client.CreateSessionAsync();
        var id = (await EventHooks.DeliveriesAsync(app)).Single().Id;
        await EventHooks.WaitForDeliveryAsync(app, id, d => d.Attempts == 1, "attempt 1");

        using (await app.Client.PatchJsonAsync(path, """{"isActive":false}"""))
        {
        }
        clock.Advance(TimeSpan.FromSeconds(10));
        var skipped = await EventHooks.WaitForDeliveryAsync(app, id, d => d.Status == "failed", "failed");
        skipped.Attempts.ShouldBe(1);
        skipped.LastError!.ShouldStartWith("Not sent: the webhook is inactive");
        _receiver.Requests.Count.ShouldBe(1);

        Answer(200);
        using (await app.Client.PatchJsonAsync(path, """{"isActive":true}"""))
        {
        }
        using (var retry = await app.Client.PostAsync($"{path}/deliveries/{id}/retry", null))
        {
            retry.StatusCode.ShouldBe(HttpStatusCode.OK);
        }
        (await EventHooks.WaitForDeliveryAsync(app, id, d => d.Status == "sent", "sent")).Attempts.ShouldBe(2);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task SsrfGuard_RefusesLoopbackUnlessAllowed_AndTheDeliveryFailsAtOnce(string db)
    {
        // Replace the tests' loopback allowance with an unrelated network: the guard now refuses 127.0.0.1.
        await using var app = await TestApp.StartAsync(db, new Dictionary<string, string?>
        {
            ["Apertur:Outbound:AllowedNetworks:0"] = "192.0.2.1/32",
            ["Apertur:EventWebhooks:PollInterval"] = "00:00:00.050",
        });
        var webhook = (await EventHooks.CreateWebhookAsync(app, $$"""{"url":"{{_receiver.Url()}}","topics":["project.session.created"]}""")).Id();

        await app.Client.CreateSessionAsync();

        var id = (await EventHooks.DeliveriesAsync(app)).Single().Id;
        var delivery = await EventHooks.WaitForDeliveryAsync(app, id, d => d.Status == "failed", "failed");
        delivery.Attempts.ShouldBe(1);
        delivery.LastError!.ShouldContain("Refused to connect");
        using var test = await app.Client.PostAsync($"{EventHooks.WebhooksPath(await EventHooks.ProjectIdAsync(app))}/{webhook}/test", null);
        (await test.ReadJsonAsync()).GetProperty("message").GetString()!.ShouldStartWith("Test event failed: Refused to connect");
        _receiver.Requests.ShouldBeEmpty();
    }
}
