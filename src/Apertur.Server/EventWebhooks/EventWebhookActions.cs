using Apertur.Server.Data;
using Apertur.Server.Hosting;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.EventWebhooks;

/// <summary>What the event webhooks API and the dashboard both do beyond CRUD: the synchronous test send and the manual retry.</summary>
public sealed class EventWebhookActions(AperturDb db, TimeProvider time, EventWebhookSender sender, EventDeliveryNudge nudge)
{
    /// <summary>Sends a <c>webhook.test</c> event now, signed like any other, and says what happened.</summary>
    public async Task<(bool Success, string Message)> SendTestAsync(EventWebhook webhook, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(webhook);
        var now = Iso.Millis(time.GetUtcNow());
        var data = new { webhook_id = webhook.Id.ToString(), message = "This is a test event from Apertur.", test = true };
        var payload = EventPayload.Serialize(EventTopics.WebhookTest, webhook.ProjectId, data, now);
        var outcome = await sender.SendAsync(webhook, Ids.New(time), payload, ct);
        return outcome.Success
            ? (true, $"Test event delivered: receiver answered {outcome.StatusCode}")
            : (false, $"Test event failed: {outcome.Error}");
    }

    /// <summary>
    /// Queues the delivery for an attempt now, whatever its status. Attempts are kept: the count stays the true number
    /// of sends, and the retry rule is unchanged, so a delivery that already used its retries gets this one attempt and
    /// fails again if it fails. The webhook's failure count changes only with the outcome.
    /// </summary>
    public async Task<string> RetryAsync(EventWebhook webhook, Guid deliveryId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(webhook);
        var delivery = await db.WebhookDeliveries.AsNoTracking().FirstOrDefaultAsync(d => d.Id == deliveryId && d.WebhookId == webhook.Id, ct)
            ?? throw ApiException.NotFound("Delivery not found.", "DELIVERY_NOT_FOUND");
        if (!webhook.IsActive)
        {
            throw ApiException.BadRequest("This webhook is inactive: re-activate it (PATCH isActive: true) before retrying its deliveries.", "WEBHOOK_INACTIVE");
        }
        var now = Iso.Millis(time.GetUtcNow());
        DateTimeOffset? due = now;
        // A delivery on its way right now (a live lease) is left to finish.
        var queued = await db.WebhookDeliveries
            .Where(d => d.Id == delivery.Id && (d.LeaseExpiresAt == null || d.LeaseExpiresAt <= now))
            .ExecuteUpdateAsync(s => s
                .SetProperty(d => d.Status, WebhookDeliveryStatus.Retrying)
                .SetProperty(d => d.NextRetryAt, due)
                .SetProperty(d => d.LeaseToken, (Guid?)null)
                .SetProperty(d => d.LeaseExpiresAt, (DateTimeOffset?)null)
                .SetProperty(d => d.UpdatedAt, now), ct);
        if (queued == 0)
        {
            return "Delivery is being sent right now; nothing to re-queue.";
        }
        nudge.Poke();
        return $"Delivery re-queued: attempt {delivery.Attempts + 1} will be sent shortly.";
    }
}
