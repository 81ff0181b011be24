using Apertur.Server.Data;
using Apertur.Server.Hosting;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.EventWebhooks;

/// <summary>
/// A project's event webhooks (docs/api.md "Event webhooks"): list, create, find, change, delete and the deliveries log.
/// The test send and the manual retry are <see cref="EventWebhookActions"/>'s. Another project's webhook, or any id
/// that is not a UUID, is 404.
/// </summary>
public sealed class EventWebhookService(AperturDb db, WebhookSecretsAtRest secrets, TimeProvider time)
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 100;

    public Task<List<EventWebhook>> ListAsync(Guid projectId, CancellationToken ct) =>
        db.EventWebhooks.AsNoTracking().Where(w => w.ProjectId == projectId).OrderBy(w => w.CreatedAt).ThenBy(w => w.Id).ToListAsync(ct);

    /// <summary>A new webhook from <paramref name="body"/> (checked by <see cref="EventWebhookRequests.Create"/>), stored.</summary>
    public async Task<EventWebhook> CreateAsync(Guid projectId, JsonBody body, CancellationToken ct)
    {
        var webhook = EventWebhookRequests.Create(body, projectId, Ids.New(time), Iso.Millis(time.GetUtcNow()), secrets);
        db.EventWebhooks.Add(webhook);
        await db.SaveChangesAsync(ct);
        return webhook;
    }

    /// <summary>Applies <paramref name="body"/> to the webhook found first (an unknown one is 404 whatever the body), saved.</summary>
    public async Task<EventWebhook> PatchAsync(EventWebhook webhook, JsonBody body, CancellationToken ct)
    {
        EventWebhookRequests.Patch(webhook, body, Iso.Millis(time.GetUtcNow()));
        await db.SaveChangesAsync(ct);
        return webhook;
    }

    /// <summary>Deletes the webhook; its deliveries go with it (ON DELETE CASCADE).</summary>
    public async Task DeleteAsync(Guid projectId, string webhookId, CancellationToken ct)
    {
        var webhook = await FindAsync(projectId, webhookId, ct);
        await db.EventWebhooks.Where(w => w.Id == webhook.Id).ExecuteDeleteAsync(ct);
    }

    /// <summary>One page of the webhook's deliveries, newest first; 400 for a page below 1 or a limit outside 1-<see cref="MaxLimit"/>.</summary>
    public async Task<(List<WebhookDelivery> Rows, int Total, int Page, int Limit)> DeliveriesAsync(Guid projectId, string webhookId, int? page, int? limit,
        CancellationToken ct)
    {
        var webhook = await FindAsync(projectId, webhookId, ct);
        if (page is < 1)
        {
            throw ApiException.BadRequest("'page' must be 1 or more.");
        }
        if (limit is < 1 or > MaxLimit)
        {
            throw ApiException.BadRequest($"'limit' must be between 1 and {MaxLimit}.");
        }
        var (number, size) = (page ?? 1, limit ?? DefaultLimit);
        var query = db.WebhookDeliveries.AsNoTracking().Where(d => d.WebhookId == webhook.Id);
        var total = await query.CountAsync(ct);
        var rows = await OffsetPage.ReadAsync(query.OrderByDescending(d => d.CreatedAt).ThenByDescending(d => d.Id),
            query.OrderBy(d => d.CreatedAt).ThenBy(d => d.Id), total, number, size, ct);
        return (rows, total, number, size);
    }

    /// <summary>The project's webhook (404 otherwise); <paramref name="track"/> to change it.</summary>
    public async Task<EventWebhook> FindAsync(Guid projectId, string webhookId, CancellationToken ct, bool track = false)
    {
        var id = Ids.ParseOrNotFound(webhookId, "Webhook");
        var query = track ? db.EventWebhooks : db.EventWebhooks.AsNoTracking();
        return await query.FirstOrDefaultAsync(w => w.Id == id && w.ProjectId == projectId, ct)
            ?? throw ApiException.NotFound("Webhook not found.", "WEBHOOK_NOT_FOUND");
    }
}
