using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Server.Data;
using Apertur.Server.EventWebhooks;
using Apertur.Server.Hosting;
using Apertur.Tests;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;

namespace Apertur.IntegrationTests.EventWebhooks;

/// <summary>Event-webhook test helpers: a server whose worker polls fast, webhook creation, and rows read back.</summary>
public static class EventHooks
{
    /// <summary>The workers run, and the event worker and the expiry sweep poll every few milliseconds (real time) so tests do not wait.</summary>
    public static Task<TestApp> StartAsync(string db, ManualClock? clock = null) => TestApp.StartAsync(db, new Dictionary<string, string?>
    {
        ["Apertur:Workers:Enabled"] = "true",
        ["Apertur:EventWebhooks:PollInterval"] = "00:00:00.050",
        ["Apertur:EventWebhooks:ExpirySweepInterval"] = "00:00:00.050",
    }, clock);

    public static async Task<string> ProjectIdAsync(TestApp app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
        return (await db.Projects.Where(p => p.Name == Startup.DefaultProjectName).Select(p => p.Id).FirstAsync()).ToString();
    }

    public static string WebhooksPath(string projectId) => $"/api/v1/projects/{projectId}/webhooks";

    /// <summary>Creates a webhook with the given JSON body and insists on 201.</summary>
    public static async Task<JsonElement> CreateWebhookAsync(TestApp app, string json)
    {
        var projectId = await ProjectIdAsync(app);
        using var response = await app.Client.PostAsync(WebhooksPath(projectId), Http.Json(json));
        var body = await response.ReadJsonAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.Created, body.ToString());
        return body;
    }

    public static string Id(this JsonElement element) => element.GetProperty("id").GetString()!;

    public static async Task<List<WebhookDelivery>> DeliveriesAsync(TestApp app, string? webhookId = null)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
        var query = db.WebhookDeliveries.AsNoTracking();
        if (webhookId is not null)
        {
            var id = Guid.Parse(webhookId);
            query = query.Where(d => d.WebhookId == id);
        }
        return (await query.ToListAsync()).OrderBy(d => d.CreatedAt).ThenBy(d => d.Id).ToList();
    }

    public static async Task<WebhookDelivery> DeliveryAsync(TestApp app, Guid id)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<AperturDb>().WebhookDeliveries.AsNoTracking().FirstAsync(d => d.Id == id);
    }

    public static async Task<EventLog> EventLogAsync(TestApp app, Guid id)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<AperturDb>().EventLogs.AsNoTracking().FirstAsync(l => l.Id == id);
    }

    public static async Task<EventWebhook> WebhookAsync(TestApp app, string id)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<AperturDb>().EventWebhooks.AsNoTracking().FirstAsync(w => w.Id == Guid.Parse(id));
    }

    /// <summary>Waits until the delivery row satisfies <paramref name="condition"/> and returns it.</summary>
    public static async Task<WebhookDelivery> WaitForDeliveryAsync(TestApp app, Guid id, Func<WebhookDelivery, bool> condition, string what)
    {
        WebhookDelivery? row = null;
        await Wait.UntilAsync(async () => condition(row = await DeliveryAsync(app, id)), what: what);
        return row!;
    }

    /// <summary>
    /// Waits until <paramref name="count"/> event deliveries are recorded as sent. Before moving a manual clock: a receiver
    /// has the request before the worker records the answer, and an attempt still in flight when the clock jumps times out
    /// (its timeout runs on that clock) and is retried.
    /// </summary>
    public static Task WaitForSentAsync(TestApp app, int count) =>
        Wait.UntilAsync(async () => (await DeliveriesAsync(app)) is var rows && rows.Count == count && rows.All(d => d.Status == WebhookDeliveryStatus.Sent),
            what: $"{count} event deliveries recorded as sent");

    /// <summary>The deliveries page of a webhook, as the API answers it.</summary>
    public static async Task<JsonElement> DeliveriesPageAsync(TestApp app, string webhookId, string query = "")
    {
        var projectId = await ProjectIdAsync(app);
        using var response = await app.Client.GetAsync($"{WebhooksPath(projectId)}/{webhookId}/deliveries{query}");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return await response.ReadJsonAsync();
    }
}

/// <summary>The receivers' side, written from docs/api.md "Signatures" independently of the server: what the SDK verifiers compute.</summary>
public static class SdkVerify
{
    /// <summary><c>hmac_sha256</c>: <c>sha256=</c> + lowercase hex HMAC-SHA256(UTF-8 secret, "timestamp.body").</summary>
    public static bool Hmac(string secret, string timestamp, byte[] body, string signature)
    {
        var message = $"{timestamp}.{Encoding.UTF8.GetString(body)}";
        var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(message)));
        return signature == expected;
    }

    /// <summary><c>svix</c>: one <c>v1,</c> + base64 HMAC-SHA256(hex-decoded secret, "id.timestamp.body"), as the .NET SDK's VerifySvix.</summary>
    public static bool Svix(string secret, string id, string timestamp, byte[] body, string signature)
    {
        var message = $"{id}.{timestamp}.{Encoding.UTF8.GetString(body)}";
        var expected = "v1," + Convert.ToBase64String(HMACSHA256.HashData(Convert.FromHexString(secret), Encoding.UTF8.GetBytes(message)));
        return signature == expected;
    }
}
