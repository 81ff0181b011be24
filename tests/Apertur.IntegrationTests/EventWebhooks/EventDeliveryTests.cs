using System.Text;
using System.Text.Json;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Server.Data;
using Apertur.Server.EventWebhooks;
using Apertur.Server.Hosting;
using Apertur.Tests;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;

namespace Apertur.IntegrationTests.EventWebhooks;

/// <summary>Events on the wire to a real receiver on loopback: bodies byte for byte, signatures as the SDK verifiers check them.</summary>
public sealed class EventDeliveryTests : IAsyncLifetime
{
    private TestReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await TestReceiver.StartAsync();

    public async Task DisposeAsync() => await _receiver.DisposeAsync();

    [Theory, ClassData(typeof(Databases))]
    public async Task SessionCreated_HmacWebhook_GetsTheLoggedBodyByteForByte_SignedWithTheSdkScheme(string db)
    {
        var clock = new ManualClock();
        await using var app = await EventHooks.StartAsync(db, clock);
        var webhook = await EventHooks.CreateWebhookAsync(app, $$$"""
            {"url":"{{{_receiver.Url()}}}","topics":["project.session.created"],"customHeaders":{"X-Tenant":"acme","Authorization":"Bearer receiver-token"}}
            """);
        var secret = webhook.GetProperty("secret").GetString()!;

        var session = await app.Client.CreateSessionAsync("""{"tags":["user:123"],"max_images":3,"metadata":{"odoo":{"res_id":42}}}""");

        var request = (await _receiver.WaitForAsync(1)).Single();
        var delivery = await EventHooks.WaitForDeliveryAsync(app, (await EventHooks.DeliveriesAsync(app)).Single().Id, d => d.Status == "sent", "sent");
        var log = await EventHooks.EventLogAsync(app, delivery.EventLogId);
        request.Body.ShouldBe(Encoding.UTF8.GetBytes(log.Payload));

        request.Header("Content-Type").ShouldBe("application/json");
        request.Header("X-Apertur-Delivery-Id").ShouldBe(delivery.Id.ToString());
        request.Header("X-Apertur-Timestamp").ShouldBe(clock.GetUtcNow().ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Header("X-Apertur-Signature").ShouldMatch("^sha256=[0-9a-f]{64}$");
        SdkVerify.Hmac(secret, request.Header("X-Apertur-Timestamp"), request.Body, request.Header("X-Apertur-Signature")).ShouldBeTrue();
        SdkVerify.Hmac(secret, request.Header("X-Apertur-Timestamp") + "1", request.Body, request.Header("X-Apertur-Signature")).ShouldBeFalse();
        request.Header("X-Tenant").ShouldBe("acme");
        request.Header("Authorization").ShouldBe("Bearer receiver-token");
        request.Has("svix-signature").ShouldBeFalse();
        request.Has("svix-id").ShouldBeFalse();

        using var doc = JsonDocument.Parse(request.Body);
        var root = doc.RootElement;
        root.EnumerateObject().Select(p => p.Name).ShouldBe(["event", "topic", "project_id", "data", "timestamp"]);
        root.GetProperty("event").GetString().ShouldBe("project.session.created");
        root.GetProperty("topic").GetString().ShouldBe("project.session.created");
        root.GetProperty("project_id").GetString().ShouldBe(await EventHooks.ProjectIdAsync(app));
        root.GetProperty("timestamp").GetString().ShouldBe("2026-11-02T12:00:00.000Z");
        var data = root.GetProperty("data");
        data.GetProperty("id").GetString().ShouldBe(session.GetProperty("uuid").GetString());
        data.GetProperty("session_id").GetString().ShouldBe(session.GetProperty("uuid").GetString());
        data.GetProperty("expires_at").GetString().ShouldBe(session.GetProperty("expires_at").GetString());
        data.GetProperty("max_images").GetInt32().ShouldBe(3);
        data.GetProperty("tags").EnumerateArray().Select(t => t.GetString()).ShouldBe(["user:123"]);
        data.GetProperty("env").GetString().ShouldBe("live");
        data.GetProperty("metadata").GetProperty("odoo").GetProperty("res_id").GetInt32().ShouldBe(42);

        delivery.Attempts.ShouldBe(1);
        delivery.ResponseCode.ShouldBe(200);
        delivery.ResponseBody.ShouldBe("ok");
        delivery.NextRetryAt.ShouldBeNull();
        delivery.LastError.ShouldBeNull();
        log.Topic.ShouldBe("project.session.created");
        log.Env.ShouldBe("live");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task SessionCreated_SvixWebhook_OneV1SignatureKeyedWithTheHexDecodedSecret(string db)
    {
        var clock = new ManualClock();
        await using var app = await EventHooks.StartAsync(db, clock);
        var webhook = await EventHooks.CreateWebhookAsync(app, $$"""{"url":"{{_receiver.Url()}}","topics":["project.session.created"],"signature_method":"svix"}""");
        var secret = webhook.GetProperty("secret").GetString()!;

        // A test-mode session delivers like any other (docs/api.md "Authentication").
        using var testClient = app.CreateClient(app.TestKey);
        await testClient.CreateSessionAsync();

        var request = (await _receiver.WaitForAsync(1)).Single();
        var delivery = (await EventHooks.DeliveriesAsync(app)).Single();
        request.Body.ShouldBe(Encoding.UTF8.GetBytes((await EventHooks.EventLogAsync(app, delivery.EventLogId)).Payload));
        request.Header("Content-Type").ShouldBe("application/json");
        request.Header("X-Apertur-Delivery-Id").ShouldBe(delivery.Id.ToString());
        request.Header("svix-id").ShouldBe("msg_" + delivery.Id);
        request.Header("svix-timestamp").ShouldBe(clock.GetUtcNow().ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
        var signature = request.Header("svix-signature");
        signature.ShouldNotContain(" ");
        signature.ShouldStartWith("v1,");
        SdkVerify.Svix(secret, request.Header("svix-id"), request.Header("svix-timestamp"), request.Body, signature).ShouldBeTrue();
        // The key is the decoded bytes, not the hex text as UTF-8.
        var asUtf8 = "v1," + Convert.ToBase64String(System.Security.Cryptography.HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret),
            Encoding.UTF8.GetBytes($"{request.Header("svix-id")}.{request.Header("svix-timestamp")}.{Encoding.UTF8.GetString(request.Body)}")));
        signature.ShouldNotBe(asUtf8);
        request.Has("X-Apertur-Signature").ShouldBeFalse();
        request.Has("X-Apertur-Timestamp").ShouldBeFalse();

        using var doc = JsonDocument.Parse(request.Body);
        doc.RootElement.GetProperty("data").GetProperty("env").GetString().ShouldBe("test");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task SessionCreated_ReachesExactWildcardAndPatternSubscriptions_NotOthers(string db)
    {
        await using var app = await EventHooks.StartAsync(db);
        var subscriptions = new Dictionary<string, string>
        {
            ["/exact"] = "\"project.session.created\"",
            ["/star"] = "\"*\"",
            ["/sessions"] = "\"project.session.*\"",
            ["/middle"] = "\"project.*.created\"",
            ["/uploads"] = "\"project.upload.*\"",
            ["/alias"] = "\"image.uploaded\",\"session.completed\"",
            ["/expired"] = "\"project.session.expired\"",
        };
        var ids = new Dictionary<string, string>();
        foreach (var (path, topics) in subscriptions)
        {
            ids[path] = (await EventHooks.CreateWebhookAsync(app, $$"""{"url":"{{_receiver.Url(path)}}","topics":[{{topics}}]}""")).Id();
        }
        // An inactive subscriber gets nothing either.
        var inactive = (await EventHooks.CreateWebhookAsync(app, $$"""{"url":"{{_receiver.Url("/inactive")}}","topics":["*"]}""")).Id();
        using (await app.Client.PatchJsonAsync($"{EventHooks.WebhooksPath(await EventHooks.ProjectIdAsync(app))}/{inactive}", """{"isActive":false}"""))
        {
        }

        await app.Client.CreateSessionAsync();

        foreach (var path in new[] { "/exact", "/star", "/sessions", "/middle" })
        {
            await _receiver.WaitForAsync(1, path);
        }
        // Only subscribers got a delivery row at all, so nothing can arrive later at the others.
        var deliveries = await EventHooks.DeliveriesAsync(app);
        deliveries.Select(d => d.WebhookId.ToString()).Order().ShouldBe(new[] { "/exact", "/star", "/sessions", "/middle" }.Select(p => ids[p]).Order());
        deliveries.Select(d => d.EventLogId).Distinct().Count().ShouldBe(1);
        await Wait.UntilAsync(async () => (await EventHooks.DeliveriesAsync(app)).All(d => d.Status == "sent"), what: "all sent");
        _receiver.Requests.Count.ShouldBe(4);
        _receiver.Requests.Select(r => Encoding.UTF8.GetString(r.Body)).Distinct().Count().ShouldBe(1);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task ContractVector_HmacHeaderEqualsTheKnownAnswer(string db)
    {
        // docs/api.md "Signatures": secret 4f3c…aabb, ts 1700000000, this exact body → sha256=6b45…eba5. The body is put in the outbox as is.
        const string secret = "4f3c2b1a00112233445566778899aabbccddeeff00112233445566778899aabb";
        const string body = """{"event":"project.upload.completed","project_id":"p1","data":{},"timestamp":"2023-11-14T22:13:20.000Z"}""";
        var clock = new ManualClock(DateTimeOffset.FromUnixTimeSeconds(1700000000));
        await using var app = await EventHooks.StartAsync(db, clock);
        var webhook = Guid.Parse((await EventHooks.CreateWebhookAsync(app, $$"""{"url":"{{_receiver.Url()}}","topics":["*"]}""")).Id());

        await using (var scope = app.Services.CreateAsyncScope())
        {
            var data = scope.ServiceProvider.GetRequiredService<AperturDb>();
            await data.EventWebhooks.Where(w => w.Id == webhook).ExecuteUpdateAsync(s => s.SetProperty(w => w.ProtectedSecret, app.Services.GetRequiredService<WebhookSecretsAtRest>().Protect(secret)));
            var now = clock.GetUtcNow();
            var log = new EventLog { Id = Guid.CreateVersion7(), ProjectId = Guid.Parse(await EventHooks.ProjectIdAsync(app)), Topic = "project.upload.completed", Env = "live", Payload = body, CreatedAt = now };
            data.EventLogs.Add(log);
            data.WebhookDeliveries.Add(new WebhookDelivery
            {
                Id = Guid.CreateVersion7(), WebhookId = webhook, EventLogId = log.Id, Topic = log.Topic, NextRetryAt = now, CreatedAt = now, UpdatedAt = now,
            });
            await data.SaveChangesAsync();
        }

        var request = (await _receiver.WaitForAsync(1)).Single();
        Encoding.UTF8.GetString(request.Body).ShouldBe(body);
        request.Header("X-Apertur-Timestamp").ShouldBe("1700000000");
        request.Header("X-Apertur-Signature").ShouldBe("sha256=6b455076f3d71ef8a422dbfa990f507bccbacfca6a560d5de6b5516ef98aeba5");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task TestEndpoint_ReceiverAnswers200_SaysDelivered_AndSendsASignedTestEvent(string db)
    {
        await using var app = await EventHooks.StartAsync(db);
        var webhook = await EventHooks.CreateWebhookAsync(app, $$"""{"url":"{{_receiver.Url()}}","topics":["project.session.created"]}""");
        var path = $"{EventHooks.WebhooksPath(await EventHooks.ProjectIdAsync(app))}/{webhook.Id()}/test";

        using var response = await app.Client.PostAsync(path, null);

        response.StatusCode.ShouldBe(System.Net.HttpStatusCode.OK);
        (await response.ReadJsonAsync()).GetProperty("message").GetString().ShouldBe("Test event delivered: receiver answered 200");
        var request = _receiver.Requests.Single();
        using var doc = JsonDocument.Parse(request.Body);
        doc.RootElement.GetProperty("event").GetString().ShouldBe("webhook.test");
        doc.RootElement.GetProperty("topic").GetString().ShouldBe("webhook.test");
        SdkVerify.Hmac(webhook.GetProperty("secret").GetString()!, request.Header("X-Apertur-Timestamp"), request.Body, request.Header("X-Apertur-Signature")).ShouldBeTrue();
        // A test send is not an event: no log, no delivery row.
        (await EventHooks.DeliveriesAsync(app)).ShouldBeEmpty();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task TestEndpoint_ReceiverFailsOrIsUnreachable_Answers200SayingWhy(string db)
    {
        await using var app = await EventHooks.StartAsync(db);
        var path = EventHooks.WebhooksPath(await EventHooks.ProjectIdAsync(app));
        var webhook = (await EventHooks.CreateWebhookAsync(app, $$"""{"url":"{{_receiver.Url()}}","topics":["*"],"signatureMethod":"svix"}""")).Id();
        _receiver.Respond = async (context, _) =>
        {
            context.Response.StatusCode = 500;
            await context.Response.WriteAsync("boom");
        };

        using var failed = await app.Client.PostAsync($"{path}/{webhook}/test", Http.Json("{}"));
        failed.StatusCode.ShouldBe(System.Net.HttpStatusCode.OK);
        (await failed.ReadJsonAsync()).GetProperty("message").GetString().ShouldBe("Test event failed: Receiver answered 500 Internal Server Error");
        _receiver.Requests.Single().Has("svix-signature").ShouldBeTrue();

        // A port nobody listens on.
        var closed = (await EventHooks.CreateWebhookAsync(app, """{"url":"http://127.0.0.1:9/hook","topics":["*"]}""")).Id();
        using var unreachable = await app.Client.PostAsync($"{path}/{closed}/test", null);
        unreachable.StatusCode.ShouldBe(System.Net.HttpStatusCode.OK);
        (await unreachable.ReadJsonAsync()).GetProperty("message").GetString()!.ShouldStartWith("Test event failed: Could not connect to 127.0.0.1:9");
    }
}
