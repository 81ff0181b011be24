using Apertur.Server.Data;
using Apertur.Server.Hosting;
using Apertur.Server.Queues;
using Apertur.Server.Telemetry;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Apertur.Server.EventWebhooks;

/// <summary>
/// Drains the event outbox on the one lease loop (<see cref="LeaseWorker{TWork, TOptions}"/>): sends each claimed
/// delivery through <see cref="EventWebhookSender"/>, and records the outcome under the lease: 2xx → <c>sent</c> and the
/// webhook's failure count back to 0; a failure → <c>retrying</c> at the webhook's next interval, or <c>failed</c> once
/// <c>maxRetries</c> retries are spent (410 and refused connections at once), which counts one consecutive failure and
/// disables the webhook at <c>disableAfterFailures</c>. Deliveries of an inactive webhook fail without being sent. On
/// shutdown an attempt in flight is cancelled and its row left to its lease, which expires.
/// </summary>
public sealed partial class EventDeliveryWorker(IServiceScopeFactory scopes, EventDeliveryNudge nudge, TimeProvider time,
    IOptions<EventWebhookOptions> options, IOptions<WorkersOptions> workers, AperturMetrics metrics, ILogger<EventDeliveryWorker> logger)
    : LeaseWorker<Guid, EventWebhookOptions>(scopes, nudge, time, options, workers, logger)
{
    /// <summary>
    /// The event outbox as a lease table: <c>retrying</c> rows whose time came and that no live lease holds get the
    /// claim's lease (the status stays <c>retrying</c> until the outcome is recorded).
    /// </summary>
    public static readonly LeaseTable Outbox = new(
        Table: "webhook_deliveries",
        Due: "status = 'retrying' AND next_retry_at <= @now AND (lease_expires_at IS NULL OR lease_expires_at <= @now)",
        OrderBy: "next_retry_at",
        Claim: "lease_token = @token, lease_expires_at = @until");

    protected override LeaseTable Table => Outbox;

    protected override string Name => "event deliveries";

    protected override Task<IReadOnlyList<Guid>> LoadAsync(IServiceProvider scope, LeaseClaim claim) => Task.FromResult(claim.Ids);

    protected override Task RunAsync(Guid deliveryId, Guid leaseToken, CancellationToken stopping) => AttemptAsync(deliveryId, leaseToken, stopping);

    private async Task AttemptAsync(Guid deliveryId, Guid lease, CancellationToken ct)
    {
        await using var scope = Scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
        var row = await db.WebhookDeliveries.AsNoTracking()
            .Where(d => d.Id == deliveryId && d.LeaseToken == lease)
            .Join(db.EventWebhooks, d => d.WebhookId, w => w.Id, (d, w) => new { Delivery = d, Webhook = w })
            .Join(db.EventLogs, x => x.Delivery.EventLogId, l => l.Id, (x, l) => new { x.Delivery, x.Webhook, l.Payload })
            .FirstOrDefaultAsync(ct);
        if (row is null)
        {
            return;
        }
        var (delivery, webhook) = (row.Delivery, row.Webhook);

        if (!webhook.IsActive)
        {
            var skipped = new SendOutcome(false, true, null, null, 0, "Not sent: the webhook is inactive. Re-activate it, then retry this delivery.", null);
            await RecordAsync(db, delivery, webhook, lease, skipped, delivery.Attempts, sent: false);
            return;
        }
        var outcome = await scope.ServiceProvider.GetRequiredService<EventWebhookSender>().SendAsync(webhook, delivery.Id, row.Payload, ct);
        // Once sent, the outcome is recorded even while shutting down: a lost record would mean a duplicate later.
        await RecordAsync(db, delivery, webhook, lease, outcome, delivery.Attempts + 1, sent: true);
    }

    private async Task RecordAsync(AperturDb db, WebhookDelivery delivery, EventWebhook webhook, Guid lease, SendOutcome outcome, int attempts, bool sent)
    {
        var ct = CancellationToken.None;
        var now = Iso.Millis(Time.GetUtcNow());
        var next = outcome.Success || !sent ? null
            : EventRetryPolicy.Next(webhook.MaxRetries, webhook.RetryIntervals, attempts, outcome.Permanent, outcome.RetryAfter, now);
        var status = outcome.Success ? WebhookDeliveryStatus.Sent : next is null ? WebhookDeliveryStatus.Failed : WebhookDeliveryStatus.Retrying;
        metrics.EventWebhookDelivery(sent ? status : "skipped");

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var updated = await db.WebhookDeliveries.Where(d => d.Id == delivery.Id && d.LeaseToken == lease).ExecuteUpdateAsync(s => s
            .SetProperty(d => d.Status, status)
            .SetProperty(d => d.Attempts, attempts)
            .SetProperty(d => d.ResponseCode, outcome.StatusCode)
            .SetProperty(d => d.ResponseBody, outcome.ResponseBody)
            .SetProperty(d => d.DurationMs, outcome.DurationMs)
            .SetProperty(d => d.LastError, outcome.Error)
            .SetProperty(d => d.NextRetryAt, next)
            .SetProperty(d => d.LeaseToken, (Guid?)null)
            .SetProperty(d => d.LeaseExpiresAt, (DateTimeOffset?)null)
            .SetProperty(d => d.UpdatedAt, now), ct);
        if (updated == 0)
        {
            LogLeaseLost(Logger, delivery.Id);
            return;
        }
        if (sent && outcome.Success)
        {
            await db.EventWebhooks.Where(w => w.Id == webhook.Id && w.ConsecutiveFailures != 0)
                .ExecuteUpdateAsync(s => s.SetProperty(w => w.ConsecutiveFailures, 0), ct);
        }
        else if (sent && status == WebhookDeliveryStatus.Failed)
        {
            DateTimeOffset? disabledAt = now;
            await db.EventWebhooks.Where(w => w.Id == webhook.Id).ExecuteUpdateAsync(s => s
                .SetProperty(w => w.ConsecutiveFailures, w => w.ConsecutiveFailures + 1)
                .SetProperty(w => w.DisabledAt, w => w.IsActive && w.ConsecutiveFailures + 1 >= w.DisableAfterFailures ? disabledAt : w.DisabledAt)
                .SetProperty(w => w.UpdatedAt, w => w.IsActive && w.ConsecutiveFailures + 1 >= w.DisableAfterFailures ? now : w.UpdatedAt)
                .SetProperty(w => w.IsActive, w => w.IsActive && w.ConsecutiveFailures + 1 < w.DisableAfterFailures), ct);
        }
        await tx.CommitAsync(ct);

        switch (status)
        {
            case WebhookDeliveryStatus.Sent:
                LogSent(Logger, delivery.Id, webhook.Id, delivery.Topic, attempts, outcome.StatusCode ?? 0);
                break;
            case WebhookDeliveryStatus.Retrying:
                LogRetrying(Logger, delivery.Id, webhook.Id, attempts, outcome.Error, next!.Value);
                break;
            default:
                LogFailed(Logger, delivery.Id, webhook.Id, attempts, outcome.Error);
                if (sent && webhook.ConsecutiveFailures + 1 >= webhook.DisableAfterFailures && webhook.IsActive)
                {
                    LogDisabled(Logger, webhook.Id, webhook.DisableAfterFailures);
                }
                break;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event delivery {DeliveryId}: lease lost before the outcome was recorded")]
    private static partial void LogLeaseLost(ILogger logger, Guid deliveryId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event delivery {DeliveryId} to webhook {WebhookId} ({Topic}) sent on attempt {Attempt}: {StatusCode}")]
    private static partial void LogSent(ILogger logger, Guid deliveryId, Guid webhookId, string topic, int attempt, int statusCode);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event delivery {DeliveryId} to webhook {WebhookId} attempt {Attempt} failed ({Error}); next at {NextRetryAt}")]
    private static partial void LogRetrying(ILogger logger, Guid deliveryId, Guid webhookId, int attempt, string? error, DateTimeOffset nextRetryAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event delivery {DeliveryId} to webhook {WebhookId} failed after {Attempt} attempts: {Error}")]
    private static partial void LogFailed(ILogger logger, Guid deliveryId, Guid webhookId, int attempt, string? error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event webhook {WebhookId} disabled after {Failures} consecutive failed deliveries")]
    private static partial void LogDisabled(ILogger logger, Guid webhookId, int failures);
}
