using Apertur.Server.Data;
using Apertur.Server.EventWebhooks;
using Apertur.Server.Hosting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Dashboard.Webhooks;

/// <summary>One event webhook: its secret (owners), its deliveries (paged) and their manual retry.</summary>
public sealed class WebhookPageModel(AperturDb db, EventWebhookActions actions, WebhookSecretsAtRest secrets) : ProjectPageModel
{
    public EventWebhook Webhook { get; private set; } = null!;

    /// <summary>The webhook's secret itself, for owners to reveal and copy.</summary>
    public string Secret { get; private set; } = "";

    public IReadOnlyList<WebhookDelivery> Deliveries { get; private set; } = [];

    public Pager Pager { get; private set; } = null!;

    public async Task<IActionResult> OnGetAsync(Guid webhookId, string? page, CancellationToken ct)
    {
        if (await FindAsync(webhookId, ct) is not { } webhook)
        {
            return NotFoundPage();
        }
        Webhook = webhook;
        Secret = IsOwner ? secrets.Reveal(webhook.ProtectedSecret) : "";
        var number = Pager.Number(page);
        var query = db.WebhookDeliveries.AsNoTracking().Where(d => d.WebhookId == webhook.Id);
        var total = await query.CountAsync(ct);
        Deliveries = await query.OrderByDescending(d => d.CreatedAt).ThenByDescending(d => d.Id)
            .Skip((number - 1) * Pager.PageSize).Take(Pager.PageSize).ToListAsync(ct);
        Pager = Pager.For(Request, number, total);
        return Page();
    }

    public async Task<IActionResult> OnPostRetryAsync(Guid webhookId, Guid deliveryId, CancellationToken ct)
    {
        if (await FindAsync(webhookId, ct) is not { } webhook)
        {
            return NotFoundPage();
        }
        string? message = null;
        Notice = await TryAsync(async () => message = await actions.RetryAsync(webhook, deliveryId, ct)) ? message : Error;
        return Redirect(DashboardRoutes.Webhook(Project.Id, webhookId));
    }

    private Task<EventWebhook?> FindAsync(Guid webhookId, CancellationToken ct) =>
        db.EventWebhooks.AsNoTracking().FirstOrDefaultAsync(w => w.Id == webhookId && w.ProjectId == Project.Id, ct);
}
