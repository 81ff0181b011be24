using System.Text.Json;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.IntegrationTests.Uploads;
using Apertur.Server.Data;
using Apertur.Server.Deliveries;
using Apertur.Tests;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Apertur.IntegrationTests.Deliveries;

/// <summary>A server with its delivery worker on, a webhook destination, and readers for the rows the worker writes.</summary>
public static class DeliveryKit
{
    public const string Secret = "whsec_dGVzdC1zZWNyZXQtZm9yLWRlbGl2ZXJ5LXRlc3Rz";

    /// <summary>Worker on, polling fast, no jitter (exact schedule), a known webhook secret; plus <paramref name="extra"/>.</summary>
    public static Dictionary<string, string?> Settings(IDictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Apertur:Workers:Enabled"] = "true",
            ["Apertur:Delivery:PollInterval"] = "00:00:00.050",
            ["Apertur:Delivery:Jitter"] = "0",
            ["Apertur:Bootstrap:WebhookSecret"] = Secret,
            ["Apertur:RateLimits:Upload"] = "0",
            ["Apertur:RateLimits:UploadPerIp"] = "0",
        };
        foreach (var (k, v) in extra ?? new Dictionary<string, string?>())
        {
            settings[k] = v;
        }
        return settings;
    }

    public static Task<TestApp> StartAsync(string database, ManualClock? clock = null, IDictionary<string, string?>? extra = null) =>
        TestApp.StartAsync(database, Settings(extra), clock);

    public static Task<Guid> WebhookAsync(TestApp app, Uri url, string format = "multipart", string name = "Receiver") =>
        Seed.DestinationAsync(app, "webhook", name, JsonSerializer.Serialize(new { url = url.ToString(), format }));

    /// <summary>A session that delivers to the given destinations, with tags and metadata.</summary>
    public static async Task<string> SessionAsync(TestApp app, params Guid[] destinations)
    {
        var ids = string.Join(",", destinations.Select(d => $"\"{d}\""));
        var created = await app.Client.CreateSessionAsync(
            $$$"""{"destination_ids":[{{{ids}}}],"max_images":50,"tags":["user:42","vip"],"metadata":{"order":"A-17"}}""");
        return created.SessionId();
    }

    /// <summary>Uploads a fixture through the public endpoint (which commits the deliveries and nudges the worker).</summary>
    public static async Task<Guid> UploadAsync(TestApp app, string sessionId, string fixture = "small.jpg")
    {
        using var client = app.CreateClient();
        var uploaded = await client.UploadOkAsync(sessionId, fixture);
        return Guid.Parse(uploaded.GetProperty("id").GetString()!);
    }

    public static async Task<Server.Deliveries.Delivery> DeliveryOfAsync(TestApp app, Guid imageId)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
        return await db.Deliveries.AsNoTracking().SingleAsync(d => d.ImageId == imageId);
    }

    public static async Task<List<DeliveryAttempt>> AttemptsOfAsync(TestApp app, Guid deliveryId)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
        return await db.DeliveryAttempts.AsNoTracking().Where(a => a.DeliveryId == deliveryId).OrderBy(a => a.Attempt).ToListAsync();
    }

    /// <summary>Waits until the delivery of the image has made <paramref name="attempts"/> attempts and is no longer being sent.</summary>
    public static async Task<Server.Deliveries.Delivery> WaitForAttemptsAsync(TestApp app, Guid imageId, int attempts, TimeSpan? timeout = null)
    {
        Server.Deliveries.Delivery? delivery = null;
        await Wait.UntilAsync(async () =>
        {
            delivery = await DeliveryOfAsync(app, imageId);
            return delivery.Attempts >= attempts && delivery.Status != DeliveryStatus.Sending;
        }, timeout, $"attempt {attempts} of image {imageId} (now {delivery?.Attempts} attempts, {delivery?.Status})");
        return delivery!;
    }

    public static async Task<Server.Deliveries.Delivery> WaitForStatusAsync(TestApp app, Guid imageId, string status, TimeSpan? timeout = null)
    {
        Server.Deliveries.Delivery? delivery = null;
        await Wait.UntilAsync(async () =>
        {
            delivery = await DeliveryOfAsync(app, imageId);
            return delivery.Status == status;
        }, timeout, $"status {status} of image {imageId} (now {delivery?.Status}, {delivery?.Attempts} attempts, {delivery?.LastError})");
        return delivery!;
    }

    /// <summary>The deliveries of an image (one per destination of its session).</summary>
    public static async Task<List<Server.Deliveries.Delivery>> DeliveriesOfAsync(TestApp app, Guid imageId)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
        return await db.Deliveries.AsNoTracking().Where(d => d.ImageId == imageId).ToListAsync();
    }

    /// <summary>Waits until the delivery is in one of <paramref name="statuses"/>.</summary>
    public static async Task<Server.Deliveries.Delivery> WaitForDeliveryAsync(TestApp app, Guid deliveryId, params string[] statuses)
    {
        Server.Deliveries.Delivery? delivery = null;
        await Wait.UntilAsync(async () =>
        {
            await using var scope = app.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
            delivery = await db.Deliveries.AsNoTracking().SingleAsync(d => d.Id == deliveryId);
            return statuses.Contains(delivery.Status);
        }, what: $"status {string.Join(" or ", statuses)} of delivery {deliveryId} (now {delivery?.Status}, {delivery?.Attempts} attempts, {delivery?.LastError})");
        return delivery!;
    }

    public static void Nudge(TestApp app) => app.Services.GetRequiredService<DeliveryNudge>().Poke();
}
