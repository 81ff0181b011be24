using System.Text.Json;
using Apertur.Server.Data;
using Apertur.Server.EventWebhooks;
using Apertur.Server.Hosting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Dashboard.Webhooks;

/// <summary>
/// Event webhooks (owners): create with topics (checked by the API's <see cref="EventWebhookRequests"/>), test in place,
/// enable, disable, delete; each one's page shows its secret and deliveries with retry.
/// </summary>
public sealed class WebhooksPageModel(AperturDb db, EventWebhookActions actions, WebhookSecretsAtRest secrets, TimeProvider time) : ProjectPageModel
{
    public IReadOnlyList<EventWebhook> Rows { get; private set; } = [];

    public Dictionary<Guid, (bool Success, string Message)> TestResults { get; } = [];

    public async Task OnGetAsync(CancellationToken ct) => await LoadAsync(ct);

    public async Task<IActionResult> OnPostCreateAsync(string? url, string? signatureMethod, CancellationToken ct)
    {
        var topics = Request.Form["topics"].OfType<string>().ToArray();
        var body = JsonBody.FromElement(JsonSerializer.SerializeToElement(new Dictionary<string, object?>
        {
            ["url"] = url?.Trim(),
            ["topics"] = topics,
            ["signatureMethod"] = signatureMethod,
        }));
        EventWebhook? webhook = null;
        if (!await TryAsync(async () =>
            {
                webhook = EventWebhookRequests.Create(body, Project.Id, Ids.New(time), Iso.Millis(time.GetUtcNow()), secrets);
                db.EventWebhooks.Add(webhook);
                await db.SaveChangesAsync(ct);
            }))
        {
            await LoadAsync(ct);
            return Page();
        }
        Notice = "Event webhook created. Its secret is on its page.";
        return Redirect(DashboardRoutes.Webhook(Project.Id, webhook!.Id));
    }

    public async Task<IActionResult> OnPostTestAsync(Guid id, CancellationToken ct)
    {
        var webhook = await db.EventWebhooks.AsNoTracking().FirstOrDefaultAsync(w => w.Id == id && w.ProjectId == Project.Id, ct);
        if (webhook is null)
        {
            return NotFoundPage();
        }
        var result = await actions.SendTestAsync(webhook, ct);
        if (IsFragmentRequest)
        {
            return Content($"<p class=\"{(result.Success ? "notice" : "error")}\" role=\"status\">{System.Net.WebUtility.HtmlEncode(result.Message)}</p>", "text/html");
        }
        TestResults[id] = result;
        await LoadAsync(ct);
        return Page();
    }

    public async Task<IActionResult> OnPostActiveAsync(Guid id, bool active, CancellationToken ct)
    {
        var webhook = await db.EventWebhooks.FirstOrDefaultAsync(w => w.Id == id && w.ProjectId == Project.Id, ct);
        if (webhook is null)
        {
            return NotFoundPage();
        }
        EventWebhookRequests.Patch(webhook, JsonBody.FromElement(JsonSerializer.SerializeToElement(new { isActive = active })), Iso.Millis(time.GetUtcNow()));
        await db.SaveChangesAsync(ct);
        Notice = active ? "Event webhook enabled." : "Event webhook disabled.";
        return Redirect(DashboardRoutes.Webhooks(Project.Id));
    }

    public async Task<IActionResult> OnPostDeleteAsync(Guid id, CancellationToken ct)
    {
        await db.EventWebhooks.Where(w => w.Id == id && w.ProjectId == Project.Id).ExecuteDeleteAsync(ct);
        Notice = "Event webhook deleted.";
        return Redirect(DashboardRoutes.Webhooks(Project.Id));
    }

    private async Task LoadAsync(CancellationToken ct) =>
        Rows = await db.EventWebhooks.AsNoTracking().Where(w => w.ProjectId == Project.Id).OrderBy(w => w.CreatedAt).ThenBy(w => w.Id).ToListAsync(ct);
}
